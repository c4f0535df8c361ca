/**
 * The Dockerfile cannot be built here (no Docker daemon): what its text promises is
 * checked instead, and its HEALTHCHECK command is run against a real server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '../../src/server/config.js';
import { ROOT, serveDuringSuite, TestServer } from '../helpers/server.js';
import { dockerStages, execForm, type DockerStage } from './files.js';

const BASE = 'node:20-slim';
const stages = dockerStages();
const runtime = stages.at(-1)!;
const args = (stage: DockerStage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const only = (stage: DockerStage, keyword: string): string => {
  const found = args(stage, keyword);
  expect(found, `one ${keyword} in the ${stage.name ?? 'final'} stage`).toHaveLength(1);
  return found[0]!;
};

/** The HEALTHCHECK's command, as Docker would run it in the container. */
function healthcheckCommand(): string[] {
  const m = /^(?:--[a-z-]+=\S+\s+)*CMD\s+(\[.*\])$/.exec(only(runtime, 'HEALTHCHECK'));
  if (!m) throw new Error('HEALTHCHECK is not in the exec form: CMD ["node", …]');
  return execForm(m[1]!);
}

/** Runs the healthcheck on this machine, against a server listening on `port`. */
function runHealthcheck(port: number): number | null {
  const [program, ...rest] = healthcheckCommand();
  expect(program).toBe('node');
  const r = spawnSync(process.execPath, rest, {
    env: { ...process.env, COUNTERSIGN_PORT: String(port) },
    timeout: 20_000,
  });
  return r.status;
}

/** The packages the compiled code (dist/, so build first) imports, statically or not. */
function packagesImported(): Set<string> {
  const found = new Set<string>();
  const specifiers = [
    /^(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.js')) {
        const text = readFileSync(path, 'utf8');
        for (const re of specifiers) {
          for (const [, spec] of text.matchAll(re)) {
            if (spec!.startsWith('.') || spec!.startsWith('node:')) continue;
            const parts = spec!.split('/');
            found.add(spec!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
          }
        }
      }
    }
  };
  walk(join(ROOT, 'dist'));
  return found;
}

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((ok) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

describe('Dockerfile', () => {
  describe('when its stages are read', () => {
    it('builds in four stages, each on node:20-slim or on an earlier stage', () => {
      expect(stages).toHaveLength(4);
      const earlier = new Set<string>();
      for (const s of stages) {
        expect([BASE, ...earlier], `FROM ${s.from}`).toContain(s.from);
        if (s.name) earlier.add(s.name);
      }
    });

    it('runs on node:20-slim itself, not on a stage with the build toolchain', () => {
      expect(runtime.from).toBe(BASE);
      expect(args(runtime, 'RUN').join(' ')).not.toMatch(/apt-get install|npm (ci|install)/);
    });

    it('compiles in one stage and takes node_modules from one without devDependencies', () => {
      const build = stages.find((s) => args(s, 'RUN').includes('npm run build'));
      expect(build, 'a stage runs npm run build').toBeDefined();
      expect(args(runtime, 'COPY')).toContain(`--from=${build!.name} /app/dist ./dist`);
      const modules = args(runtime, 'COPY').find((a) => a.includes('node_modules'));
      const from = /^--from=(\S+)/.exec(modules ?? '')?.[1];
      const prod = stages.find((s) => s.name === from);
      expect(args(prod!, 'RUN').some((r) => /^npm ci .*--omit=dev/.test(r))).toBe(true);
    });

    it('installs every package the compiled code imports, though it omits devDependencies', () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      const imported = [...packagesImported()];
      expect(imported).toEqual(expect.arrayContaining(['fastify', 'pg', 'better-sqlite3']));
      const missing = imported.filter(
        (p) => !(p in pkg.dependencies) && !builtinModules.includes(p),
      );
      expect(missing).toEqual([]);
    });

    it('copies only files that exist and are not left out of the build context', () => {
      const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
      for (const s of stages) {
        for (const copy of args(s, 'COPY').filter((a) => !a.startsWith('--from='))) {
          const sources = copy.split(/\s+/).slice(0, -1);
          for (const src of sources) {
            expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
            expect(ignored, `COPY ${src}`).not.toContain(src);
          }
        }
      }
    });

    it('keeps data dirs, node_modules and .env files out of the build context', () => {
      const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
      // A dev data dir holds a KEK and the dev tokens: it must never reach an image.
      expect(ignored).toEqual(expect.arrayContaining(['data', '**/data', '**/node_modules']));
      expect(ignored).toEqual(expect.arrayContaining(['.env', '.env.*']));
    });
  });

  describe('when the image runs', () => {
    it('runs as a numeric non-root user', () => {
      const user = only(runtime, 'USER');
      expect(user).toMatch(/^\d+(:\d+)?$/);
      expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    });

    it('runs the CLI the package publishes, serving on all interfaces by default', () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        bin: { countersign: string };
      };
      expect(execForm(only(runtime, 'ENTRYPOINT'))).toEqual(['node', pkg.bin.countersign]);
      const cmd = execForm(only(runtime, 'CMD'));
      expect(cmd[0]).toBe('serve');
      expect(cmd.join(' ')).toContain('--host 0.0.0.0');
      expect(cmd.join(' ')).toContain('--data /data');
    });

    it('exposes the port serve listens on by default and declares /data a volume', () => {
      expect(only(runtime, 'EXPOSE')).toBe(String(DEFAULT_PORT));
      expect(only(runtime, 'VOLUME')).toBe('/data');
    });

    it('probes /readyz, with node rather than curl', () => {
      const [program, flag, script] = healthcheckCommand();
      expect([program, flag]).toEqual(['node', '-e']);
      expect(script).toContain('/readyz');
    });
  });

  describe('when its HEALTHCHECK runs against a server', () => {
    let server: TestServer;
    serveDuringSuite(TestServer, (s) => (server = s));

    it('succeeds while the server is ready', () => {
      expect(runHealthcheck(Number(new URL(server.url).port))).toBe(0);
    });

    it('fails when nothing answers', async () => {
      expect(runHealthcheck(await closedPort())).toBe(1);
    });
  });
});
