import {
  CountersignApiError,
  CountersignClientError,
  type ClientErrorCode,
} from '../client/index.js';

/** A failure the CLI reports on stderr, with the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Exit codes: 3 a denied redemption, 4 a log inconsistency, 2 a usage or request error,
 * 1 a server error, 5 verified only against keys the evidence carried itself.
 */
export const EXIT = {
  ok: 0,
  server: 1,
  usage: 2,
  denied: 3,
  inconsistent: 4,
  unpinned: 5,
} as const;

const CLIENT_EXIT: Readonly<Record<ClientErrorCode, number>> = {
  UNREACHABLE: EXIT.server,
  TIMEOUT: EXIT.server,
  BAD_RESPONSE: EXIT.server,
  WAIT_TIMEOUT: EXIT.server,
  RECEIPT_INVALID: EXIT.inconsistent,
};

function clientMessage(e: CountersignClientError): string {
  const server = e.server ?? 'the server';
  switch (e.code) {
    case 'UNREACHABLE':
    case 'TIMEOUT':
      return `cannot reach ${server}: ${e.message}`;
    case 'BAD_RESPONSE':
      return `unexpected answer from ${server}: ${e.message}`;
    case 'RECEIPT_INVALID':
    case 'WAIT_TIMEOUT':
      return `${e.code}: ${e.message}`;
  }
}

/**
 * What the SDK's errors mean on the command line: a problem from the server is exit 2
 * for a 4xx and 1 for a 5xx, its message `CODE: detail`; no usable answer is exit 1.
 * Anything else passes through for the caller to report.
 */
export function cliErrorOf(e: unknown): unknown {
  if (e instanceof CountersignApiError) {
    return new CliError(e.message, e.status >= 500 ? EXIT.server : EXIT.usage, e.code);
  }
  if (e instanceof CountersignClientError) {
    return new CliError(clientMessage(e), CLIENT_EXIT[e.code], e.code);
  }
  return e;
}
