import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_POLICY } from '../../src/server/dev.js';
import { redeemArgs } from '../helpers/cli-args.js';
import { CLI, runCli } from '../helpers/server.js';

const dirs: string[] = [];
const freshDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'countersign-serve-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/**
 * Runs `serve --dev` until it says where it listens, then stops it; returns that port
 * and everything it printed (stderr to a pipe is synchronous, so nothing is cut off).
 */
const serveOnce = (args: string[], env: Record<string, string> = {}) =>
  serveUntilListening(['--dev', ...args], {
    env,
    listening: /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  });

/**
 * Runs `serve` with `args` until its output matches `listening` (the port in its first
 * group), calls `whileListening` while the server still runs, then stops it; returns the
 * port and everything it printed.
 */
function serveUntilListening(
  args: string[],
  opts: {
    readonly env?: Record<string, string>;
    readonly listening: RegExp;
    readonly whileListening?: () => void;
  },
): Promise<{ port: number; output: string }> {
  const proc = spawn(process.execPath, [CLI, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COUNTERSIGN_PORT: '', ...opts.env },
  });
  let output = '';
  let port: number | null = null;
  let inspected: Error | null = null;
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => proc.kill('SIGTERM'), 20_000);
    const onData = (c: Buffer): void => {
      output += c.toString();
      const m = opts.listening.exec(output);
      if (m && port === null) {
        port = Number(m[1]);
        try {
          opts.whileListening?.();
        } catch (e) {
          inspected = e instanceof Error ? e : new Error(String(e));
        }
        proc.kill('SIGTERM');
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('close', (code) => {
      clearTimeout(timer);
      if (inspected !== null) fail(inspected);
      else if (port === null) fail(new Error(`exited ${code} before listening:\n${output}`));
      else ok({ port, output });
    });
  });
}

describe('countersign serve --dev', () => {
  describe('when the data dir is new, then reused', () => {
    it('prints the dev tokens the first time only, and afterwards only where they are', async () => {
      const dataDir = freshDir();
      const first = await serveOnce(['--data', dataDir, '--port', '0']);
      const tokens = JSON.parse(readFileSync(join(dataDir, 'dev-tokens.json'), 'utf8')) as Record<
        string,
        string
      >;
      const second = await serveOnce(['--data', dataDir, '--port', '0']);
      expect(Object.keys(tokens)).toHaveLength(10);
      for (const token of Object.values(tokens)) {
        expect(first.output).toContain(token);
        expect(second.output).not.toContain(token);
      }
      expect(second.output).toContain(`dev tokens: in ${join(dataDir, 'dev-tokens.json')}`);
    });
  });

  describe('when the port is named in several places', () => {
    it('listens on --port over COUNTERSIGN_PORT over the config file', async () => {
      const [fromFile, fromEnv, fromFlag] = [await freePort(), await freePort(), await freePort()];
      const dataDir = freshDir();
      const config = join(dataDir, 'port.json');
      writeFileSync(config, JSON.stringify({ port: fromFile }));
      const base = ['--data', dataDir, '--config', config];
      expect((await serveOnce(base)).port).toBe(fromFile);
      expect((await serveOnce(base, { COUNTERSIGN_PORT: String(fromEnv) })).port).toBe(fromEnv);
      const flagged = await serveOnce([...base, '--port', String(fromFlag)], {
        COUNTERSIGN_PORT: String(fromEnv),
      });
      expect(flagged.port).toBe(fromFlag);
    });

    it('refuses a port that is not one as a usage error (exit 2)', async () => {
      const dataDir = freshDir();
      const flag = await runCli(['serve', '--dev', '--data', dataDir, '--port', 'http'], {});
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain('a port is a whole number');
      const env = await runCli(['serve', '--dev', '--data', dataDir], {
        COUNTERSIGN_PORT: '99999',
      });
      expect(env.code).toBe(2);
      expect(env.stderr).toContain('CONFIG_INVALID: COUNTERSIGN_PORT');
    });

    it('refuses a dev-tokens file cut short, naming it and quoting none of it', async () => {
      const dataDir = freshDir();
      const cut = '{"alice": "cs_kept-token-value-not-to-print-1234567890abcdefghijk';
      writeFileSync(join(dataDir, 'dev-tokens.json'), cut);
      const out = await runCli(['serve', '--dev', '--data', dataDir, '--port', '0'], {});
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain('dev-tokens.json is not a JSON map of principal to token');
      expect(out.stderr).not.toContain('kept-token');
    });
  });
});

