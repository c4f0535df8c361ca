import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { isCountersignError } from '../core/errors.js';
import { parseStrictJsonBytes } from '../core/json.js';
import type { LogKeyPin } from '../evidence/verify.js';
import type { TrustedLogKey } from '../log/trusted-key.js';
import { parseTrustFile, trustedLogKey, type Trust } from '../trust/trust-file.js';
import { CliError, EXIT } from './errors.js';

/** `--log-key` may be given once per key of the history. */
export const collect = (value: string, previous: readonly string[] = []): string[] => [
  ...previous,
  value,
];

export interface TrustOptions {
  readonly logKey?: readonly string[];
  readonly trust?: string;
}

/** What the auditor pinned: nothing, some verifier keys, or a whole trust file. */
export interface PinnedTrust {
  readonly keys: readonly TrustedLogKey[] | undefined;
  /** The verifier keys' text, for verifiers that take keys as text. */
  readonly verifierKeys: readonly string[];
  /** The same keys as text with their revocation positions, for the evidence verifier. */
  readonly pins: readonly LogKeyPin[];
  readonly jwks: { readonly keys: readonly JWK[] } | undefined;
  readonly revokedKeys: Trust['revokedKeys'];
  readonly origin: string | undefined;
}

const usage = (message: string): CliError => new CliError(message, EXIT.usage, 'USAGE');

async function readTrust(path: string): Promise<Trust> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw usage(`cannot read the trust file ${path}`);
  }
  try {
    return parseTrustFile(text);
  } catch (e) {
    throw isCountersignError(e) ? usage(e.message) : e;
  }
}

/** Reads `--trust` and `--log-key`; both pin, and their keys add up. */
export async function pinnedTrust(o: TrustOptions): Promise<PinnedTrust> {
  const file = o.trust === undefined ? undefined : await readTrust(o.trust);
  const given = (o.logKey ?? []).map((k) => k.trim()).filter((k) => k !== '');
  const keys = given.map((k, i) => {
    try {
      return trustedLogKey(k);
    } catch {
      throw usage(`--log-key #${i + 1} is not a C2SP verifier key`);
    }
  });
  const all = [...(file?.logKeys ?? []), ...keys];
  const verifierKeys = [...(file?.verifierKeys ?? []), ...given];
  return {
    keys: all.length > 0 ? all : undefined,
    verifierKeys,
    pins: verifierKeys.map((verifierKey, i) => ({
      verifierKey,
      revokedAtIndex: all[i]?.revokedAtIndex ?? null,
    })),
    jwks: file?.jwks,
    revokedKeys: file?.revokedKeys ?? [],
    origin: file?.origin,
  };
}

/** `--jwks FILE`: the pinned JWKS, read strictly (a key twice in one object is refused). */
export async function readJwksFile(path: string): Promise<{ readonly keys: readonly JWK[] }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw usage(`cannot read the JWKS file ${path}`);
  }
  let doc: unknown;
  try {
    doc = parseStrictJsonBytes(bytes);
  } catch (e) {
    throw isCountersignError(e) ? usage(`--jwks ${path}: ${e.code}: ${e.message}`) : e;
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'object' && k !== null)) {
    throw usage(`--jwks ${path}: not a JWKS (an object whose "keys" is an array of JWKs)`);
  }
  return { keys: keys as JWK[] };
}
