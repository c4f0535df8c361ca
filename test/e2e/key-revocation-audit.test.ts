import { describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { editBehindServer } from '../helpers/db.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { runCli, type TestServer } from '../helpers/server.js';

const action = { resource: 'db/orders', permission: 'read', environment: 'staging' };
const kidOf = (token: string): string =>
  (
    JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as {
      kid: string;
    }
  ).kid;

/**
 * The server reads its key ring from the signing_keys table. Someone with write access to
 * the database who undoes a revocation there gets the key's warrants redeemed again; the
 * log still holds the revocation, so the state audit must name both.
 */
describeOnEveryStore('a key revocation undone behind the server', (store) => {
  describe('when the table says retired again and a warrant of that key is redeemed', () => {
    it('makes log verify name the key and the redemption after its revocation', async () => {
      const d = await store.deployment();
      let s: TestServer = await d.start();
      try {
        const w = await issueWarrant(s, { maxUses: 5 });
        const redeem = () =>
          s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            body: { warrant: w.token, action },
          });
        expect((await redeem()).status).toBe(200);
        const kid = kidOf(w.token);
        const revoked = await s.http('POST', `/v1/keys/${kid}/revocation`, {
          as: 'admin',
          body: { reason: 'leaked' },
        });
        expect(revoked.status, revoked.text).toBe(200);
        expect((await redeem()).body.code).toBe('KEY_REVOKED');
        const honest = await runCli(['log', 'verify', '--database', s.databaseUrl], {});
        expect(honest.code, honest.stdout + honest.stderr).toBe(0);

        await s.stop();
        await editBehindServer(
          s.databaseUrl,
          `update signing_keys set state = 'retired', revoked_at = null where kid = '${kid}'`,
        );
        s = await d.start();
        expect((await redeem()).status).toBe(200);

        const out = await runCli(['log', 'verify', '--database', s.databaseUrl], {});
        expect(out.code, out.stdout + out.stderr).toBe(4);
        const lines = out.stdout.split('\n');
        expect(lines).toContain(
          `STATE_DIVERGES: key ${kid} is revoked in the log but retired in the table`,
        );
        expect(
          lines.some((l) =>
            l.startsWith(
              `LOG_TRANSITION_INVALID: warrant ${w.warrantId} is redeemed after its key was revoked at `,
            ),
          ),
          out.stdout,
        ).toBe(true);
      } finally {
        await s.stop();
        await d.dispose();
      }
    });
  });

  describe('when the type column of the key.revoked event is edited', () => {
    it('still publishes the revocation position, read from the hashed leaf', async () => {
      const s = await store.start();
      try {
        const w = await issueWarrant(s);
        const kid = kidOf(w.token);
        const body = { reason: 'leaked' };
        expect(
          (await s.http('POST', `/v1/keys/${kid}/revocation`, { as: 'admin', body })).status,
        ).toBe(200);
        const listed = async () =>
          (await s.http('GET', '/v1/log/verifier-keys', { as: 'audra' })).body.keys.find(
            (k: { kid: string }) => k.kid === kid,
          ) as { state: string; revokedAtIndex: number | null };
        const honest = await listed();
        expect(honest.revokedAtIndex).toEqual(expect.any(Number));
        await editBehindServer(
          s.databaseUrl,
          `update events set type = 'key.rotated' where type = 'key.revoked'`,
        );
        expect(await listed()).toMatchObject({
          state: 'revoked',
          revokedAtIndex: honest.revokedAtIndex,
        });
      } finally {
        await s.stop();
      }
    });
  });
});
