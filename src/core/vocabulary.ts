/**
 * The shared vocabulary of the chain: the words that more than one step uses to name the
 * same thing (an NHI kind, a request action, who may execute, a target). Kept here so
 * that each domain area depends on core alone, never sideways on another area.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ClaimMatcherSchema } from './claim-matcher.js';
import { CountersignError } from './errors.js';
import type { NhiId } from './ids.js';
import {
  brandedString,
  literals,
  PrincipalIdSchema,
  Sha256Schema,
  Strict,
  type Frozen,
} from './schema.js';

/** - `INVALID_NHI_ID`: an NHI id is not `prefix:name`. */
export type VocabularyErrorCode = 'INVALID_NHI_ID';

export const NHI_KINDS = [
  'service_account',
  'api_key',
  'secret',
  'workload',
  'ai_agent',
  'pipeline',
] as const;
export type NhiKind = (typeof NHI_KINDS)[number];

/** `kind:name`, e.g. `svc:payments-api`, `agent:ops-bot`, `pipeline:deploy-eu`. */
const NHI_ID = /^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9._@/-]{1,200}$/;

/** An NHI id as signed claims carry it (`sub`): only ids `assertNhiId` accepts are ever issued. */
export const NhiIdSchema = brandedString<NhiId>({ pattern: NHI_ID.source });

export function assertNhiId(id: string): asserts id is NhiId {
  if (!NHI_ID.test(id)) {
    throw new CountersignError<VocabularyErrorCode>(
      'INVALID_NHI_ID',
      'NHI id must look like prefix:name, e.g. svc:payments-api',
    );
  }
}

/** `tool_call`: an AI agent's call of one MCP tool (the request names it: see tool-binding.ts). */
export const REQUEST_ACTIONS = [
  'grant',
  'rotate',
  'revoke',
  'retrieve_secret',
  'custom',
  'tool_call',
] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];
export const RequestActionSchema = literals(REQUEST_ACTIONS);

/**
 * The names a request gives its environment, its targets, the NHI's owner and a bound
 * principal, and that a redemption's action repeats: 1–128 characters of a safe set.
 */
export const NameSchema = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9._:@-]+$',
});

/** The targets a request names (none: see {@link UNTARGETED}). */
export const TargetsSchema = Type.Array(NameSchema, { maxItems: 256 });

export const ExecutorBindingSchema = Type.Union([
  Type.Object({ kind: Type.Literal('principal'), principal: PrincipalIdSchema }, Strict),
  Type.Object({ kind: Type.Literal('claims'), matcher: ClaimMatcherSchema }, Strict),
]);

/**
 * Who may redeem the warrant: one principal by id, or any workload whose verified
 * token comes from `matcher.issuer` and satisfies every claim condition (for
 * example a GitHub Actions job of one repository and environment).
 */
export type ExecutorBinding = Frozen<Static<typeof ExecutorBindingSchema>>;

/**
 * The one target of a warrant that names none. Redemption accepts such a warrant
 * without a target; its fulfilments and the reconciler's per-target checks use
 * this literal, so `default` is the only target an untargeted warrant accepts.
 */
export const UNTARGETED = 'default';

/** The targets a fulfilment may name: the warrant's targets, or `[UNTARGETED]`. */
export function approvedTargets(targets: readonly string[]): readonly string[] {
  return targets.length === 0 ? [UNTARGETED] : targets;
}

/** Target names: 1–128 characters, no spaces and no `|` (the finding-key separator). */
export const TARGET_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$/;

export const IdentityProofSchema = Type.Union([
  Type.Object({ via: Type.Literal('api_token') }, Strict),
  Type.Object(
    {
      via: Type.Literal('oidc'),
      issuer: Type.String(),
      subject: Type.String(),
      auth_time: Type.Union([Type.Number(), Type.Null()]),
      token_digest: Sha256Schema,
    },
    Strict,
  ),
]);

/**
 * What the log records about how a caller proved who it is, so that "who approved"
 * and "who redeemed" can be shown later without keeping any credential.
 *
 * - `api_token`: a static bearer token; the principal id is the whole proof.
 * - `oidc`: a verified federated token: its issuer, the subject it names, when the
 *   person signed in (`auth_time`, OIDC Core §2; null when the token has none) and
 *   `token_digest`, the SHA-256 of the token's `jti` or, failing that, of the token.
 *   Given the IdP's records (or the token itself), the digest ties the event to one
 *   sign-in; it reveals nothing usable to replay.
 *
 * Field names follow JWT claim naming, as receipts carry this object as a claim.
 */
export type IdentityProof = Frozen<Static<typeof IdentityProofSchema>>;
