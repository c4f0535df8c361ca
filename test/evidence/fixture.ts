/**
 * A realistic evidence bundle built without a server: an Ed25519 key ring of one key
 * (signing warrants, the checkpoint note and the attestation, as `keys/keyring.ts`
 * does), the events of one approved and redeemed request interleaved with another
 * request's events in an in-memory RFC 9162 tree, a signed C2SP checkpoint, and
 * `buildBundle`.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign, exportJWK } from 'jose';
import type { JWK } from 'jose';
import { canonicalJson, digestOf } from '../../src/core/canonical.js';
import { sha256Hex } from '../../src/core/crypto.js';
import type { DecisionId, NhiId, PrincipalId, RequestId, WarrantId } from '../../src/core/ids.js';
import type { Decision } from '../../src/approval/decision.js';
import { buildBundle } from '../../src/evidence/bundle.js';
import type { BundleInput, EvidenceBundle, EvidenceEntry } from '../../src/evidence/bundle.js';
import type { DsseSigner } from '../../src/evidence/dsse.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { leafHash } from '../../src/log/hash.js';
import { NoteSigner } from '../../src/log/note.js';
import {
  appendBatchCompute,
  appendBatchPlan,
  inclusionCompute,
  inclusionPlan,
} from '../../src/log/tree.js';
import { nodeKey } from '../../src/log/nodes.js';
import type { ReceiptClaims } from '../../src/redemption/receipt.js';
import type { RedemptionAction } from '../../src/redemption/redemption.js';
import type { RequestBody } from '../../src/request/request.js';
import { windowAt } from '../../src/request/window.js';
import { WARRANT_TYP, warrantClaims } from '../../src/warrant/warrant.js';
import type { WarrantClaims } from '../../src/warrant/warrant.js';

export const ORIGIN = 'countersign.example.com/log';
export const T0 = '2026-03-01T12:00:00.000Z';
const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const p = (id: string): PrincipalId => id as PrincipalId;

/** An event as it is logged; `type` is open so later event kinds can be added. */
export interface FixtureEvent {
  readonly v: 1;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly links: { readonly request?: string; readonly warrant?: string; readonly nhi?: string };
  readonly data: Record<string, unknown>;
}

/** An Ed25519 key as the key ring holds it: public JWK with a thumbprint kid. */
export interface FixtureKey {
  readonly kid: string;
  readonly jwk: JWK;
  readonly privateKey: KeyObject;
  readonly signer: DsseSigner;
  readonly noteSigner: NoteSigner;
}

export async function newKey(origin = ORIGIN): Promise<FixtureKey> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported);
  const jwk: JWK = { ...exported, kid, alg: 'EdDSA', use: 'sig' };
  return {
    kid,
    jwk,
    privateKey,
    signer: { keyid: kid, sign: (data) => sign(null, data, privateKey) },
    noteSigner: new NoteSigner(origin, privateKey),
  };
}

export async function signWarrant(
  claims: object,
  key: FixtureKey,
  typ = WARRANT_TYP,
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ })
    .sign(key.privateKey);
}

export interface FixtureOptions {
  /** Extra events of this request, appended after the redemptions (e.g. `fulfilment.*`). */
  readonly extra?: (ids: { requestId: string; warrantId: string }) => FixtureEvent[];
  readonly targets?: readonly string[];
  readonly requiredApprovals?: number;
  /** How many of bob and carol approve (default both). */
  readonly approvers?: 1 | 2;
}

export interface Fixture {
  readonly bundle: EvidenceBundle;
  /** The bundle as exported: compact JSON. */
  readonly text: string;
  readonly input: BundleInput;
  readonly key: FixtureKey;
  readonly logVerifierKey: string;
  readonly jwks: { keys: JWK[] };
  readonly requestId: string;
  readonly warrantId: string;
  readonly claims: WarrantClaims;
  /** Every leaf of the tree, by index; the request's entries are among them. */
  readonly leaves: readonly string[];
  /** The audit path of leaf `index` in the checkpointed tree, standard base64. */
  proof(index: number): string[];
  /** Builds and attests another bundle with the same key, overriding some inputs. */
  rebuild(over: Partial<BundleInput>): EvidenceBundle;
}

const payments = 'svc:payments-api' as NhiId;

export function requestBody(opts: FixtureOptions = {}): RequestBody {
  const ticket = 'INC-42';
  return {
    v: 1,
    requester: p('alice'),
    subject: payments,
    subjectKind: 'service_account',
    subjectOwner: 'olga',
    action: 'grant',
    scope: [{ resource: 'db/orders', permissions: ['read', 'write'] }],
    environment: 'prod',
    targets: [...(opts.targets ?? ['db-eu-1', 'db-eu-2'])],
    executor: { kind: 'principal', principal: p('deploy-eu') },
    notBefore: T0,
    notAfter: at(60),
    maxUses: 2,
    reason: 'hotfix for INC-42',
    ticket,
    createdAt: T0,
    pendingExpiresAt: at(60),
    nonce: 'n0nce',
    policy: {
      version: `sha256:${sha256Hex('policy v1')}`,
      rule: 'prod-db',
      requiredApprovals: opts.requiredApprovals ?? 2,
      approverGroups: ['dba', 'sre'],
      excludeOwner: true,
      requesterMayExecute: true,
    },
  };
}

