import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseStrictJson } from '../core/json.js';

const ReceiptSchema = Type.Object(
  {
    iss: Type.String(),
    jti: Type.String({ minLength: 1, maxLength: 128 }),
    iat: Type.Integer(),
    warrant_id: Type.String({ minLength: 1, maxLength: 128 }),
    request_id: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
    sub: Type.String(),
    use: Type.Integer({ minimum: 1 }),
    max_uses: Type.Integer({ minimum: 1 }),
    action: Type.Object({
      resource: Type.String(),
      permission: Type.String(),
      environment: Type.String(),
      target: Type.Optional(Type.String()),
    }),
    executor: Type.String(),
    executor_identity: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

/** The claims of a receipt as a fulfilment report relies on them. */
export type ParsedReceipt = Static<typeof ReceiptSchema>;

/** Parses a verified receipt payload strictly (duplicate keys refused), or null. */
export function parseReceiptClaims(payload: Uint8Array): ParsedReceipt | null {
  let value: unknown;
  try {
    value = parseStrictJson(Buffer.from(payload).toString('utf8'));
  } catch {
    return null;
  }
  return Value.Check(ReceiptSchema, value) ? value : null;
}
