import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiToken } from '../../src/identity/api-tokens.js';
import { requestBody } from '../fixtures/request-body.js';
import { uniqueNhi } from '../helpers/chain.js';
import { observe } from '../helpers/observation.js';
import { requestCreateArgs } from '../helpers/cli-args.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { settledLog } from '../helpers/log.js';
import { runCli, serveDuringSuite, type DevPrincipal, type TestServer } from '../helpers/server.js';

/** The body of a prod request alice makes in dev mode; `over` replaces fields. */
const prodRequest = (subject: string, over: Record<string, unknown> = {}) =>
  requestBody(subject, { environment: 'prod', reason: 'vocabulary test', ...over });

describeOnEveryStore('closed vocabularies, met over HTTP', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));

  const register = (as: DevPrincipal, id: string, owner: string) =>
    s.http('POST', '/v1/nhis', { as, body: { id, kind: 'service_account', owner } });
  const request = (
    subject: string,
    over: Record<string, unknown> = {},
    as: DevPrincipal = 'alice',
  ) => s.http('POST', '/v1/requests', { as, body: prodRequest(subject, over) });
  const setOwner = (as: DevPrincipal, id: string, owner: string, reason = 'handover') =>
    s.http('PUT', `/v1/nhis/${encodeURIComponent(id)}/owner`, { as, body: { owner, reason } });

  describe('when a requester spells prod another way', () => {
    let subject: string;
    beforeAll(async () => {
      subject = uniqueNhi('svc');
      expect((await register('alice', subject, 'team-data')).status).toBe(201);
    });

    it.each(['PROD', 'Prod', 'prod.'])(
      'refuses %s with 422 ENVIRONMENT_UNKNOWN instead of the one-approver catch-all',
      async (environment) => {
        const r = await request(subject, { environment });
        expect([r.status, r.body.code]).toEqual([422, 'ENVIRONMENT_UNKNOWN']);
        expect(r.body.declared).toEqual(['prod', 'staging', 'dev']);
      },
    );

    it('takes prod itself, under the two-approver rule', async () => {
      const r = await request(subject);
      expect(r.status, r.text).toBe(201);
      expect(r.body.requiredApprovals).toBe(2);
    });

    it('says so through the CLI, with exit code 2', async () => {
      const out = await s.cli(requestCreateArgs(subject, { env: 'PROD', reason: 'x' }), 'alice');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('ENVIRONMENT_UNKNOWN');
    });
  });

  describe("when someone registers a look-alike of bob's NHI", () => {
    beforeAll(async () => {
      expect((await register('admin', 'svc:bobowned', 'bob')).status).toBe(201);
    });

    it.each(['svc:BobOwned', 'svc:BOBOWNED', 'svc:b0bowned', 'svc:bobovvned'])(
      'refuses %s with 409 NHI_CONFUSABLE naming svc:bobowned',
      async (id) => {
        const r = await register('alice', id, 'team-data');
        expect([r.status, r.body.code, r.body.existing]).toEqual([
          409,
          'NHI_CONFUSABLE',
          'svc:bobowned',
        ]);
      },
    );

    it('refuses the same id again with 409 NHI_EXISTS', async () => {
      const r = await register('admin', 'svc:bobowned', 'bob');
      expect([r.status, r.body.code]).toEqual([409, 'NHI_EXISTS']);
    });

    it('resolves a request naming svc:BOBOWNED to svc:bobowned, so bob as owner may not approve', async () => {
      const r = await request('svc:BOBOWNED');
      expect(r.status, r.text).toBe(201);
      expect(r.body.body).toMatchObject({ subject: 'svc:bobowned', subjectOwner: 'bob' });
      const d = await s.http('POST', `/v1/requests/${r.body.id}/decisions`, {
        as: 'bob',
        body: { decision: 'approve', reason: 'looks fine' },
      });
      expect([d.status, d.body.code]).toEqual([403, 'SEPARATION_OF_DUTIES']);
    });

    it('shows svc:bobowned when asked for svc:BobOwned', async () => {
      const r = await s.http('GET', '/v1/nhis/svc:BobOwned', { as: 'audra' });
      expect([r.status, r.body.id, r.body.owner]).toEqual([200, 'svc:bobowned', 'bob']);
    });

    const seen = {
      target: 'pg-eu',
      observedAt: new Date().toISOString(),
      fact: { kind: 'grant', resource: 'db/orders', permission: 'read', present: true },
    };

    it('records an observation of svc:BOBOWNED under svc:bobowned', async () => {
      const r = await observe(s, [{ subject: 'svc:BOBOWNED', ...seen }]);
      expect([r.status, r.body.recorded], r.text).toEqual([200, 1]);
      const cp = await settledLog(s);
      const leaves = await s.http('GET', `/v1/log/entries?start=0&end=${cp.size}`, { as: 'audra' });
      const recorded = (leaves.body.entries as Array<{ leaf: string }>)
        .map((e) => JSON.parse(e.leaf) as { type: string; links: { nhi?: string } })
        .filter((e) => e.type === 'observation.recorded');
      expect(recorded.map((e) => e.links.nhi)).toEqual(['svc:bobowned']);
    });

    it('knows the same observation under another spelling, alone or twice in one batch', async () => {
      const again = await observe(s, [{ subject: 'svc:bobowned', ...seen }]);
      expect([again.status, again.body.recorded, again.body.duplicates]).toEqual([200, 0, 1]);
      const later = { ...seen, observedAt: new Date(Date.now() + 1000).toISOString() };
      const twice = await observe(s, [
        { subject: 'svc:bobowned', ...later },
        { subject: 'svc:BobOwned', ...later },
      ]);
      expect([twice.status, twice.body.code]).toEqual([400, 'OBSERVATION_DUPLICATE']);
    });
  });

  describe('when someone registers an NHI for a group', () => {
    it('lets a member register it for their own group, as the README quickstart does', async () => {
      const out = await s.cli(
        ['nhi', 'add', '--id', uniqueNhi(), '--kind', 'ai_agent', '--owner', 'team-data'],
        'alice',
      );
      expect(out.code, out.stderr).toBe(0);
    });

    it.each<[DevPrincipal, string]>([
      ['bob', 'team-data'],
      ['alice', 'sre'],
    ])('refuses %s, not a member of %s, with 403 FORBIDDEN', async (as, owner) => {
      const r = await register(as, uniqueNhi('svc'), owner);
      expect([r.status, r.body.code]).toEqual([403, 'FORBIDDEN']);
      expect(r.body.detail).toContain(`member of group ${owner}`);
    });

    it('reads back and hands over an NHI whose id is as long as ids go, slashes and all', async () => {
      const id = `svc:${'a/'.repeat(99)}bc`;
      expect(id).toHaveLength(4 + 200);
      expect((await register('admin', id, 'team-data')).status).toBe(201);
      const path = `/v1/nhis/${encodeURIComponent(id)}`;
      const shown = await s.http('GET', path, { as: 'audra' });
      expect([shown.status, shown.body.id]).toEqual([200, id]);
      const moved = await s.http('PUT', `${path}/owner`, {
        as: 'admin',
        body: { owner: 'sre', reason: 'the team moved' },
      });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      const out = await s.cli(['nhi', 'show', id], 'audra');
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('sre');
    });

    it('lets an admin register it for any owner', async () => {
      expect((await register('admin', uniqueNhi('svc'), 'payments')).status).toBe(201);
    });
  });

  describe("when someone changes an NHI's owner", () => {
    let id: string;
    beforeAll(async () => {
      id = uniqueNhi('svc');
      expect((await register('alice', id, 'team-data')).status).toBe(201);
    });

    it('refuses a non-member of the owner group with 403 FORBIDDEN, changing nothing', async () => {
      const r = await setOwner('bob', id, 'sre');
      expect([r.status, r.body.code]).toEqual([403, 'FORBIDDEN']);
      expect((await s.http('GET', `/v1/nhis/${id}`, { as: 'audra' })).body.owner).toBe('team-data');
    });

    it('refuses a member handing it to a group they are not in, which would shed the owner rule', async () => {
      for (const owner of ['sre', 'nobody']) {
        const r = await setOwner('alice', id, owner);
        expect([r.status, r.body.code]).toEqual([403, 'FORBIDDEN']);
        expect(r.body.detail).toContain(`hand ${id} to ${owner}`);
      }
      expect((await s.http('GET', `/v1/nhis/${id}`, { as: 'audra' })).body.owner).toBe('team-data');
    });

    it('lets an admin hand it over, logs nhi.owner_changed, and then the old owners may not take it back', async () => {
      const before = await request(id);
      const r = await setOwner('admin', id, 'sre', 'sre runs it now');
      expect([r.status, r.body.owner]).toEqual([200, 'sre']);
      const again = await setOwner('alice', id, 'team-data');
      expect([again.status, again.body.code]).toEqual([403, 'FORBIDDEN']);

      const cp = await settledLog(s);
      const leaves = await s.http('GET', `/v1/log/entries?start=0&end=${cp.size}`, { as: 'audra' });
      const changes = (leaves.body.entries as Array<{ leaf: string }>)
        .map(
          (e) => JSON.parse(e.leaf) as { type: string; actor: string; links: object; data: object },
        )
        .filter((e) => e.type === 'nhi.owner_changed');
      expect(changes).toContainEqual(
        expect.objectContaining({
          actor: 'admin',
          links: { nhi: id },
          data: { from: 'team-data', to: 'sre', reason: 'sre runs it now' },
        }),
      );
      // A request made before the change keeps the owner pinned in its body.
      const kept = await s.http('GET', `/v1/requests/${before.body.id}`, { as: 'audra' });
      expect(kept.body.body.subjectOwner).toBe('team-data');
      expect((await request(id)).body.body.subjectOwner).toBe('sre');
    });

    it('lets an admin change it through the CLI, by a case variant of the id', async () => {
      const out = await s.cli(
        [
          'nhi',
          'set-owner',
          id.toUpperCase().replace(/^SVC:/, 'svc:'),
          '--owner',
          'team-data',
        ].concat(['--reason', 'back to the data team']),
        'admin',
      );
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain(`${id} owned by team-data`);
    });
  });

  describe('when the requester names themselves as executor in prod', () => {
    it('refuses it with 403 SEPARATION_OF_DUTIES, and allows it in staging', async () => {
      const subject = uniqueNhi('svc');
      await register('alice', subject, 'team-data');
      const self = { executor: { principal: 'alice' } };
      const prod = await request(subject, self);
      expect([prod.status, prod.body.code]).toEqual([403, 'SEPARATION_OF_DUTIES']);
      const staging = await request(subject, { ...self, environment: 'staging' });
      expect(staging.status, staging.text).toBe(201);
      expect(staging.body.body.policy.requesterMayExecute).toBe(true);
    });
  });

  describe('when notBefore lies beyond the maximum lead time', () => {
    it('refuses a start in 2030 with 422 POLICY_LIMIT_EXCEEDED, and accepts one within 7 days', async () => {
      const subject = uniqueNhi('svc');
      await register('alice', subject, 'team-data');
      const far = await request(subject, {
        notBefore: '2030-01-01T00:00:00Z',
        duration: undefined,
        notAfter: '2030-01-01T01:00:00Z',
      });
      expect([far.status, far.body.code, far.body.rule]).toEqual([
        422,
        'POLICY_LIMIT_EXCEEDED',
        'prod',
      ]);
      expect(far.body.maxLeadTimeMs).toBe(7 * 86_400_000);
      const soon = new Date(Date.now() + 6 * 86_400_000).toISOString();
      expect((await request(subject, { notBefore: soon })).status).toBe(201);
    });
  });
});

describe('starting with two principals of one id', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-principals-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const serve = (principals: Array<{ id: string }>, dev: boolean) => {
    const file = join(dir, `config-${dev ? 'dev' : 'file'}.json`);
    const config = {
      principals: principals.map((p) => ({
        ...p,
        roles: ['admin'],
        tokenSha256: newApiToken().sha256,
      })),
      ...(dev ? {} : { policyFile: join(dir, 'none.yaml') }),
    };
    writeFileSync(file, JSON.stringify(config));
    const args = ['serve', ...(dev ? ['--dev'] : []), '--config', file, '--data', dir];
    return runCli([...args, '--port', '0'], {});
  };

  it('refuses a config file that declares one id twice, naming it, with exit code 2', async () => {
    const out = await serve([{ id: 'ops' }, { id: 'ops' }], false);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('CONFIG_INVALID');
    expect(out.stderr).toContain('principal ops is declared more than once');
  });

  it('refuses a config principal with the id of a dev principal', async () => {
    const out = await serve([{ id: 'alice' }], true);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('principal alice is declared more than once');
  });
});
