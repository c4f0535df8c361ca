import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { digestOf } from '../../core/canonical.js';
import type { FingerprintResult } from './outcome.js';

/**
 * The `sha256:` digest of a file the command wrote, streamed so a large artefact is
 * never held in memory. Only the digest leaves this function, never the contents.
 */
export async function fingerprintFile(path: string): Promise<FingerprintResult> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (e) {
    return { kind: 'unreadable', errno: (e as NodeJS.ErrnoException).code ?? 'UNREADABLE' };
  }
  return { kind: 'read', fingerprint: `sha256:${hash.digest('hex')}` };
}

/**
 * The fingerprint a successful run reports without `--fingerprint-from`: the digest of
 * the redeemed action itself, which describes a grant applied. It names no secret
 * version, so exec refuses to stand in for a file where the warrant's action is one whose
 * fingerprint the reconciler compares with observed versions (see `versionWarrant`).
 */
export function actionFingerprint(action: {
  readonly resource: string;
  readonly permission: string;
  readonly environment: string;
  readonly target?: string;
}): string {
  return digestOf(action);
}
