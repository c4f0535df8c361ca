import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uniqueNhi } from '../helpers/chain.js';
import { query } from '../helpers/db.js';
import { settledCheckpoint } from '../helpers/log.js';
import { runCli, TestServer } from '../helpers/server.js';

describe('crash safety', () => {
  describe('when the server is killed with SIGKILL during a burst of writes', () => {
    it('restarts to a log that verifies and holds every acknowledged write', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-crash-'));
      let s = await TestServer.start({ dataDir: dir });
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
        console.log(`crash: ${acked.length} of ${ids.length} writes acknowledged before SIGKILL`);

        s = await TestServer.start({ dataDir: dir });
        await settledCheckpoint(s);
        const logged = new Set(
          query<{ nhi_id: string }>(
            dir,
            "select nhi_id from events where type = 'nhi.registered'",
          ).map((r) => r.nhi_id),
        );
        const stored = new Set(query<{ id: string }>(dir, 'select id from nhis').map((r) => r.id));
        for (const id of acked) {
          expect(stored.has(id), `state for ${id}`).toBe(true);
          expect(logged.has(id), `event for ${id}`).toBe(true);
        }
        // No state without its event, no event without its state.
        expect([...stored].sort()).toEqual([...logged].sort());
        const verify = await runCli(['log', 'verify', '--data', dir], {});
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      } finally {
        await s.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
