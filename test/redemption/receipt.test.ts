/**
 * Every receipt the redemption path signs reads back as `ReceiptClaims`. This runs the
 * built server (`npx tsc -p tsconfig.build.json` first), as the end-to-end tests do, so
 * the receipts are the ones the route, the service and the key ring really produce.
 */
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../../src/core/json.js';
import { RECEIPT_TYP, ReceiptSchema } from '../../src/redemption/receipt.js';
import { issueWarrant } from '../helpers/chain.js';
import { AUDIENCE, FederatedServer } from '../helpers/federated.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

let f: FederatedServer;
let s: TestServer;
serveDuringSuite(FederatedServer, (started) => {
  f = started;
  s = started.server;
});

/** Verifies a receipt against the server's published keys and reads it strictly. */
async function readReceipt(receipt: string): Promise<unknown> {
  const jwks = (await s.http('GET', '/.well-known/jwks.json')).body as JSONWebKeySet;
  const { payload, protectedHeader } = await compactVerify(receipt, createLocalJWKSet(jwks));
  expect(protectedHeader.typ).toBe(RECEIPT_TYP);
  return parseStrictJson(new TextDecoder().decode(payload));
}

const SCOPE = [
  { resource: 'db/*', permissions: ['read', 'write'] },
  { resource: 'queue/jobs', permissions: ['publish'] },
];
const TARGETS = ['db-eu-1', 'db-us-1'];

/** Concrete actions inside `SCOPE`, naming one of `targets` (none when it is empty). */
const action = (environment: string, targets: readonly string[]) =>
  fc
    .record({
      grant: fc.oneof(
        fc.record({
          resource: fc.stringMatching(/^[A-Za-z0-9._:@=+-]{1,24}$/).map((n) => `db/${n}`),
          permission: fc.constantFrom('read', 'write'),
        }),
        fc.constant({ resource: 'queue/jobs', permission: 'publish' }),
      ),
      target: targets.length === 0 ? fc.constant(undefined) : fc.constantFrom(...targets),
    })
    .filter(({ grant }) => !['db/.', 'db/..'].includes(grant.resource))
    .map(({ grant, target }) => ({
      ...grant,
      environment,
      ...(target === undefined ? {} : { target }),
    }));

describe('the receipts of allowed redemptions', () => {
  describe('when an API-token executor redeems a warrant use after use', () => {
    it('each parses as ReceiptClaims, signing the action and use it was given', async () => {
      const { token, warrantId } = await issueWarrant(s, {
        env: 'staging',
        scope: SCOPE,
        targets: TARGETS,
        maxUses: 10,
      });
      let use = 0;
      await fc.assert(
        fc.asyncProperty(action('staging', TARGETS), async (a) => {
          const r = await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            body: { warrant: token, action: a },
          });
          expect(r.status, r.text).toBe(200);
          const claims = await readReceipt(r.body.receipt);
          expect(Value.Errors(ReceiptSchema, claims).First()).toBeUndefined();
          use++;
          expect(claims).toMatchObject({
            warrant_id: warrantId,
            use,
            max_uses: 10,
            action: a,
            executor: 'deploy-eu',
            executor_identity: { via: 'api_token' },
          });
        }),
        { numRuns: 10 },
      );
    });
  });

  describe('when a workload redeems a warrant bound to its claims', () => {
    it('each parses as ReceiptClaims, with the oidc proof of the token it spent', async () => {
      const { token } = await issueWarrant(s, {
        env: 'prod',
        scope: SCOPE,
        maxUses: 4,
        executorBinding: {
          issuer: f.github.issuer,
          claims: { repository: 'acme/deploy', environment: 'prod' },
        },
      });
      await fc.assert(
        fc.asyncProperty(action('prod', []), async (a) => {
          const job = await f.github.mintGithubActions(new Date(), AUDIENCE);
          const r = await s.http('POST', '/v1/redemptions', {
            bearer: job,
            body: { warrant: token, action: a },
          });
          expect(r.status, r.text).toBe(200);
          const claims = await readReceipt(r.body.receipt);
          expect(Value.Errors(ReceiptSchema, claims).First()).toBeUndefined();
          expect(claims).toMatchObject({
            action: a,
            executor_identity: { via: 'oidc', issuer: f.github.issuer },
          });
        }),
        { numRuns: 4 },
      );
    });
  });
});
