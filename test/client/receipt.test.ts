import { decodeJwt, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  CountersignClient,
  CountersignClientError,
  verifyReceipt,
} from '../../src/client/index.js';
import { issueWarrant } from '../helpers/chain.js';
import { receiptFor } from '../helpers/fulfilment.js';
import { serveDuringSuite, TestServer } from '../helpers/server.js';
import { rejection } from '../helpers/expect-code.js';

const action = { resource: 'db/orders', permission: 'read', environment: 'staging', target: 'eu' };

/** Expects `p` to fail RECEIPT_INVALID for `reason`, without quoting `token`. */
async function expectInvalid(p: Promise<unknown>, reason: string, token: string): Promise<void> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(CountersignClientError);
  expect(e).toMatchObject({ code: 'RECEIPT_INVALID' });
  expect((e as Error).message).toBe(`the receipt does not verify: ${reason}`);
  expect((e as Error).message).not.toContain(token);
}

describe('verifyReceipt', () => {
  let s: TestServer;
  serveDuringSuite(TestServer, (started) => (s = started));

  const newReceipt = async () =>
    receiptFor(s, (await issueWarrant(s, { targets: ['eu'] })).token, action);
  const serverJwks = async () =>
    (await s.http('GET', '/.well-known/jwks.json')).body as JSONWebKeySet;

  /** A client that fetches the JWKS itself, counting how often it does. */
  function fetchingClient(): { cs: CountersignClient; jwksFetches: () => number } {
    let n = 0;
    const cs = new CountersignClient({
      baseUrl: s.url,
      fetch: (input, init) => {
        const url =
          input instanceof Request ? input.url : input instanceof URL ? input.href : input;
        if (url.endsWith('/.well-known/jwks.json')) n += 1;
        return fetch(input, init);
      },
    });
    return { cs, jwksFetches: () => n };
  }

  /** `receipt`'s claims signed again, by a key the server never had, under `kid`. */
  async function forged(receipt: string, kid: string): Promise<string> {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    return new SignJWT(decodeJwt(receipt))
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'receipt+jwt' })
      .sign(privateKey);
  }

  describe('when the receipt is one the server signed', () => {
    it('verifies offline against a pinned JWKS, standalone and through a client', async () => {
      const receipt = await newReceipt();
      const jwks = await serverJwks();
      const claims = await verifyReceipt(receipt, { jwks });
      expect(claims).toMatchObject({ use: 1, max_uses: 1, executor: 'deploy-eu', action });
      const offline = new CountersignClient({ baseUrl: 'http://127.0.0.1:9', jwks });
      expect(await offline.verifyReceipt(receipt)).toEqual(claims);
    });

    it('verifies against the JWKS the client fetched once and cached', async () => {
      const { cs, jwksFetches } = fetchingClient();
      const [a, b] = [await newReceipt(), await newReceipt()];
      expect((await cs.verifyReceipt(a)).jti).not.toBe((await cs.verifyReceipt(b)).jti);
      expect(jwksFetches()).toBe(1);
    });
  });

  describe('when the receipt is not a valid receipt', () => {
    it('refuses a tampered one', async () => {
      const receipt = await newReceipt();
      const [h, p, sig] = receipt.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { max_uses: number };
      claims.max_uses = 1000;
      const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      await expectInvalid(
        verifyReceipt(tampered, { jwks: await serverJwks() }),
        'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
        tampered,
      );
    });

    it('refuses a warrant, which the same key signed under another typ', async () => {
      const { token } = await issueWarrant(s, { targets: ['eu'] });
      await expectInvalid(
        fetchingClient().cs.verifyReceipt(token),
        'ERR_JWT_CLAIM_VALIDATION_FAILED',
        token,
      );
    });

    it('refuses one signed under a kid the JWKS does not have', async () => {
      const fake = await forged(await newReceipt(), 'not-a-countersign-kid');
      await expectInvalid(
        verifyReceipt(fake, { jwks: await serverJwks() }),
        'ERR_JWKS_NO_MATCHING_KEY',
        fake,
      );
    });

    it('refetches the JWKS for an unknown kid once, not for every such receipt', async () => {
      const { cs, jwksFetches } = fetchingClient();
      const real = await newReceipt();
      await cs.verifyReceipt(real);
      for (const kid of ['unknown-1', 'unknown-2']) {
        const fake = await forged(real, kid);
        await expectInvalid(cs.verifyReceipt(fake), 'ERR_JWKS_NO_MATCHING_KEY', fake);
      }
      expect(jwksFetches()).toBe(2);
    });

    it('refuses what is not a JWS at all', async () => {
      await expectInvalid(
        verifyReceipt('x.y', { jwks: await serverJwks() }),
        'ERR_JWS_INVALID',
        'x.y',
      );
    });
  });

  describe('when the server has rotated its signing key', () => {
    it('verifies a new receipt by refetching the JWKS, which a pinned old JWKS cannot', async () => {
      const { cs, jwksFetches } = fetchingClient();
      const before = await newReceipt();
      await cs.verifyReceipt(before);
      const oldJwks = await serverJwks();

      const rotated = await s.cli(['keys', 'rotate', '--reason', 'client test'], 'admin');
      expect(rotated.code, rotated.stderr).toBe(0);
      const after = await newReceipt();

      expect((await cs.verifyReceipt(after)).jti).toBe(decodeJwt(after).jti);
      expect(jwksFetches()).toBe(2);
      await cs.verifyReceipt(before);
      expect(jwksFetches()).toBe(2);
      await expectInvalid(
        verifyReceipt(after, { jwks: oldJwks }),
        'ERR_JWKS_NO_MATCHING_KEY',
        after,
      );
    });
  });
});
