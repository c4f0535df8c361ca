import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { redeemArgs } from '../helpers/cli-args.js';
import { TestServer, type DevPrincipal, type HttpResult } from '../helpers/server.js';
import { leaksIn, redemptionBody } from './support.js';

describe('secrets in logs and error bodies', () => {
  describe('when a scenario issues, redeems, replays and mangles tokens, warrants and receipts', () => {
    it('never prints a token, warrant, receipt or key material', async () => {
      const s = await TestServer.start({ env: { COUNTERSIGN_LOG_LEVEL: 'debug' } });
      const bodies: HttpResult[] = [];
      const keep = (r: HttpResult): HttpResult => {
        bodies.push(r);
        return r;
      };
      try {
        const kek = readFileSync(join(s.dataDir, 'kek'), 'utf8').trim();
        const w = await issueWarrant(s, { maxUses: 1 });
        const ok = await s.http('POST', '/v1/redemptions', {
          as: 'deploy-eu',
          body: redemptionBody(w.token),
        });
        expect(ok.status).toBe(200);
        const receipt = ok.body.receipt as string;
        const [h, p, sig] = w.token.split('.') as [string, string, string];
        const tampered = `${h}.${p}.${sig.slice(0, -4)}AAAA`;
        const admin = s.tokens.admin;

        // Refusals of every kind, each carrying secrets in the request.
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            body: redemptionBody(w.token),
          }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-us',
            body: redemptionBody(w.token),
          }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            body: redemptionBody(tampered),
          }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            body: redemptionBody(receipt),
          }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', { as: 'alice', body: redemptionBody(w.token) }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', {
            bearer: `${admin}x`,
            body: redemptionBody(w.token),
          }),
        );
        keep(await s.http('POST', '/v1/redemptions', { bearer: w.token, body: {} }));
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            raw: `{"warrant":"${w.token}",}`,
          }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            raw: `{"warrant":"${w.token}","warrant":"${w.token}"}`,
          }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            body: { warrant: w.token, action: { resource: receipt } },
          }),
        );
        keep(
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-eu',
            body: { warrant: 1, action: w.token },
          }),
        );
        keep(
          await s.http('POST', '/v1/fulfilments', {
            as: 'deploy-eu',
            body: { receipt: tampered, target: 'default', outcome: 'success' },
          }),
        );
        keep(
          await s.http('POST', '/v1/fulfilments', {
            as: 'deploy-us',
            body: { receipt, target: 'default', outcome: 'success' },
          }),
        );
        keep(
          await s.http('POST', '/v1/fulfilments', {
            as: 'deploy-eu',
            body: { receipt, target: 'default', outcome: 'success', detail: `password=${kek}` },
          }),
        );
        keep(
          await s.http('POST', '/v1/nhis', {
            as: 'admin',
            body: { id: w.token, kind: 'secret', owner: kek },
          }),
        );
        keep(
          await s.http('POST', '/v1/nhis', {
            as: 'admin',
            raw: `{"id":"${kek}"`,
            headers: { 'content-type': 'application/json' },
          }),
        );
        keep(
          await s.http('POST', '/v1/nhis', {
            as: 'admin',
            raw: w.token,
            headers: { 'content-type': 'text/plain' },
          }),
        );
        keep(await s.http('GET', `/v1/requests/${encodeURIComponent(w.token)}`, { as: 'admin' }));
        keep(await s.http('GET', `/v1/nhis/x?token=${admin}`, { bearer: receipt }));
        keep(await s.http('GET', '/v1/keys', { headers: { authorization: `Basic ${admin}` } }));
        for (const p of ['alice', 'bob', 'audra', 'collector'] as DevPrincipal[]) {
          keep(await s.http('POST', '/v1/keys/rotation', { as: p, body: { reason: kek } }));
        }
        await s.cli(redeemArgs(tampered), 'deploy-eu');
        await s.cli(['request', 'show', w.requestId], { bearer: `${admin}zz` });
        // A key rotation writes sealed key material: it must not reach the log either.
        expect(
          (await s.http('POST', '/v1/keys/rotation', { as: 'admin', body: { reason: 'scan' } }))
            .status,
        ).toBeLessThan(300);

        // Dev mode prints the dev tokens once on the terminal at start, by design (README);
        // everything else the process writes is scanned.
        const logs = s
          .logs()
          .split('\n')
          .filter((l) => !/^ {2}[\w-]+ +cs_[\w-]+$/.test(l))
          .join('\n');
        const secrets: Array<[string, string]> = [
          ['KEK', kek],
          ['warrant', w.token],
          ['warrant signature', sig],
          ['tampered warrant', tampered],
          ['receipt', receipt],
          ['receipt signature', receipt.split('.')[2] as string],
          ...Object.entries(s.tokens).map(([who, t]) => [`token of ${who}`, t] as [string, string]),
        ];
        const haystacks: Array<[string, string]> = [
          ['server log', logs],
          ...bodies
            .filter((b) => b.status >= 400)
            .map((b, i) => [`error body ${i} (${b.status})`, b.text] as [string, string]),
        ];
        const leaks = leaksIn(secrets, haystacks);
        console.log(
          `secrets: scanned ${logs.split('\n').length} log lines and ${haystacks.length - 1} error bodies ` +
            `for ${secrets.length} secrets: ${leaks.length} leaks`,
        );
        expect(leaks).toEqual([]);
      } finally {
        await s.stop();
      }
    }, 60_000);
  });
});
