import { CountersignError } from '../core/errors.js';

/**
 * Codes the gateway raises while it starts (a bad command line, an upstream it cannot
 * reach). Once it serves, problems answer the agent as JSON-RPC errors instead.
 */
export type McpGatewayErrorCode =
  | 'UPSTREAM_COMMAND_INVALID'
  | 'UPSTREAM_URL_INVALID'
  | 'UPSTREAM_UNREACHABLE'
  | 'LISTEN_ADDRESS_INVALID'
  | 'GATEWAY_CONFIG_INVALID';

export class McpGatewayError extends CountersignError<McpGatewayErrorCode> {
  constructor(code: McpGatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'McpGatewayError';
  }
}