function requestEvents(key: FixtureKey, opts: FixtureOptions) {
  const body = requestBody(opts);
  const requestId = digestOf(body) as RequestId;
  const warrantId = 'wrt_fixture0001' as WarrantId;
  const links = { request: requestId, nhi: payments };
  const wlinks = { ...links, warrant: warrantId };
  const policy = { policyVersion: body.policy.version, rule: body.policy.rule };
  const decision = (approver: string, minutes: number): Decision => ({
    id: `dec_${approver}` as DecisionId,
    requestId,
    requestDigest: requestId,
    approver: p(approver),
    decision: 'approve',
    reason: `ok from ${approver}`,
    at: at(minutes),
  });
  const decisions = [decision('bob', 2), decision('carol', 3)].slice(0, opts.approvers ?? 2);
  const claims = warrantClaims({
    issuer: 'https://countersign.example.com',
    id: warrantId,
    requestId,
    body,
    window: windowAt(body, new Date(at(3))),
    approvals: decisions.map((d) => d.id),
    now: new Date(at(3)),
  });
  const action: RedemptionAction = {
    resource: 'db/orders',
    permission: 'write',
    environment: 'prod',
    target: 'db-eu-1',
  };
  const receipt: ReceiptClaims = {
    iss: claims.iss,
    jti: 'rcp_fixture0001' as ReceiptClaims['jti'],
    iat: Math.floor(Date.parse(at(10)) / 1000),
    warrant_id: warrantId,
    request_id: requestId,
    sub: payments,
    use: 1,
    max_uses: 2,
    action,
    executor: p('deploy-eu'),
    executor_identity: { via: 'api_token' },
  };
  const ev = (
    type: string,
    when: string,
    actor: string,
    l: FixtureEvent['links'],
    data: Record<string, unknown>,
  ): FixtureEvent => ({ v: 1, type, at: when, actor, links: l, data });
  const events: FixtureEvent[] = [
    ev('request.created', at(0), 'alice', links, { body }),
    ...decisions.map((d) =>
      ev('decision.approved', d.at, d.approver, { request: requestId }, { decision: d, ...policy }),
    ),
    ev('warrant.issued', at(3), 'countersign', wlinks, { claims, kid: key.kid }),
    ev('redemption.allowed', at(10), 'deploy-eu', wlinks, {
      receipt,
      receiptSha256: sha256Hex('receipt'),
      kid: key.kid,
    }),
    ev('redemption.denied', at(12), 'mallory', wlinks, {
      code: 'EXECUTOR_MISMATCH',
      action,
      tokenSha256: sha256Hex('token'),
      claimedWarrant: warrantId,
    }),
    ...(opts.extra?.({ requestId, warrantId }) ?? []),
  ];
  return { requestId, warrantId, claims, events };
}

/** Another request's event (a withdrawal), to interleave with ours in the log. */
function noise(n: number): string {
  const other = `sha256:${sha256Hex(`other ${n}`)}`;
  return canonicalJson({
    v: 1,
    type: 'request.withdrawn',
    at: at(n),
    actor: 'dave',
    links: { request: other },
    data: { reason: `noise ${n}` },
  });
}

function expectEmpty(plan: readonly unknown[]): void {
  if (plan.length !== 0) throw new Error('a fresh tree needs no stored nodes');
}

/** Builds the fixture: the request's events sit at odd indices among noise leaves. */
export async function buildFixture(opts: FixtureOptions = {}): Promise<Fixture> {
  const key = await newKey();
  const { requestId, warrantId, claims, events } = requestEvents(key, opts);
  const leaves: string[] = [noise(0)];
  const ours: number[] = [];
  for (const e of events) {
    ours.push(leaves.length);
    leaves.push(canonicalJson(e));
    leaves.push(noise(leaves.length));
  }
  leaves.push(noise(leaves.length), noise(leaves.length + 1));
  const hashes = leaves.map((l) => leafHash(Buffer.from(l, 'utf8')));
  // A fresh tree: appendBatchPlan(0, n) needs no stored nodes.
  expectEmpty(appendBatchPlan(0, hashes.length));
  const tree = appendBatchCompute(0, hashes, new Map());
  const store = new Map(tree.nodes.map((n) => [nodeKey(n.id), n.hash]));
  const size = tree.size;
  const proof = (index: number): string[] => {
    const read = new Map(
      inclusionPlan(index, size).map((id) => [nodeKey(id), store.get(nodeKey(id))!]),
    );
    return inclusionCompute(index, size, read).map((h) => h.toString('base64'));
  };
  const checkpoint = signCheckpoint({ origin: ORIGIN, size, rootHash: tree.root }, key.noteSigner);
  const logVerifierKey = key.noteSigner.verifierKey();
  const jwks = { keys: [key.jwk] };
  const entries: EvidenceEntry[] = ours.map((index) => ({
    index,
    leaf: leaves[index]!,
    proof: proof(index),
  }));
  const warrant = await signWarrant(claims, key);
  const input: BundleInput = { requestId, checkpoint, logVerifierKey, jwks, warrant, entries };
  const bundle = buildBundle(input, key.signer);
  return {
    bundle,
    text: JSON.stringify(bundle),
    input,
    key,
    logVerifierKey,
    jwks,
    requestId,
    warrantId,
    claims,
    leaves,
    proof,
    rebuild: (over) => buildBundle({ ...input, ...over }, key.signer),
  };
}
