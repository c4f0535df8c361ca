import { reservedVariables, VARIABLE_NAME } from '../core/child-env.js';
import { CliError, EXIT } from './errors.js';

const NAME = new RegExp(VARIABLE_NAME);

/**
 * Refuses a brokered credential the CLI should not hand on: a name that is not a
 * variable name (a `--credential-out` file would run it in the shell that reads it), or
 * one that steers what a command runs (`PATH`, `LD_PRELOAD`; `core/child-env.ts` lists
 * them and why). The server refuses such an answer from its connector already; the CLI
 * checks again because it may be talking to an older server, and it is the CLI that gives
 * the credential to a command or a shell. Exit 1: the answer was wrong, not the flags.
 */
export function checkCredentialNames(credential: Readonly<Record<string, string>>): void {
  const names = Object.keys(credential);
  const refuse = (why: string) =>
    new CliError(`${why}: it was not used`, EXIT.server, 'CREDENTIAL_REFUSED');
  // Such a name is not shown: it may carry terminal escapes.
  if (names.some((n) => !NAME.test(n))) {
    throw refuse('the credential has a name that is not an environment variable name');
  }
  const reserved = reservedVariables(names);
  if (reserved.length > 0) {
    throw refuse(`the credential sets ${reserved.join(', ')}, which a credential may not set`);
  }
}
