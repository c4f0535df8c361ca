import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUNDLE_LIMITS, shapeJwks } from '../../src/evidence/shape.js';

const jwk = (kid: string) => ({
  ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }),
  kid,
});

describe('the JWKS of a bundle or a trust file', () => {
  it('takes every key a server that rotated its key 100 times still publishes', () => {
    const keys = Array.from({ length: 101 }, (_, i) => jwk(`k${i}`));
    expect(shapeJwks({ keys })).toEqual({ ok: true, value: { keys } });
  });

  it('still has a bound, so a hostile bundle stays cheap to refuse', () => {
    const one = jwk('k');
    const keys = Array.from({ length: BUNDLE_LIMITS.keys + 1 }, (_, i) => ({
      ...one,
      kid: `k${i}`,
    }));
    expect(shapeJwks({ keys }).ok).toBe(false);
  });
});
