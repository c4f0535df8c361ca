import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { keysAt, pinnedLogKeys } from '../../src/evidence/anchors.js';

const LOG_KEY = 'countersign.test/log+0a1b2c3d+AQ==';

describe('the log keys a verifier pins', () => {
  it('keep the revocation a trust file knows when the same key is also pinned on its own', () => {
    expect(
      pinnedLogKeys({
        logVerifierKey: LOG_KEY,
        logKeys: [{ verifierKey: LOG_KEY, revokedAtIndex: 11 }],
      }),
    ).toEqual([{ verifierKey: LOG_KEY, revokedAtIndex: 11 }]);
  });

  it('keep the earliest of two revocations of one key', () => {
    expect(
      pinnedLogKeys({
        logKeys: [
          { verifierKey: LOG_KEY, revokedAtIndex: 20 },
          { verifierKey: LOG_KEY, revokedAtIndex: 11 },
        ],
      }),
    ).toEqual([{ verifierKey: LOG_KEY, revokedAtIndex: 11 }]);
  });
});

describe('the signing key a verifier resolves for a tree of some size', () => {
  const jwk = {
    ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }),
    kid: 'k1',
  } as JWK;

  it('is refused past its revocation even when a pinned JWKS still lists it', () => {
    const keys = { jwks: { keys: [jwk] }, revoked: [{ jwk, revokedAtIndex: 11 }] };
    expect(keysAt(keys, 11)('k1')).toBeDefined();
    expect(keysAt(keys, 12)('k1')).toBeUndefined();
  });

  it('is the listed key when nothing revoked it', () => {
    expect(keysAt({ jwks: { keys: [jwk] }, revoked: [] }, 1_000)('k1')).toBeDefined();
  });
});
