import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { readCounts, type UpstreamCounts } from '../fixtures/mcp-upstream.js';
import { ROOT } from './server.js';

let built: string | undefined;

/**
 * The fixture upstream as one runnable file. Node 20 runs no TypeScript, so esbuild
 * bundles the entry and our own modules; packages stay imports, resolved from the
 * repository's node_modules (hence the output inside the repository). Test processes
 * build the same bytes; each renames its copy into place, so none runs a half-written one.
 */
export function upstreamScript(): string {
  if (built !== undefined) return built;
  const dir = join(ROOT, '.test-tmp');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, 'mcp-upstream.mjs');
  const result = buildSync({
    entryPoints: [join(ROOT, 'test/fixtures/mcp-upstream-main.ts')],
    outfile: out,
    write: false,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
  });
  const bytes = result.outputFiles[0]?.contents;
  if (bytes === undefined) throw new Error('esbuild produced nothing');
  const partial = `${out}.${process.pid}`;
  writeFileSync(partial, bytes);
  renameSync(partial, out);
  built = out;
  return out;
}

/** A scratch directory and the counter file an upstream writes into it. */
export class CounterFile {
  readonly dir = mkdtempSync(join(tmpdir(), 'countersign-mcp-'));
  readonly path = join(this.dir, 'counts.json');
  read(): UpstreamCounts {
    return readCounts(this.path);
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The fixture upstream serving Streamable HTTP in its own process. */
export class HttpUpstream {
  private constructor(
    readonly proc: ChildProcess,
    /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
    readonly url: string,
  ) {}

  static async start(counter: CounterFile): Promise<HttpUpstream> {
    const proc = spawn(
      process.execPath,
      [upstreamScript(), '--listen', '127.0.0.1:0', '--counter-file', counter.path],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const url = await waitForLine(proc, /listening on (http:\/\/\S+)/);
    return new HttpUpstream(proc, url);
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc);
  }
}

/** Resolves with the first capture of `pattern` in the process's stderr. */
export function waitForLine(proc: ChildProcess, pattern: RegExp): Promise<string> {
  let seen = '';
  return new Promise((found, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${pattern} in:\n${seen}`)), 20_000);
    proc.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = pattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        found(m[1] as string);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`exited ${code} before ${pattern}:\n${seen}`));
    });
  });
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((done) => proc.once('exit', done));
  proc.kill('SIGTERM');
  await exited;
}
