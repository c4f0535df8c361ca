import { openCheckpoint, type Checkpoint } from '../../src/log/checkpoint.js';
import { NoteVerifier } from '../../src/log/note.js';
import { eventCount } from './db.js';
import type { TestServer } from './server.js';

/** The log's note verifier, as a server publishes it. */
export async function verifierOf(s: TestServer): Promise<NoteVerifier> {
  return NoteVerifier.fromVerifierKey(
    ((await s.http('GET', '/v1/log/verifier-key')).text.split('\n')[0] ?? '').trim(),
  );
}

/**
 * Waits until the checkpoint a server serves covers every event in its database, on
 * either store, and has stopped growing. `url` names the database when it is not the one
 * the server was started with (several nodes sharing one PostgreSQL database).
 */
export async function settledLog(s: TestServer, url = s.databaseUrl): Promise<Checkpoint> {
  const verifier = await verifierOf(s);
  let last = -1;
  for (let i = 0; i < 200; i++) {
    const res = await s.http('GET', '/v1/log/checkpoint');
    if (res.status === 200) {
      const { checkpoint } = openCheckpoint(res.text, [verifier]);
      const events = await eventCount(url);
      if (checkpoint.size === events && checkpoint.size === last) return checkpoint;
      last = checkpoint.size;
    }
    await new Promise((r) => setTimeout(r, 60));
  }
  throw new Error('the log did not settle');
}

/** {@link settledLog} on a PostgreSQL database the caller names. */
export const settledPgCheckpoint = (s: TestServer, url: string): Promise<Checkpoint> =>
  settledLog(s, url);
