import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/server.js';

/** Local files named on the command line that are not what they should be: exit 2, not 1. */
describe('the log commands given a local file that is not theirs', () => {
  let dir: string;
  // No server answers here: none must be needed to refuse these.
  const offline = { COUNTERSIGN_ADDR: 'http://127.0.0.1:9' };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-local-files-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses log verify --data of a directory holding no database, as a usage error', async () => {
    const out = await runCli(['log', 'verify', '--data', join(dir, 'nowhere')], offline);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(`no SQLite database at ${join(dir, 'nowhere', 'countersign.db')}`);
  });

  it('refuses log witness --state of a file that is not a witness state, as a usage error', async () => {
    const state = join(dir, 'state.json');
    writeFileSync(state, '{ not json');
    const out = await runCli(['log', 'witness', '--state', state], offline);
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(`cannot read the witness state ${state}`);
  });
});
