import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../src/core/canonical.js';
import { buildBundle, EVIDENCE_MEDIA_TYPE } from '../../src/evidence/bundle.js';
import { envelopePayload } from '../../src/evidence/dsse.js';
import { EvidenceError } from '../../src/evidence/errors.js';
import {
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
} from '../../src/evidence/statement.js';
import type { ApprovalChainPredicate, Statement } from '../../src/evidence/statement.js';
import { parseCheckpoint } from '../../src/log/checkpoint.js';
import { buildFixture, newKey } from './fixture.js';
import type { Fixture } from './fixture.js';

let fx: Fixture;
let statement: Statement<ApprovalChainPredicate>;
beforeAll(async () => {
  fx = await buildFixture();
  const bytes = envelopePayload(fx.bundle.attestation)!;
  statement = JSON.parse(bytes.toString('utf8')) as Statement<ApprovalChainPredicate>;
});

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EvidenceError);
    expect((e as EvidenceError).code).toBe('EVIDENCE_INPUT_INVALID');
    return;
  }
  expect.fail('expected EVIDENCE_INPUT_INVALID');
}

describe('buildBundle', () => {
  describe('when given a verified checkpoint and canonical leaves', () => {
    it('packs the inputs under the v1 media type', () => {
      expect(fx.bundle.mediaType).toBe(EVIDENCE_MEDIA_TYPE);
      expect(fx.bundle.requestId).toBe(fx.requestId);
      expect(fx.bundle.entries).toEqual(fx.input.entries);
      expect(fx.bundle.warrant).toBe(fx.input.warrant);
    });

    it('attests an in-toto Statement v1 whose subject is the request id', () => {
      expect(fx.bundle.attestation.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
      expect(statement._type).toBe(STATEMENT_TYPE);
      expect(statement.predicateType).toBe(PREDICATE_TYPE);
      expect(statement.subject).toEqual([
        { name: fx.requestId, digest: { sha256: fx.requestId.slice('sha256:'.length) } },
      ]);
    });

    it('signs the canonical JSON bytes of the statement', () => {
      const bytes = envelopePayload(fx.bundle.attestation)!;
      expect(bytes.toString('utf8')).toBe(canonicalJson(statement));
    });

    it('summarises the chain in the predicate', () => {
      const cp = parseCheckpoint(
        fx.bundle.checkpoint.slice(0, fx.bundle.checkpoint.indexOf('\n\n') + 1),
      );
      const p = statement.predicate;
      expect(p).toMatchObject({
        requestId: fx.requestId,
        rule: 'prod-db',
        requester: 'alice',
        subject: 'svc:payments-api',
        environment: 'prod',
        warrantId: fx.warrantId,
        approvers: [
          { id: 'bob', at: '2026-03-01T12:02:00.000Z' },
          { id: 'carol', at: '2026-03-01T12:03:00.000Z' },
        ],
        redemptions: [
          {
            use: 1,
            executor: 'deploy-eu',
            action: {
              resource: 'db/orders',
              permission: 'write',
              environment: 'prod',
              target: 'db-eu-1',
            },
            at: '2026-03-01T12:10:00.000Z',
          },
        ],
        denials: [{ code: 'EXECUTOR_MISMATCH', at: '2026-03-01T12:12:00.000Z' }],
        checkpoint: { origin: cp.origin, size: cp.size, rootHash: cp.rootHash.toString('base64') },
        keys: { log: fx.logVerifierKey, jwks: digestOf(fx.jwks) },
      });
      expect(p.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(p).not.toHaveProperty('revoked');
      expect(p.entries.map((e) => [e.index, e.type])).toEqual(
        fx.bundle.entries.map((e) => [e.index, (JSON.parse(e.leaf) as { type: string }).type]),
      );
      expect(p.entries.every((e) => /^[0-9a-f]{64}$/.test(e.leafHash))).toBe(true);
    });
  });

  describe('when given something it cannot attest to', () => {
    it('refuses a request id that is not sha256:<hex>', () => {
      expectInvalid(() => buildBundle({ ...fx.input, requestId: 'req-1' }, fx.key.signer));
    });

    it('refuses a checkpoint that does not verify under the log key', async () => {
      const other = await newKey();
      expectInvalid(() =>
        buildBundle({ ...fx.input, logVerifierKey: other.noteSigner.verifierKey() }, fx.key.signer),
      );
    });

    it('refuses a leaf that is not a canonical log event', () => {
      const entries = [{ ...fx.input.entries[0]!, leaf: '{"v":1}' }];
      expectInvalid(() => buildBundle({ ...fx.input, entries }, fx.key.signer));
    });
  });
});
