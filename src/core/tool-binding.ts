/**
 * The binding of an approval to one AI-agent tool: the MCP server (as the gateway's
 * config names it), the tool, and, when the approval pins them, the exact arguments.
 * A request whose action is `tool_call` carries one; its warrant signs it; a
 * redemption presents the call it is about to forward, and `toolCallProblem` says
 * whether the two agree. Per-argument constraints ("for session" warrants) live in the
 * scope entries, where the scope algebra decides them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { assertStrictlyCanonical, canonicalJson, digestOf } from './canonical.js';
import { constantTimeEqual } from './crypto.js';
import { CountersignError, type CoreErrorCode } from './errors.js';
import { Sha256Schema, Strict, type Frozen } from './schema.js';
import { NameSchema, NhiIdSchema } from './vocabulary.js';

/** MCP tool names (2025-11-25): 1–128 characters of letters, digits, `_`, `-`, `.`; `/` is common too. */
export const ToolNameSchema = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_./-]+$',
});

/**
 * Disclosed arguments ride in the request, the warrant and every bundle: small enough
 * for a warrant to stay a header-sized token. Larger arguments are pinned by digest only.
 */
export const MAX_DISCLOSED_ARGUMENT_BYTES = 4096;

const ArgumentsSchema = Type.Record(Type.String({ maxLength: 256 }), Type.Unknown(), {
  maxProperties: 256,
});

/** What a request (and its warrant) binds a tool call to. */
export const ToolBindingSchema = Type.Object(
  {
    server: NameSchema,
    name: ToolNameSchema,
    /** The SHA-256 of the RFC 8785 form of the whole arguments object: absent for a session grant. */
    argumentsDigest: Type.Optional(Sha256Schema),
    /** The pinned arguments themselves, when whoever asked chose to show them to the approvers. */
    arguments: Type.Optional(ArgumentsSchema),
  },
  Strict,
);
export type ToolBinding = Frozen<Static<typeof ToolBindingSchema>>;

/** The tool call a redemption is about to make, as the gateway presents it. */
export const ToolCallSchema = Type.Object(
  {
    /** The NHI on whose behalf the call is made: it must be the warrant's subject. */
    agent: NhiIdSchema,
    server: NameSchema,
    name: ToolNameSchema,
    /** The SHA-256 of the RFC 8785 form of the call's whole arguments object. */
    argumentsDigest: Sha256Schema,
    /** The values of the arguments the scope constrains (never more is needed). */
    arguments: Type.Optional(ArgumentsSchema),
  },
  Strict,
);
export type ToolCallAction = Frozen<Static<typeof ToolCallSchema>>;

/** `INVALID_TOOL_BINDING`: a tool binding that cannot be signed as it stands. */
export type ToolBindingErrorCode = 'INVALID_TOOL_BINDING';

const invalid = (message: string) =>
  new CountersignError<ToolBindingErrorCode | CoreErrorCode>('INVALID_TOOL_BINDING', message);

/** The digest that pins an arguments object; refuses what RFC 8785 cannot represent. */
export function argumentsDigestOf(args: unknown): `sha256:${string}` {
  assertStrictlyCanonical(args);
  return digestOf(args);
}

/**
 * Validates a binding for a new request and fills in the digest of disclosed arguments.
 * Disclosed arguments must hash to the digest given with them, so what approvers are
 * shown is exactly what is pinned.
 */
export function normaliseToolBinding(binding: ToolBinding): ToolBinding {
  if (binding.arguments === undefined) return binding;
  assertStrictlyCanonical(binding.arguments);
  const canonical = canonicalJson(binding.arguments);
  if (Buffer.byteLength(canonical) > MAX_DISCLOSED_ARGUMENT_BYTES) {
    throw invalid(
      `disclosed arguments are limited to ${MAX_DISCLOSED_ARGUMENT_BYTES} bytes of canonical JSON; pin larger ones by argumentsDigest alone`,
    );
  }
  const digest = digestOf(binding.arguments);
  if (
    binding.argumentsDigest !== undefined &&
    !constantTimeEqual(binding.argumentsDigest, digest)
  ) {
    throw invalid('the disclosed arguments do not hash to argumentsDigest');
  }
  return { ...binding, argumentsDigest: digest };
}

/**
 * Why the presented call is not the bound one, or null when it is: made for the
 * warrant's subject, to the same server and tool, and, when the binding pins the
 * arguments, with the same argument digest.
 */
export function toolCallProblem(
  subject: string,
  binding: ToolBinding | undefined,
  call: ToolCallAction | undefined,
): { readonly code: 'TOOL_MISMATCH' | 'ARGUMENTS_MISMATCH'; readonly reason: string } | null {
  if (binding === undefined && call === undefined) return null;
  if (binding === undefined) {
    return { code: 'TOOL_MISMATCH', reason: 'the warrant does not approve a tool call' };
  }
  if (call === undefined) {
    return { code: 'TOOL_MISMATCH', reason: 'the warrant approves a tool call; name the call' };
  }
  // A gateway acting for another agent never spends this agent's approval, even when
  // both gateways redeem with one credential.
  if (call.agent !== subject) {
    return {
      code: 'TOOL_MISMATCH',
      reason: 'the warrant approves the tool calls of another agent',
    };
  }
  if (binding.server !== call.server || binding.name !== call.name) {
    return { code: 'TOOL_MISMATCH', reason: 'the warrant approves a different tool' };
  }
  if (
    binding.argumentsDigest !== undefined &&
    !constantTimeEqual(binding.argumentsDigest, call.argumentsDigest)
  ) {
    return {
      code: 'ARGUMENTS_MISMATCH',
      reason: 'the arguments differ from those approved',
    };
  }
  return null;
}
