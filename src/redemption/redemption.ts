import { Type, type Static } from '@sinclair/typebox';
import { Strict, type Frozen } from '../core/schema.js';
import { PermissionSchema, ResourceSchema } from '../core/scope.js';
import { NameSchema } from '../core/vocabulary.js';
import { ToolCallSchema } from '../core/tool-binding.js';

/** The shape of an action, as a redemption body names it and a receipt signs it. */
export const RedemptionActionSchema = Type.Object(
  {
    resource: ResourceSchema,
    permission: PermissionSchema,
    environment: NameSchema,
    target: Type.Optional(NameSchema),
    /** The tool call about to be made, when the warrant approves one (an MCP gateway's redemption). */
    tool: Type.Optional(ToolCallSchema),
  },
  Strict,
);

/** The concrete action an executor asks to perform at the point of execution. */
export type RedemptionAction = Frozen<Static<typeof RedemptionActionSchema>>;

// The codes live in core so that the client SDK, which runs in browsers, names the same list.
export { REDEMPTION_DENIAL_CODES, type RedemptionDenialCode } from '../core/denials.js';
import type { RedemptionDenialCode } from '../core/denials.js';

export type RedemptionDecision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny'; readonly code: RedemptionDenialCode; readonly reason: string };

/**
 * The one refusal of a spent warrant, whether the check saw the count reach the signed
 * `max_uses` or the atomic spend (`WarrantWriter.consumeUse`) found nothing left.
 */
export const EXHAUSTED: RedemptionDecision = {
  kind: 'deny',
  code: 'WARRANT_EXHAUSTED',
  reason: 'every approved use is spent',
};
