import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DIR, actionYaml } from '../helpers/actions-runner.js';
import { ROOT } from '../helpers/server.js';

const DIST = join(ACTION_DIR, 'dist');

/** Runs the project's bundle script into `outdir`; its exit code and output. */
function buildInto(outdir: string): Promise<{ code: number; output: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [join(ROOT, 'scripts/build-action.mjs'), outdir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    p.stdout.on('data', (c: Buffer) => (output += c.toString()));
    p.stderr.on('data', (c: Buffer) => (output += c.toString()));
    p.once('close', (code) => ok({ code: code ?? -1, output }));
  });
}

describe('the GitHub Action bundle', () => {
  describe('when it is built again from the sources', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'countersign-action-build-'));
    beforeAll(async () => {
      const built = await buildInto(outdir);
      expect(built.code, built.output).toBe(0);
    });
    afterAll(() => rmSync(outdir, { recursive: true, force: true }));

    it('matches the committed dist byte for byte (else run `npm run build:action`)', () => {
      expect(readdirSync(DIST).sort()).toEqual(readdirSync(outdir).sort());
      for (const file of readdirSync(outdir)) {
        const committed = readFileSync(join(DIST, file), 'utf8');
        expect(committed === readFileSync(join(outdir, file), 'utf8'), file).toBe(true);
      }
    });
  });

  describe('when the runner reads action.yml', () => {
    it('runs the bundled main and post steps on a current Node runtime', () => {
      const { runs } = actionYaml();
      expect(runs).toEqual({ using: 'node24', main: 'dist/main.cjs', post: 'dist/post.cjs' });
      expect(readdirSync(DIST).sort()).toEqual(['main.cjs', 'post.cjs']);
    });
  });
});
