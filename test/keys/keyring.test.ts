import { createHmac, createPrivateKey, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  calculateJwkThumbprint,
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JWK,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyRingHolder } from '../../src/keys/holder.js';
import { signCompactJws } from '../../src/keys/jws.js';
import { generateSigningKey, KeyRing, type SigningKeyRecord } from '../../src/keys/keyring.js';
import { parseKek, sealPrivateKey, unsealPrivateKey } from '../../src/keys/seal.js';
import { T0 } from '../helpers/request-fixtures.js';
import { expectCode } from '../helpers/expect-code.js';

const TYP = 'warrant+jwt';
const NOW = new Date(T0);
const b64 = (v: unknown): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Builds a compact JWS with any header, signed by `ring`'s active key over the usual input. */
const forge = (ring: KeyRing, header: object, payload: object): string => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${ring.signBytes(Buffer.from(input)).signature.toString('base64url')}`;
};

let kek: Buffer;
let rec: SigningKeyRecord;
let ring: KeyRing;
let other: KeyRing;
let token: string;
const claims = { sub: 'svc:payments-api', jti: 'wrt_1', scope: [{ resource: 'db/orders' }] };

beforeAll(async () => {
  kek = randomBytes(32);
  rec = await generateSigningKey(kek, NOW);
  ring = KeyRing.load([rec], kek);
  const otherKek = randomBytes(32);
  other = KeyRing.load([await generateSigningKey(otherKek, NOW)], otherKek);
  token = await ring.signJws(claims, TYP);
});

describe('generateSigningKey', () => {
  describe('when a key is generated', () => {
    it('names it by its RFC 7638 thumbprint and publishes only the public half', async () => {
      const jwk = JSON.parse(rec.publicJwk) as JWK;
      expect(jwk).toEqual({
        kty: 'OKP',
        crv: 'Ed25519',
        x: jwk.x,
        kid: rec.kid,
        alg: 'EdDSA',
        use: 'sig',
      });
      expect(await calculateJwkThumbprint(jwk)).toBe(rec.kid);
      expect(rec).toMatchObject({ state: 'active', createdAt: T0, revokedAt: null });
      expect(rec.sealedPrivate.startsWith('aes256gcm.v1.')).toBe(true);
    });
  });
});

describe('KeyRing', () => {
  describe('when a JWS is signed', () => {
    it('verifies offline with jose compactVerify against the published JWKS', async () => {
      const jwks = createLocalJWKSet(ring.jwks());
      const { payload, protectedHeader } = await compactVerify(token, jwks, {
        algorithms: ['EdDSA'],
      });
      expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(claims);
      expect(protectedHeader).toEqual({ alg: 'EdDSA', kid: rec.kid, typ: TYP });
    });

    it('verifies offline with jose jwtVerify, checking typ', async () => {
      const jwks = createLocalJWKSet(ring.jwks());
      const { payload } = await jwtVerify(token, jwks, { typ: TYP, algorithms: ['EdDSA'] });
      expect(payload).toEqual(claims);
      await expect(jwtVerify(token, jwks, { typ: 'receipt+jwt' })).rejects.toThrow();
    });

    it('signs on the thread pool exactly what the synchronous signer signs (Ed25519 is deterministic)', async () => {
      const rec2 = await generateSigningKey(kek, NOW);
      const der = unsealPrivateKey(rec2.sealedPrivate, kek, rec2.kid);
      const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      const header = { alg: 'EdDSA' as const, kid: rec2.kid, typ: TYP };
      const offThread = await KeyRing.load([rec2], kek).signJws(claims, TYP);
      expect(offThread).toBe(signCompactJws(header, claims, key));
    });

    it('verifies with verifyJws, naming the key and its state', async () => {
      const v = await ring.verifyJws(token, TYP);
      expect(v).not.toBeNull();
      expect(JSON.parse(new TextDecoder().decode(v!.payload))).toEqual(claims);
      expect([v!.kid, v!.keyState]).toEqual([rec.kid, 'active']);
    });
  });

  describe('when the token is not what was signed', () => {
    it('returns null for any single payload byte changed', async () => {
      const [h, p, s] = token.split('.') as [string, string, string];
      const bytes = Buffer.from(p, 'base64url');
      await fc.assert(
        fc.asyncProperty(
          fc.nat(bytes.length - 1),
          fc.integer({ min: 1, max: 255 }),
          async (i, x) => {
            const changed = Buffer.from(bytes);
            changed[i]! ^= x;
            expect(
              await ring.verifyJws(`${h}.${changed.toString('base64url')}.${s}`, TYP),
            ).toBeNull();
          },
        ),
        { numRuns: 50 },
      );
    });

    it('returns null for a truncated or altered signature', async () => {
      const [h, p, s] = token.split('.') as [string, string, string];
      const sig = Buffer.from(s, 'base64url');
      sig[0]! ^= 1;
      expect(await ring.verifyJws(`${h}.${p}.${sig.toString('base64url')}`, TYP)).toBeNull();
      expect(await ring.verifyJws(`${h}.${p}.${s.slice(0, -4)}`, TYP)).toBeNull();
    });

    it('returns null for a verified token asked for under another typ', async () => {
      expect(await ring.verifyJws(token, TYP)).not.toBeNull();
      expect(await ring.verifyJws(token, 'receipt+jwt')).toBeNull();
    });

    it('returns null for the wrong typ', async () => {
      expect(await ring.verifyJws(token, 'receipt+jwt')).toBeNull();
      expect(await ring.verifyJws(await ring.signJws(claims, 'receipt+jwt'), TYP)).toBeNull();
    });

    it('returns null for a token signed by a different ring, even under our kid', async () => {
      expect(await other.verifyJws(token, TYP)).toBeNull();
      expect(await ring.verifyJws(await other.signJws(claims, TYP), TYP)).toBeNull();
      const spoofed = forge(other, { alg: 'EdDSA', kid: ring.activeKid, typ: TYP }, claims);
      expect(await ring.verifyJws(spoofed, TYP)).toBeNull();
    });

    it('returns null for alg none, with or without a signature', async () => {
      const unsigned = `${b64({ alg: 'none', kid: rec.kid, typ: TYP })}.${b64(claims)}`;
      expect(await ring.verifyJws(`${unsigned}.`, TYP)).toBeNull();
      expect(await ring.verifyJws(`${unsigned}.${token.split('.')[2]}`, TYP)).toBeNull();
    });

    it('returns null for an HMAC token keyed with the public key (algorithm confusion)', async () => {
      const input = `${b64({ alg: 'HS256', kid: rec.kid, typ: TYP })}.${b64(claims)}`;
      const mac = createHmac('sha256', rec.publicJwk).update(input).digest('base64url');
      expect(await ring.verifyJws(`${input}.${mac}`, TYP)).toBeNull();
    });

    it.each<[string, object]>([
      ['a mislabelled alg', { alg: 'ES256', kid: '$kid', typ: TYP }],
      ['no typ', { alg: 'EdDSA', kid: '$kid' }],
      ['no kid', { alg: 'EdDSA', typ: TYP }],
      ['an unknown kid', { alg: 'EdDSA', kid: 'nope', typ: TYP }],
      ['a crit header', { alg: 'EdDSA', kid: '$kid', typ: TYP, crit: ['exp'], exp: 1 }],
    ])('returns null for a correctly signed token with %s', async (_, header) => {
      const h = JSON.parse(JSON.stringify(header).replace('$kid', ring.activeKid)) as object;
      const forged = forge(ring, h, claims);
      expect(decodeProtectedHeader(forged)).toEqual(h);
      expect(await ring.verifyJws(forged, TYP)).toBeNull();
    });

    it.each([
      ['an empty string', ''],
      ['plain text', 'not a token'],
      ['two segments', 'abc.def'],
      ['four segments', 'a.b.c.d'],
      ['invalid base64url', '!!!.???.***'],
      ['a JSON header that is not an object', `${b64('[]')}.${b64('{}')}.AAAA`],
    ])('returns null for %s', async (_, garbage) => {
      expect(await ring.verifyJws(garbage, TYP)).toBeNull();
    });
  });

  describe('when a correctly signed token is longer than 16 KiB', () => {
    it('returns null without verifying, while a token just under the limit verifies', async () => {
      const short = await ring.signJws({ pad: 'x'.repeat(11_000) }, TYP);
      const long = await ring.signJws({ pad: 'x'.repeat(13_000) }, TYP);
      expect([short.length < 16_384, long.length > 16_384]).toEqual([true, true]);
      expect(await ring.verifyJws(short, TYP)).not.toBeNull();
      expect(await ring.verifyJws(long, TYP)).toBeNull();
    });
  });

  describe('when keys rotate', () => {
    it('still verifies with a retired key and reports a revoked key without publishing it', async () => {
      const next = await generateSigningKey(kek, NOW);
      const rotated = KeyRing.load([{ ...rec, state: 'retired' }, next], kek);
      expect(rotated.activeKid).toBe(next.kid);
      expect((await rotated.verifyJws(token, TYP))?.keyState).toBe('retired');
      const revoked = KeyRing.load([{ ...rec, state: 'revoked' }, next], kek);
      expect((await revoked.verifyJws(token, TYP))?.keyState).toBe('revoked');
      expect(revoked.isRevoked(rec.kid)).toBe(true);
      expect(revoked.jwks().keys.map((k) => k.kid)).toEqual([next.kid]);
    });

    it('reports a key revoked after a token was verified and cached, once the holder reloads', async () => {
      const next = await generateSigningKey(kek, NOW);
      const holder = new KeyRingHolder(
        KeyRing.load([{ ...rec, state: 'retired' }, next], kek),
        kek,
      );
      holder.reload([{ ...rec, state: 'retired' }, next]);
      const before = holder.ring;
      expect((await before.verifyJws(token, TYP))?.keyState).toBe('retired');
      holder.reload([{ ...rec, state: 'retired' }, next]);
      expect(holder.ring).toBe(before);
      holder.reload([{ ...rec, state: 'revoked' }, next]);
      expect(holder.ring).not.toBe(before);
      expect((await holder.ring.verifyJws(token, TYP))?.keyState).toBe('revoked');
    });

    it('refuses a ring with no active key with KEY_UNKNOWN', () => {
      expectCode(() => KeyRing.load([{ ...rec, state: 'retired' }], kek), 'KEY_UNKNOWN');
      expectCode(() => KeyRing.load([], kek), 'KEY_UNKNOWN');
    });
  });
});

describe('unsealPrivateKey', () => {
  describe('when the KEK or the kid does not match', () => {
    it('fails to load a ring under a different KEK with KEY_UNSEAL_FAILED, naming no key material', () => {
      const wrong = randomBytes(32);
      const err = expectCode(() => KeyRing.load([rec], wrong), 'KEY_UNSEAL_FAILED');
      expect(err.message).not.toContain(wrong.toString('hex'));
      expect(err.message).not.toContain(kek.toString('hex'));
    });

    it('fails when a sealed key is swapped onto another key row', async () => {
      const b = await generateSigningKey(kek, NOW);
      expectCode(
        () => KeyRing.load([{ ...rec, sealedPrivate: b.sealedPrivate }], kek),
        'KEY_UNSEAL_FAILED',
      );
      expectCode(() => unsealPrivateKey(rec.sealedPrivate, kek, b.kid), 'KEY_UNSEAL_FAILED');
    });
  });

  describe('when the sealed text is damaged', () => {
    it('fails with KEY_UNSEAL_FAILED for any flipped byte, an unknown prefix or truncation', () => {
      const raw = Buffer.from(rec.sealedPrivate.slice('aes256gcm.v1.'.length), 'base64url');
      for (const i of [0, 11, 12, raw.length - 17, raw.length - 1]) {
        const bad = Buffer.from(raw);
        bad[i]! ^= 1;
        const text = `aes256gcm.v1.${bad.toString('base64url')}`;
        expectCode(() => unsealPrivateKey(text, kek, rec.kid), 'KEY_UNSEAL_FAILED');
      }
      expectCode(
        () => unsealPrivateKey(rec.sealedPrivate.replace('v1', 'v2'), kek, rec.kid),
        'KEY_UNSEAL_FAILED',
      );
      expectCode(() => unsealPrivateKey('aes256gcm.v1.AAAA', kek, rec.kid), 'KEY_UNSEAL_FAILED');
      expectCode(() => unsealPrivateKey('aes256gcm.v1.', kek, rec.kid), 'KEY_UNSEAL_FAILED');
    });
  });

  describe('when KEK and kid match', () => {
    it('returns the sealed bytes', () => {
      const secret = randomBytes(48);
      expect(unsealPrivateKey(sealPrivateKey(secret, kek, 'k1'), kek, 'k1')).toEqual(secret);
    });
  });
});

describe('parseKek', () => {
  describe('when the text encodes 32 bytes', () => {
    it('accepts 64 hex characters or base64url, ignoring surrounding whitespace', () => {
      expect(parseKek(` ${kek.toString('hex')}\n`)).toEqual(kek);
      expect(parseKek(kek.toString('base64url'))).toEqual(kek);
    });
  });

  describe('when the text encodes another length', () => {
    it.each([
      ['31 bytes', randomBytes(31).toString('hex')],
      ['33 bytes', randomBytes(33).toString('base64url')],
      ['nothing', ''],
    ])('refuses %s with KEK_INVALID', (_, text) => {
      expectCode(() => parseKek(text), 'KEK_INVALID');
    });
  });
});
