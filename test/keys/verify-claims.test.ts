import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyRingHolder } from '../../src/keys/holder.js';
import { generateSigningKey, KeyRing, type SigningKeyRecord } from '../../src/keys/keyring.js';
import { WARRANT_TYP, WarrantClaimsSchema } from '../../src/warrant/warrant.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

const CLAIMS = {
  iss: 'countersign',
  jti: 'wrt_1',
  sub: 'svc:payments',
  iat: 1_770_000_000,
  nbf: 1_770_000_000,
  exp: 1_770_003_600,
  request_id: `sha256:${'a'.repeat(64)}`,
  action: 'grant',
  environment: 'prod',
  scope: [{ resource: 'db/orders', permissions: ['read'] }],
  targets: ['db-eu-1'],
  executor: { kind: 'principal', principal: 'deploy-eu' },
  max_uses: 3,
  approvals: ['dec_1'],
  policy_version: `sha256:${'b'.repeat(64)}`,
};

/** Any object with a string `jti`: a looser reading of the same tokens. */
const Loose = Type.Object({ jti: Type.String() });

const b64 = (text: string): string => Buffer.from(text).toString('base64url');

/** A token signed by `ring` over payload text as given (the signer never writes such text). */
const forge = (ring: KeyRing, payload: string): string => {
  const input = `${b64(JSON.stringify({ alg: 'EdDSA', kid: ring.activeKid, typ: WARRANT_TYP }))}.${b64(payload)}`;
  return `${input}.${ring.signBytes(Buffer.from(input)).signature.toString('base64url')}`;
};

let kek: Buffer;
let rec: SigningKeyRecord;
let ring: KeyRing;
beforeAll(async () => {
  kek = randomBytes(32);
  rec = await generateSigningKey(kek, NOW);
  ring = KeyRing.load([rec], kek);
});

describe('KeyRing.verifyClaims', () => {
  describe('when a token verifies and its payload fits the schema', () => {
    it('returns the claims with the key that signed them and its state', async () => {
      const token = await ring.signJws(CLAIMS, WARRANT_TYP);
      expect(await ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema)).toEqual({
        claims: CLAIMS,
        kid: rec.kid,
        keyState: 'active',
      });
    });

    it('returns them frozen, since every caller presenting the token shares them', async () => {
      const token = await ring.signJws(CLAIMS, WARRANT_TYP);
      const v = await ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
      const scope = v?.claims.scope as { permissions: string[] }[];
      expect(() => scope[0]?.permissions.push('write')).toThrow(TypeError);
      expect(Object.isFrozen(v?.claims.executor)).toBe(true);
    });
  });

  describe('when a signed payload is not what the schema describes', () => {
    it('never returns it, and returns every payload the schema accepts as signed', async () => {
      const change = fc.record({
        key: fc.constantFrom(...Object.keys(CLAIMS), 'extra'),
        value: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 3 }), async (changes) => {
          const payload: Record<string, unknown> = structuredClone(CLAIMS);
          for (const { key, value } of changes) {
            if (value === undefined) delete payload[key];
            else payload[key] = value;
          }
          const token = await ring.signJws(payload, WARRANT_TYP);
          const v = await ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
          if (Value.Check(WarrantClaimsSchema, payload)) expect(v?.claims).toEqual(payload);
          else expect(v).toBeNull();
        }),
        { numRuns: 200 },
      );
    });

    it('refuses a payload with a duplicate key, although its signature is good', async () => {
      const text = JSON.stringify(CLAIMS).replace('{', '{"jti":"wrt_other",');
      expect(await ring.verifyClaims(forge(ring, text), WARRANT_TYP, Loose)).toBeNull();
      expect(
        await ring.verifyClaims(forge(ring, JSON.stringify(CLAIMS)), WARRANT_TYP, Loose),
      ).not.toBeNull();
    });

    it.each([
      ['text that is not JSON', 'jti=wrt_1'],
      ['a JSON array', '[{"jti":"wrt_1"}]'],
      ['a JSON string', '"wrt_1"'],
    ])('refuses %s', async (_, payload) => {
      expect(await ring.verifyClaims(forge(ring, payload), WARRANT_TYP, Loose)).toBeNull();
    });
  });

  describe('when the same token is presented again', () => {
    it('returns the very claims it read before, neither verified nor parsed again', async () => {
      const token = await ring.signJws(CLAIMS, WARRANT_TYP);
      const first = await ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
      const again = await ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
      expect(first).not.toBeNull();
      expect(again).toBe(first);
    });

    it('reads it afresh against another schema, so no schema is answered by another', async () => {
      const loose = await ring.signJws({ jti: 'wrt_2' }, WARRANT_TYP);
      expect(await ring.verifyClaims(loose, WARRANT_TYP, Loose)).not.toBeNull();
      expect(await ring.verifyClaims(loose, WARRANT_TYP, WarrantClaimsSchema)).toBeNull();
      const full = await ring.signJws(CLAIMS, WARRANT_TYP);
      const strict = await ring.verifyClaims(full, WARRANT_TYP, WarrantClaimsSchema);
      expect(await ring.verifyClaims(full, WARRANT_TYP, Loose)).not.toBe(strict);
    });

    it('does not answer for another typ', async () => {
      const token = await ring.signJws(CLAIMS, WARRANT_TYP);
      expect(await ring.verifyClaims(token, WARRANT_TYP, Loose)).not.toBeNull();
      expect(await ring.verifyClaims(token, 'receipt+jwt', Loose)).toBeNull();
    });
  });

  describe('when the key set changes after a token was read', () => {
    it('keeps its answers while the key set is unchanged', async () => {
      const holder = new KeyRingHolder(ring, kek);
      holder.reload([rec]);
      const token = await holder.ring.signJws(CLAIMS, WARRANT_TYP);
      const first = await holder.ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
      holder.reload([rec]);
      expect(await holder.ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema)).toBe(first);
    });

    it('answers from the new ring with the key revoked, not with the state it cached', async () => {
      const next = await generateSigningKey(kek, NOW);
      const holder = new KeyRingHolder(ring, kek);
      holder.reload([{ ...rec, state: 'retired' }, next]);
      const token = await ring.signJws(CLAIMS, WARRANT_TYP);
      const before = await holder.ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
      expect(before?.keyState).toBe('retired');
      holder.reload([{ ...rec, state: 'revoked' }, next]);
      const after = await holder.ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
      expect(after?.keyState).toBe('revoked');
      expect(after?.claims).toEqual(before?.claims);
    });

    it('no longer verifies a token whose key left the ring', async () => {
      const token = await ring.signJws(CLAIMS, WARRANT_TYP);
      expect(await ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema)).not.toBeNull();
      const other = await generateSigningKey(kek, NOW);
      const holder = new KeyRingHolder(ring, kek);
      holder.reload([other]);
      expect(await holder.ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema)).toBeNull();
    });
  });
});
