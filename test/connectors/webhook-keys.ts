import { generateKeyPairSync, sign } from 'node:crypto';
import type { JWK } from 'jose';
import type { SealCall } from '../../src/connectors/webhook.js';
import { signEnvelope } from '../../src/evidence/dsse.js';

/** An Ed25519 key as the server's key ring would publish it, and a seal that signs with it. */
export function testKey(kid = 'test-key-1'): { jwks: { keys: JWK[] }; seal: SealCall } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = (publicKey.export({ format: 'jwk' }) as JWK).x as string;
  return {
    jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' }] },
    seal: (payloadType, payload) =>
      signEnvelope(payloadType, payload, {
        keyid: kid,
        sign: (data) => sign(null, data, privateKey),
      }),
  };
}
