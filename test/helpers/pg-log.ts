import { openCheckpoint, type Checkpoint } from '../../src/log/checkpoint.js';
import { NoteVerifier } from '../../src/log/note.js';
import { pgQuery } from './postgres.js';
import type { TestServer } from './server.js';

/** The log's note verifier, as a server publishes it. */
export async function verifierOf(s: TestServer): Promise<NoteVerifier> {
  return NoteVerifier.fromVerifierKey(
    ((await s.http('GET', '/v1/log/verifier-key')).text.split('\n')[0] ?? '').trim(),
  );
}

/**
 * Waits until the checkpoint a server serves covers every event in the PostgreSQL
 * database (the SQLite twin of this reads the data dir; see log.ts).
 */
export async function settledPgCheckpoint(s: TestServer, url: string): Promise<Checkpoint> {
  const verifier = await verifierOf(s);
  let last = -1;
  for (let i = 0; i < 200; i++) {
    const res = await s.http('GET', '/v1/log/checkpoint');
    if (res.status === 200) {
      const { checkpoint } = openCheckpoint(res.text, [verifier]);
      const [row] = await pgQuery<{ n: number }>(url, 'select count(*)::int as n from events');
      if (checkpoint.size === row!.n && checkpoint.size === last) return checkpoint;
      last = checkpoint.size;
    }
    await new Promise((r) => setTimeout(r, 60));
  }
  throw new Error('the log did not settle');
}
