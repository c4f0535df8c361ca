import { describe, expect, it } from 'vitest';
import { uniqueNhi } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { settledLog } from '../helpers/log.js';
import { runCli } from '../helpers/server.js';

describeOnEveryStore('crash safety', (store) => {
  describe('when the server is killed with SIGKILL during a burst of writes', () => {
    it('restarts to a log that verifies and holds every acknowledged write', async () => {
      const d = await store.deployment();
      let s = await d.start();
      try {
        const ids = Array.from({ length: 400 }, () => uniqueNhi('svc'));
        const acked: string[] = [];
        const burst = ids.map(async (id, i) => {
          await new Promise((r) => setTimeout(r, i));
          try {
            const r = await s.http('POST', '/v1/nhis', {
              as: 'admin',
              body: { id, kind: 'secret', owner: 'crash' },
            });
            if (r.status === 201) acked.push(id);
          } catch {
            // connection reset by the kill: not acknowledged
          }
        });
        // Kill once the burst is well under way: some writes acknowledged, many in flight.
        while (acked.length < 40) await new Promise((r) => setTimeout(r, 5));
        s.proc.kill('SIGKILL');
        await Promise.all(burst);
        await new Promise((r) =>
          s.proc.exitCode !== null || s.proc.signalCode !== null ? r(null) : s.proc.once('exit', r),
        );
        console.log(
          `crash (${store.name}): ${acked.length} of ${ids.length} writes acknowledged before SIGKILL`,
        );

        s = await d.start();
        const cp = await settledLog(s);
        const entries = (
          await s.http('GET', `/v1/log/entries?start=0&end=${cp.size}`, { as: 'audra' })
        ).body.entries as Array<{ leaf: string }>;
        const logged = new Set(
          entries
            .map((e) => JSON.parse(e.leaf))
            .filter((e) => e.type === 'nhi.registered')
            .map((e) => e.links.nhi as string),
        );
        const stored = new Set<string>();
        for (const id of ids) {
          const r = await s.http('GET', `/v1/nhis/${encodeURIComponent(id)}`, { as: 'audra' });
          expect([200, 404], r.text).toContain(r.status);
          if (r.status === 200) stored.add(id);
        }
        for (const id of acked) {
          expect(stored.has(id), `state for ${id}`).toBe(true);
          expect(logged.has(id), `event for ${id}`).toBe(true);
        }
        // No state without its event, no event without its state.
        expect([...stored].sort()).toEqual([...logged].sort());
        const online = await s.cli(['log', 'verify'], 'audra');
        expect(online.code, online.stdout + online.stderr).toBe(0);
        // Offline, every checkpoint signed before the kill is checked too (SQLite only:
        // a PostgreSQL deployment is audited through a node).
        if (store.name === 'SQLite') {
          const offline = await runCli(['log', 'verify', '--data', s.dataDir], {});
          expect(offline.code, offline.stdout + offline.stderr).toBe(0);
        }
      } finally {
        await s.stop();
        await d.dispose();
      }
    });
  });
});
