import { Type } from '@sinclair/typebox';
import { ClaimMatcherSchema } from '../core/claim-matcher.js';
import { literals, RequestIdSchema, Strict } from '../core/schema.js';
import { ResourceSchema, ScopeSchema } from '../core/scope.js';
import { ToolBindingSchema } from '../core/tool-binding.js';
import {
  NameSchema as Name,
  NHI_KINDS,
  RequestActionSchema,
  TargetsSchema,
} from '../core/vocabulary.js';
import { RedemptionActionSchema } from '../redemption/redemption.js';
import { REQUEST_STATES } from '../request/request.js';
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const Instant = Type.String({ maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}T' });

export const RequestIdParam = Type.Object({ id: RequestIdSchema }, Strict);
export const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) }, Strict);

export const NhiBody = Type.Object(
  {
    id: Type.String({ minLength: 3, maxLength: 233 }),
    kind: literals(NHI_KINDS),
    owner: Name,
    description: Type.Optional(Text(1000)),
  },
  Strict,
);

export const NhiOwnerBody = Type.Object({ owner: Name, reason: Text(2000) }, Strict);

/**
 * Who may redeem: one principal by id, or a workload token matcher (issuer plus claim
 * conditions: exact strings, or `{pattern}` globs). The request body names the binding
 * by its content; the service tags it (`ExecutorBindingSchema`) for the warrant.
 */
export const ExecutorSchema = Type.Union([
  Type.Object({ principal: Name }, Strict),
  ClaimMatcherSchema,
]);

export const CreateRequestBody = Type.Object(
  {
    subject: Type.String({ minLength: 3, maxLength: 233 }),
    action: RequestActionSchema,
    tool: Type.Optional(ToolBindingSchema),
    /** The connector that mints the credential at redemption (see `connectors` in the config). */
    connector: Type.Optional(Name),
    scope: ScopeSchema,
    environment: Name,
    targets: Type.Optional(TargetsSchema),
    executor: ExecutorSchema,
    notBefore: Type.Optional(Instant),
    notAfter: Type.Optional(Instant),
    duration: Type.Optional(Type.String({ maxLength: 32, pattern: '^(\\d+[smhd])+$' })),
    maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    reason: Text(2000),
    ticket: Type.Optional(Text(512)),
  },
  Strict,
);

export const DecisionBody = Type.Object(
  { decision: literals(['approve', 'deny'] as const), reason: Type.Optional(Text(2000)) },
  Strict,
);

export const ReasonBody = Type.Object({ reason: Text(2000) }, Strict);

export const RedemptionBody = Type.Object(
  {
    warrant: Type.String({ minLength: 1, maxLength: 16_384 }),
    action: RedemptionActionSchema,
    /** Check only: nothing is spent, signed or recorded. */
    dryRun: Type.Optional(Type.Boolean()),
    /** A retry with the same key by the same executor answers the first allowed redemption. */
    idempotencyKey: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:/-]+$' }),
    ),
  },
  Strict,
);

const Target = Type.String({ minLength: 1, maxLength: 128 });
const Fingerprint = Type.String({ maxLength: 200 });

/** An executor's report of what it did at one target, under the receipt it was given. */
export const FulfilmentBody = Type.Object(
  {
    receipt: Type.String({ minLength: 1, maxLength: 16_384 }),
    target: Target,
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
    phase: Type.Optional(Type.Union([Type.Literal('apply'), Type.Literal('revoke')])),
    fingerprint: Type.Optional(Fingerprint),
    detail: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  Strict,
);

const Fact = Type.Union([
  Type.Object({ kind: Type.Literal('secret_version'), fingerprint: Fingerprint }, Strict),
  Type.Object(
    {
      kind: Type.Literal('grant'),
      resource: ResourceSchema,
      permission: Target,
      present: Type.Boolean(),
    },
    Strict,
  ),
]);

/** A collector's batch of what it saw at targets, recorded all or nothing. */
export const ObservationsBody = Type.Object(
  {
    observations: Type.Array(
      Type.Object(
        {
          subject: Type.String({ minLength: 3, maxLength: 233 }),
          target: Target,
          observedAt: Type.String({ maxLength: 40 }),
          fact: Fact,
        },
        Strict,
      ),
      { minItems: 1, maxItems: 500 },
    ),
  },
  Strict,
);

export const ListRequestsQuery = Type.Object(
  {
    state: Type.Optional(literals(REQUEST_STATES)),
    subject: Type.Optional(Type.String({ minLength: 3, maxLength: 233 })),
    action: Type.Optional(RequestActionSchema),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
    /** Pending requests the caller may still decide (eligible, undecided, not their own). */
    awaiting: Type.Optional(Type.Literal('me')),
    /** The caller's own requests. */
    requestedBy: Type.Optional(Type.Literal('me')),
    /** By creation time: `newest` first (the default) or `oldest` first. */
    order: Type.Optional(literals(['oldest', 'newest'] as const)),
    /** The `nextCursor` of the previous page. */
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  Strict,
);

export const ClockBody = Type.Union([
  Type.Object({ advance: Type.String({ maxLength: 32, pattern: '^(\\d+[smhd])+$' }) }, Strict),
  Type.Object({ to: Instant }, Strict),
]);

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  code: Type.String(),
  detail: Type.String(),
  instance: Type.Optional(Type.String()),
});
