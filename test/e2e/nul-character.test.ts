import { expect, it } from 'vitest';
import { issueWarrant, uniqueNhi } from '../helpers/chain.js';
import { eventCount } from '../helpers/db.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

/**
 * U+0000 is JSON, and SQLite keeps it, but PostgreSQL's text cannot: a statement holding
 * it fails. So it is refused at the edge on every store alike, as a client's mistake (400),
 * and a redemption refused for it is recorded like any unreadable one.
 */
describeOnEveryStore('U+0000 in what a client sends', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));

  it('refuses it in a path or query parameter with 400 NUL_CHARACTER', async () => {
    for (const path of ['/v1/nhis/svc:ab%00c', '/v1/requests?subject=ab%00c']) {
      const r = await s.http('GET', path, { as: 'audra' });
      expect([r.status, r.body.code], `${path}: ${r.text}`).toEqual([400, 'NUL_CHARACTER']);
    }
  });

  it('refuses it in a body with 400 NUL_CHARACTER, changing nothing', async () => {
    const id = uniqueNhi('svc');
    const nhi = { id, kind: 'service_account', owner: 'team-data' };
    expect((await s.http('POST', '/v1/nhis', { as: 'admin', body: nhi })).status).toBe(201);
    const events = await eventCount(s.databaseUrl);
    const r = await s.http('PUT', `/v1/nhis/${encodeURIComponent(id)}/owner`, {
      as: 'admin',
      body: { owner: 'sre', reason: 'x\u0000y' },
    });
    expect([r.status, r.body.code], r.text).toEqual([400, 'NUL_CHARACTER']);
    expect(await eventCount(s.databaseUrl)).toBe(events);
  });

  it('refuses a redemption holding it, and records the refusal', async () => {
    const w = await issueWarrant(s, { maxUses: 2 });
    const events = await eventCount(s.databaseUrl);
    const r = await s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: {
        warrant: w.token,
        action: { resource: 'db/orders\u0000', permission: 'read', environment: 'staging' },
      },
    });
    expect([r.status, r.body.code], r.text).toEqual([400, 'NUL_CHARACTER']);
    expect(await eventCount(s.databaseUrl)).toBe(events + 1);
  });
});

describeOnEveryStore('a listing cursor that was never ours', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));
  const cursorOf = (parts: unknown): string =>
    Buffer.from(JSON.stringify(parts)).toString('base64url');

  it('is refused with 400 on every store, even with a NUL hidden inside it', async () => {
    const forged = [
      ['2026-01-01T00:00:00.000Z\u0000', 'req_x'],
      ['2026-01-01T00:00:00.000Z', 'req_x\u0000'],
      ['yesterday', 'req_x'],
    ];
    for (const parts of forged) {
      for (const [path, who] of [
        ['/v1/requests', 'alice'],
        ['/v1/findings', 'audra'],
      ] as const) {
        const r = await s.http('GET', `${path}?cursor=${cursorOf(parts)}`, { as: who });
        expect([r.status, r.body.code], `${path} ${JSON.stringify(parts)}: ${r.text}`).toEqual([
          400,
          'VALIDATION_FAILED',
        ]);
      }
    }
  });

  it('still pages on with the cursor a page gave', async () => {
    for (let i = 0; i < 3; i++) await issueWarrant(s, { maxUses: 1 });
    const first = await s.http('GET', '/v1/requests?limit=2', { as: 'alice' });
    expect(first.status).toBe(200);
    const next = first.body.nextCursor as string;
    const second = await s.http('GET', `/v1/requests?limit=2&cursor=${next}`, { as: 'alice' });
    expect(second.status, second.text).toBe(200);
  });
});
