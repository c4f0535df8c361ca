import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { reservedVariables, VARIABLE_NAME } from '../core/child-env.js';
import { parseStrictJson } from '../core/json.js';
import { connectorError, isGrantId, type ConnectorObservation } from './connector.js';

/**
 * What a webhook receiver may answer, read strictly: a member the schema does not name,
 * a duplicate key or a value of the wrong shape refuses the whole answer
 * (`CONNECTOR_FAILED`), because a half-understood grant or observation is worse than none.
 */

/**
 * Credential names are environment variable names. Names that steer what a command runs
 * (`PATH`, `LD_PRELOAD`, …) are refused on top of the pattern, by {@link readGrantAnswer}.
 */
const CredentialName = Type.String({ pattern: VARIABLE_NAME });

export const GrantAnswerSchema = Type.Object(
  {
    credential: Type.Record(CredentialName, Type.String({ maxLength: 16_384 }), {
      minProperties: 1,
      maxProperties: 64,
      // Without it, a Record keyed by a pattern lets a name outside the pattern through.
      additionalProperties: false,
    }),
    /** If present, it must be the handle countersign sent (see webhook.ts for why). */
    handle: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type GrantAnswer = Static<typeof GrantAnswerSchema>;

/**
 * A grant answer, read as {@link readAnswer} reads it, whose credential sets no variable
 * a credential may not (`core/child-env.ts` lists them and why): the credential lands in
 * the environment of a command on the executor's host, and a receiver that could set
 * `PATH` or `LD_PRELOAD` there would run code of its choosing, not only log it in.
 */
export function readGrantAnswer(connector: string, text: string): GrantAnswer {
  const answer = readAnswer(connector, 'grant', text, GrantAnswerSchema);
  const refused = reservedVariables(Object.keys(answer.credential));
  if (refused.length > 0) {
    // The names fit the pattern above, so they are safe to show; the values never are.
    throw connectorError(
      'CONNECTOR_FAILED',
      `connector "${connector}": grant failed: the credential sets ${refused.join(', ')}, which a credential may not set`,
      { connector, operation: 'grant' },
    );
  }
  return answer;
}

// ISO 8601 with a time and an offset (RFC 3339 §5.6); Date.parse then checks the values.
const INSTANT = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';

const ObservationSchema = Type.Object(
  {
    subject: Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Null()]),
    role: Type.String({ minLength: 1, maxLength: 256 }),
    resource: Type.String({ minLength: 1, maxLength: 1024 }),
    permission: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }),
    validUntil: Type.Union([Type.String({ pattern: INSTANT }), Type.Null()]),
    managed: Type.Boolean(),
    /**
     * For a credential minted for a grant: its grant id (and `role` its handle, the same
     * id). The broker believes it only when its own grant row agrees.
     */
    grantId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const ObserveAnswerSchema = Type.Object(
  { observations: Type.Array(ObservationSchema, { maxItems: 10_000 }) },
  { additionalProperties: false },
);

/** The answer's JSON if it parses strictly and fits `schema`; else `CONNECTOR_FAILED`. */
export function readAnswer<S extends typeof GrantAnswerSchema | typeof ObserveAnswerSchema>(
  connector: string,
  operation: string,
  text: string,
  schema: S,
): Static<S> {
  const fail = (why: string) =>
    connectorError('CONNECTOR_FAILED', `connector "${connector}": ${operation} failed: ${why}`, {
      connector,
      operation,
    });
  let doc: unknown;
  try {
    doc = parseStrictJson(text);
  } catch {
    throw fail('the answer is not JSON (or repeats a key)');
  }
  if (Value.Check(schema, doc)) return doc;
  // The first error's path names the field; its value is never quoted (it may be secret).
  const first = Value.Errors(schema, doc).First();
  throw fail(`the answer does not fit at ${first?.path || '/'}`);
}

/**
 * The observations of connector `name`, each with the target set to it. A resource must
 * be one of the connector's own (`<kind>/<name>/…`, as a brokered scope names them): a
 * receiver speaks for its own target only.
 */
export function toObservations(
  name: string,
  answer: Static<typeof ObserveAnswerSchema>,
): ConnectorObservation[] {
  return answer.observations.map((o, i) => {
    const parts = o.resource.split('/');
    const foreign = parts[1] !== name || parts.includes('*');
    const why = foreign
      ? 'names a resource that is not the connector’s own'
      : o.validUntil !== null && Number.isNaN(Date.parse(o.validUntil))
        ? 'has an invalid validUntil'
        : o.grantId !== undefined && !isGrantId(o.grantId)
          ? 'has an invalid grantId'
          : null;
    if (why !== null) {
      throw connectorError(
        'CONNECTOR_FAILED',
        `connector "${name}": observe failed: observation ${i} ${why}`,
        { connector: name, operation: 'observe' },
      );
    }
    return {
      target: name,
      subject: o.subject,
      role: o.role,
      resource: o.resource,
      permission: o.permission,
      validUntil: o.validUntil === null ? null : new Date(o.validUntil).toISOString(),
      managed: o.managed,
      ...(o.grantId === undefined ? {} : { grantId: o.grantId }),
    };
  });
}