/**
 * Runs `serve` in `cwd` until it exits, or stops it after 20 s (a server that starts when
 * it should have refused); returns its exit code (null when stopped) and everything printed.
 */
function serveUntilExit(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [CLI, 'serve', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COUNTERSIGN_PORT: '', ...env },
  });
  let output = '';
  const collect = (c: Buffer): void => void (output += c.toString());
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  const timer = setTimeout(() => proc.kill('SIGTERM'), 20_000);
  return new Promise((ok) => {
    proc.once('close', (code) => {
      clearTimeout(timer);
      ok({ code: proc.signalCode === null ? code : null, output });
    });
  });
}

describe('countersign serve with a database URL no store serves', () => {
  const PASSWORD = 'S3cret';

  describe.each([`mysql://u:${PASSWORD}@h/db`, `postgress://u:${PASSWORD}@h/db`])(
    'when COUNTERSIGN_DATABASE_URL is %s',
    (url) => {
      it('exits 2 naming the scheme, prints no password, and creates no file', async () => {
        const cwd = freshDir();
        const scheme = url.slice(0, url.indexOf('://'));
        const out = await serveUntilExit(
          ['--dev', '--data', 'data', '--port', '0'],
          { COUNTERSIGN_DATABASE_URL: url },
          cwd,
        );
        expect(out.code, out.output).toBe(2);
        expect(out.output).toContain(
          `CONFIG_INVALID: database URL: no store serves the scheme "${scheme}://"`,
        );
        expect(out.output).not.toContain(PASSWORD);
        expect(readdirSync(cwd)).toEqual([]);
      });
    },
  );
});

describe('countersign serve --config, outside dev mode', () => {
  describe.skipIf(process.platform === 'win32')('when the data dir does not exist yet', () => {
    it('creates it, the database and its -wal and -shm for the owner alone', async () => {
      const dir = freshDir();
      writeFileSync(join(dir, 'policy.yaml'), SAMPLE_POLICY);
      writeFileSync(join(dir, 'cs.yaml'), 'dataDir: ./data\npolicyFile: ./policy.yaml\n');
      const data = join(dir, 'data');
      const db = join(data, 'countersign.db');
      const modes: Record<string, string> = {};
      // The server inherits the usual umask, which left the database world-readable.
      const umask = process.umask(0o022);
      try {
        await serveUntilListening(['--config', join(dir, 'cs.yaml'), '--port', '0'], {
          env: { COUNTERSIGN_KEK: randomBytes(32).toString('hex'), COUNTERSIGN_LOG_LEVEL: 'info' },
          // Outside dev mode, Fastify's log line says where it listens.
          listening: /Server listening at http:\/\/127\.0\.0\.1:(\d+)/,
          whileListening: () => {
            for (const path of [data, db, `${db}-wal`, `${db}-shm`]) {
              modes[path] = (statSync(path).mode & 0o077).toString(8);
            }
          },
        });
      } finally {
        process.umask(umask);
      }
      expect(modes).toEqual({ [data]: '0', [db]: '0', [`${db}-wal`]: '0', [`${db}-shm`]: '0' });
    });
  });
});

describe('countersign redeem --warrant @FILE', () => {
  const args = (file: string) => redeemArgs(`@${file}`);
  // Nothing listens here: a usage error must come before any request is sent.
  const env = { COUNTERSIGN_ADDR: 'http://127.0.0.1:9', COUNTERSIGN_TOKEN: 'cs_unused' };

  describe('when the file does not exist', () => {
    it('is a usage error (exit 2) naming the path', async () => {
      const missing = join(freshDir(), 'no-such-warrant.jws');
      const out = await runCli(args(missing), env);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`cannot read @${missing}: ENOENT`);
    });
  });

  describe('when the path cannot be read as a file', () => {
    it('is a usage error (exit 2) that shows nothing of what is there', async () => {
      const dir = freshDir();
      writeFileSync(join(dir, 'inside'), 'eyJ-secret-looking-content');
      const out = await runCli(args(dir), env);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`cannot read @${dir}: EISDIR`);
      expect(out.stderr).not.toContain('secret-looking');
    });
  });
});
