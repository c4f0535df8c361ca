import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NoteSigner } from '../../src/log/note.js';
import { parseTrustFile, trustedLogKey } from '../../src/trust/trust-file.js';

const ORIGIN = 'countersign.test/trust';

describe('a trust file', () => {
  it('takes the whole key history of a log that rotated its key 1,100 times', () => {
    const keys = Array.from({ length: 1_101 }, () => generateKeyPairSync('ed25519'));
    const logKeys = keys.map(({ privateKey }) => {
      const verifierKey = new NoteSigner(ORIGIN, privateKey).verifierKey();
      return {
        kid: trustedLogKey(verifierKey).kid,
        verifierKey,
        state: 'retired' as const,
        createdAt: '2026-01-01T00:00:00.000Z',
        revokedAt: null,
        revokedAtIndex: null,
      };
    });
    const jwks = {
      keys: keys.map(({ publicKey }, i) => ({
        ...publicKey.export({ format: 'jwk' }),
        kid: logKeys[i]?.kid,
      })),
    };
    const trust = parseTrustFile(JSON.stringify({ origin: ORIGIN, logKeys, jwks }));
    expect(trust.logKeys).toHaveLength(1_101);
    expect(trust.jwks.keys).toHaveLength(1_101);
  });
});
