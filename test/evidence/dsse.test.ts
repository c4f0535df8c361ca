import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { dsse as sigstore } from '@sigstore/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DsseEnvelope, DsseSigner } from '../../src/evidence/dsse.js';
import {
  envelopePayload,
  preAuthEncoding,
  signEnvelope,
  verifyEnvelope,
} from '../../src/evidence/dsse.js';

const TYPE = 'application/vnd.in-toto+json';
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const signer: DsseSigner = { keyid: 'k1', sign: (data) => sign(null, data, privateKey) };
const keys = (id: string): KeyObject | undefined => (id === 'k1' ? publicKey : undefined);
const payload = Buffer.from('{"hello":"world"}', 'utf8');

describe('preAuthEncoding', () => {
  it('matches the DSSE protocol example', () => {
    expect(preAuthEncoding('http://example.com/HelloWorld', 'hello world').toString('utf8')).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('counts lengths in UTF-8 bytes, not characters', () => {
    expect(preAuthEncoding('tÿpe', Buffer.from('€', 'utf8')).toString('utf8')).toBe(
      'DSSEv1 5 tÿpe 3 €',
    );
  });

  it("agrees with @sigstore/core's PAE on random types and payloads", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 64 }),
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc.string({ unit: 'binary', maxLength: 128 }).map((s) => new TextEncoder().encode(s)),
        ),
        (type, body) => {
          const ours = preAuthEncoding(type, body);
          const theirs = sigstore.preAuthEncoding(type, Buffer.from(body));
          expect(ours.equals(theirs)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('signEnvelope', () => {
  it('encodes the payload and signature in standard base64 with the signer keyid', () => {
    const env = signEnvelope(TYPE, payload, signer);
    expect(env.payloadType).toBe(TYPE);
    expect(Buffer.from(env.payload, 'base64').equals(payload)).toBe(true);
    expect(env.signatures).toHaveLength(1);
    expect(env.signatures[0]!.keyid).toBe('k1');
    expect(Buffer.from(env.signatures[0]!.sig, 'base64')).toHaveLength(64);
  });
});

describe('verifyEnvelope', () => {
  const good = signEnvelope(TYPE, payload, signer);
  const withSig = (sig: Partial<DsseEnvelope['signatures'][number]>): DsseEnvelope => ({
    ...good,
    signatures: [{ ...good.signatures[0]!, ...sig }],
  });

  describe('when the envelope is intact', () => {
    it('accepts it', () => {
      expect(verifyEnvelope(good, keys)).toBe(true);
    });

    it('ignores signatures by unknown keys next to a good one', () => {
      const env = { ...good, signatures: [{ keyid: 'zz', sig: 'AAAA' }, ...good.signatures] };
      expect(verifyEnvelope(env, keys)).toBe(true);
    });
  });

  describe('when anything signed is changed', () => {
    it('rejects another payload type (the type is in the PAE)', () => {
      expect(verifyEnvelope({ ...good, payloadType: 'text/plain' }, keys)).toBe(false);
    });

    it('rejects another payload', () => {
      const env = { ...good, payload: Buffer.from('{"hello":"World"}').toString('base64') };
      expect(verifyEnvelope(env, keys)).toBe(false);
    });

    it('rejects a signature by an unknown keyid', () => {
      expect(verifyEnvelope(withSig({ keyid: 'k2' }), keys)).toBe(false);
    });

    it('rejects a signature by another key under the same keyid', () => {
      const other = generateKeyPairSync('ed25519').publicKey;
      expect(verifyEnvelope(good, () => other)).toBe(false);
    });
  });

  describe('when the envelope is malformed', () => {
    it('rejects non-canonical or URL-safe base64', () => {
      const sig = good.signatures[0]!.sig;
      expect(verifyEnvelope(withSig({ sig: sig.replace(/=+$/, '') }), keys)).toBe(false);
      expect(verifyEnvelope(withSig({ sig: `-${sig.slice(1)}` }), keys)).toBe(false);
      // 64 bytes leave 4 spare bits in the last character: flipping them must not verify.
      const last = sig.at(-3)!;
      const alias = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(last) ^ 1
      ]!;
      expect(verifyEnvelope(withSig({ sig: `${sig.slice(0, -3)}${alias}==` }), keys)).toBe(false);
      expect(verifyEnvelope({ ...good, payload: `${good.payload}\n` }, keys)).toBe(false);
    });

    it('rejects unknown fields, no signatures, and non-objects without throwing', () => {
      expect(verifyEnvelope({ ...good, extra: 1 } as DsseEnvelope, keys)).toBe(false);
      expect(verifyEnvelope({ ...good, signatures: [] }, keys)).toBe(false);
      expect(verifyEnvelope(null as unknown as DsseEnvelope, keys)).toBe(false);
      expect(envelopePayload([])).toBeUndefined();
    });

    it('rejects keys that are not Ed25519 and resolvers that throw', () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
      expect(verifyEnvelope(good, () => rsa)).toBe(false);
      expect(
        verifyEnvelope(good, () => {
          throw new Error('resolver failed');
        }),
      ).toBe(false);
    });
  });
});
