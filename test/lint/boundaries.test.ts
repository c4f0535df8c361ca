import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layerConfig } from '../../eslint.layers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Syntax only (no type information), so that a file that does not exist can be linted
// at a path inside src/ without disturbing the type checker's view of the project.
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      // The project's other rules are not loaded here, so their directives look unused.
      linterOptions: { reportUnusedDisableDirectives: 'off' },
    },
    ...layerConfig(root),
  ],
});

/** The rule ids and messages ESLint reports for `code` placed in `src/<folder>/`. */
async function lint(folder: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, {
    filePath: join(root, 'src', folder, '__lint_probe__.ts'),
  });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('the import-boundary rule', () => {
  describe('when a pure domain area reaches into the store or the service', () => {
    it('fails on the import, naming both layers', async () => {
      const out = await lint(
        'warrant',
        "import type { Store } from '../service/ports/store.js';\nexport type S = Store;\n",
      );
      expect(out).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"domain".*"service"/),
      ]);
      const store = await lint('redemption', "export { openStore } from '../store/open.js';\n");
      expect(store).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"domain".*"store"/),
      ]);
    });
  });

  describe('when one domain area uses another', () => {
    it('allows naming its types, and refuses calling its code', async () => {
      const types =
        "import type { RequestRecord } from '../request/request.js';\n" +
        'export type R = RequestRecord;\n';
      expect(await lint('approval', types)).toEqual([]);
      const value =
        "import { effectiveState } from '../request/lifecycle.js';\n" +
        'export const f = effectiveState;\n';
      expect(await lint('approval', value)).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"domain".*"domain"/),
      ]);
    });
  });

  describe('when an edge skips the service', () => {
    it('refuses http reading the database, and core reaching up at all', async () => {
      expect(await lint('http', "export { openStore } from '../store/open.js';\n")).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"http".*"store"/),
      ]);
      expect(await lint('core', "export { redeem } from '../service/redeem.js';\n")).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"core".*"service"/),
      ]);
    });
  });

  describe('when the client SDK uses the server side', () => {
    it('allows naming its types, and refuses running its code', async () => {
      const types =
        "import type { RequestView } from '../service/queries.js';\n" +
        "import type { RedemptionBody } from '../http/schemas.js';\n" +
        'export type R = [RequestView, typeof RedemptionBody];\n';
      expect(await lint('client', types)).toEqual([]);
      expect(
        await lint(
          'client',
          "export { REDEMPTION_DENIAL_CODES } from '../redemption/redemption.js';\n",
        ),
      ).toEqual([expect.stringMatching(/^boundaries\/dependencies: .*"client".*"domain"/)]);
      expect(await lint('client', "export { problem } from '../http/problem.js';\n")).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"client".*"http"/),
      ]);
    });

    it('lets the CLI run on it, and keeps the server side from calling it', async () => {
      const use = "export { CountersignClient } from '../client/index.js';\n";
      expect(await lint('cli', use)).toEqual([]);
      expect(await lint('service', use)).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"service".*"client"/),
      ]);
    });
  });

  describe('when the admission webhook reaches for countersign', () => {
    it('goes through the client, never the service or the store', async () => {
      const client = "export { CountersignClient } from '../client/index.js';\n";
      expect(await lint('admission', client)).toEqual([]);
      expect(await lint('admission', "export { redeem } from '../service/redeem.js';\n")).toEqual([
        expect.stringMatching(/^boundaries\/dependencies: .*"admission".*"service"/),
      ]);
    });
  });

  describe('when two modules import each other', () => {
    const dir = join(root, 'src', 'service', `__cycle_${process.pid}__`);
    beforeAll(() => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'a.ts'),
        "import { b } from './b.js';\nexport const a = () => b();\n",
      );
      writeFileSync(
        join(dir, 'b.ts'),
        "import { a } from './a.js';\nexport const b = () => a();\n",
      );
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reports the cycle on both', async () => {
      const results = await eslint.lintFiles([join(dir, '*.ts')]);
      expect(results.flatMap((r) => r.messages.map((m) => m.ruleId))).toEqual([
        'import-x/no-cycle',
        'import-x/no-cycle',
      ]);
    });
  });

  describe('on the source tree as it is', () => {
    it('finds nothing', async () => {
      const results = await eslint.lintFiles(['src/**/*.ts']);
      const problems = results.flatMap((r) =>
        r.messages.map((m) => `${r.filePath.slice(root.length)}: ${m.ruleId}: ${m.message}`),
      );
      expect(problems).toEqual([]);
    }, 120_000);
  });
});
