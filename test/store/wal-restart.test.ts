import { describe, expect, it } from 'vitest';
import { checkpointRound, type CheckpointResult } from '../../src/store/sqlite/wal-restart.js';

/** Checkpoints that answer `results` in turn, and a writer that records being held. */
function scene(...results: CheckpointResult[]) {
  const events: string[] = [];
  const checkpoint = (): CheckpointResult => {
    const r = results.shift();
    if (!r) throw new Error('database is locked');
    events.push(`checkpoint ${r.checkpointed}/${r.log}`);
    return r;
  };
  const holdWriter = (): Promise<() => void> => {
    events.push('hold');
    return Promise.resolve(() => events.push('release'));
  };
  return { events, checkpoint, holdWriter };
}

const copied = (log: number, checkpointed = log, busy = 0): CheckpointResult => ({
  busy,
  log,
  checkpointed,
});

describe('a checkpoint round', () => {
  it('leaves the writer alone while the WAL is short', async () => {
    const s = scene(copied(100));
    expect(await checkpointRound(s.checkpoint, s.holdWriter, 4096)).toBe('short');
    expect(s.events).toEqual(['checkpoint 100/100']);
  });

  it('leaves the writer alone when a reader keeps frames in the WAL', async () => {
    const s = scene(copied(9000, 5000));
    expect(await checkpointRound(s.checkpoint, s.holdWriter, 4096)).toBe('blocked');
    expect(s.events).toEqual(['checkpoint 5000/9000']);
  });

  it('leaves the writer alone when another checkpoint was busy', async () => {
    const s = scene(copied(9000, 9000, 1));
    expect(await checkpointRound(s.checkpoint, s.holdWriter, 4096)).toBe('blocked');
    expect(s.events).toEqual(['checkpoint 9000/9000']);
  });

  it('holds the writer for the last frames of a long WAL, so that it rewinds', async () => {
    const s = scene(copied(9000), copied(9200));
    expect(await checkpointRound(s.checkpoint, s.holdWriter, 4096)).toBe('rewinds');
    expect(s.events).toEqual(['checkpoint 9000/9000', 'hold', 'checkpoint 9200/9200', 'release']);
  });

  it('says so when the held checkpoint could not copy everything', async () => {
    const s = scene(copied(9000), copied(9200, 9100));
    expect(await checkpointRound(s.checkpoint, s.holdWriter, 4096)).toBe('blocked');
    expect(s.events.at(-1)).toBe('release');
  });

  it('releases the writer when the held checkpoint fails', async () => {
    const s = scene(copied(9000));
    await expect(checkpointRound(s.checkpoint, s.holdWriter, 4096)).rejects.toThrow(/locked/);
    expect(s.events).toEqual(['checkpoint 9000/9000', 'hold', 'release']);
  });
});
