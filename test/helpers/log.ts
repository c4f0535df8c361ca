import { openCheckpoint } from '../../src/log/checkpoint.js';
import { NoteVerifier } from '../../src/log/note.js';
import type { Checkpoint } from '../../src/log/checkpoint.js';
import type { TestServer } from './server.js';

/** Waits until the server's signed checkpoint covers every queued event. */
export async function settledCheckpoint(s: TestServer): Promise<Checkpoint> {
  const verifier = NoteVerifier.fromVerifierKey(
    ((await s.http('GET', '/v1/log/verifier-key')).text.split('\n')[0] ?? '').trim(),
  );
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const res = await s.http('GET', '/v1/log/checkpoint');
    if (res.status === 200) {
      const { checkpoint } = openCheckpoint(res.text, [verifier]);
      const total = await eventCount(s);
      if (checkpoint.size === total && checkpoint.size === last) return checkpoint;
      last = checkpoint.size;
    }
    await new Promise((r) => setTimeout(r, 60));
  }
  throw new Error('the log did not settle');
}

async function eventCount(s: TestServer): Promise<number> {
  const { query } = await import('./db.js');
  return query<{ n: number }>(s.dataDir, 'select count(*) as n from events')[0]!.n;
}
