import { Type } from '@sinclair/typebox';
import { ClaimMatcherSchema } from '../core/claim-matcher.js';
import { NHI_KINDS } from '../core/vocabulary.js';
import { REQUEST_STATES } from '../request/request.js';
import { REQUEST_ACTIONS } from '../core/vocabulary.js';

const literals = <T extends readonly string[]>(values: T) =>
  Type.Union(values.map((v) => Type.Literal<T[number]>(v)));

const Strict = { additionalProperties: false } as const;
const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:@-]+$' });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const Instant = Type.String({ maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}T' });

export const RequestIdParam = Type.Object(
  { id: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }) },
  Strict,
);
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

export const ScopeEntrySchema = Type.Object(
  {
    resource: Type.String({ minLength: 1, maxLength: 1024 }),
    permissions: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      minItems: 1,
      maxItems: 64,
    }),
  },
  Strict,
);

/**
 * Who may redeem: one principal by id, or a workload token matcher (issuer plus claim
 * conditions: exact strings, or `{pattern}` globs).
 */
export const ExecutorSchema = Type.Union([
  Type.Object({ principal: Name }, Strict),
  ClaimMatcherSchema,
]);

export const CreateRequestBody = Type.Object(
  {
    subject: Type.String({ minLength: 3, maxLength: 233 }),
    action: literals(REQUEST_ACTIONS),
    scope: Type.Array(ScopeEntrySchema, { minItems: 1, maxItems: 256 }),
    environment: Name,
    targets: Type.Optional(Type.Array(Name, { maxItems: 256 })),
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
    action: Type.Object(
      {
        resource: Type.String({ minLength: 1, maxLength: 1024 }),
        permission: Type.String({ minLength: 1, maxLength: 64 }),
        environment: Name,
        target: Type.Optional(Name),
      },
      Strict,
    ),
  },
  Strict,
);

export const ListRequestsQuery = Type.Object(
  {
    state: Type.Optional(literals(REQUEST_STATES)),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
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
