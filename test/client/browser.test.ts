import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

/**
 * What a browser bundle of `entry` pulls in that only Node has: `node:` modules the
 * bundler could not resolve for the browser, or left as imports.
 */
async function nodeOnlyImports(entry: string): Promise<string[]> {
  try {
    const out = await build({
      absWorkingDir: ROOT,
      entryPoints: [entry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const imported = Object.values(out.metafile.outputs).flatMap((o) =>
      o.imports.map((i) => i.path),
    );
    return imported.filter((p) => p.startsWith('node:'));
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string }> }).errors ?? [];
    return errors.map((x) => x.text).filter((t) => t.includes('node:'));
  }
}

describe('the client SDK in a browser bundle', () => {
  describe('when src/client/index.ts is bundled for the browser', () => {
    it('pulls in no node: module', async () => {
      expect(await nodeOnlyImports('src/client/index.ts')).toEqual([]);
    }, 60_000);
  });

  describe('when a module that needs Node is bundled the same way', () => {
    it('is caught', async () => {
      expect(await nodeOnlyImports('src/core/crypto.ts')).not.toEqual([]);
    }, 60_000);
  });
});
