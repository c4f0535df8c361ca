import * as core from '@actions/core';
import {
  CountersignApiError,
  CountersignClient,
  CountersignClientError,
} from '../../../src/client/index.js';
import { InputError, type ConnectionInputs } from './inputs.js';

const USER_AGENT = 'countersign-github-action';

/** Raised when the runner hands out no OIDC token. */
export class IdTokenError extends Error {
  override readonly name = 'IdTokenError';
  readonly code = 'ID_TOKEN_UNAVAILABLE';
}

/**
 * Asks the runner for a fresh OIDC token. The server spends a workload token at each
 * redemption and refuses it again (TOKEN_REPLAYED), so every call, retries included,
 * presents a new one.
 */
function idToken(audience: string): () => Promise<string> {
  return async () => {
    if (!process.env.ACTIONS_ID_TOKEN_REQUEST_URL) {
      throw new IdTokenError(
        'the runner offers no OIDC token: give the job `permissions: id-token: write`',
      );
    }
    try {
      return await core.getIDToken(audience);
    } catch (e) {
      throw new IdTokenError(`the runner's OIDC token request failed: ${messageOf(e)}`, {
        cause: e,
      });
    }
  };
}

/** A client that authenticates every call as this job's workload identity. */
export function connect(inputs: ConnectionInputs): CountersignClient {
  return new CountersignClient({
    baseUrl: inputs.server,
    token: idToken(inputs.audience),
    userAgent: USER_AGENT,
  });
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * The line a failed step ends with: `countersign: <CODE>: <why>`. The server's problem
 * details and the client's messages never carry the warrant, a token or a receipt.
 */
export function failureMessage(e: unknown): string {
  if (e instanceof CountersignApiError) {
    return `countersign: ${e.code}: ${e.detail || e.title} (HTTP ${e.status})`;
  }
  if (e instanceof CountersignClientError || e instanceof InputError) {
    return `countersign: ${e.code}: ${e.message}`;
  }
  if (e instanceof IdTokenError) return `countersign: ${e.code}: ${e.message}`;
  return `countersign: ${messageOf(e)}`;
}
