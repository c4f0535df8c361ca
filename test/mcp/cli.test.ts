import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RawStdioGateway } from '../helpers/mcp-gateway.js';
import { CounterFile, upstreamScript } from '../helpers/mcp-upstream.js';
import { runCli } from '../helpers/server.js';

const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'raw', version: '1.0.0' },
};

/** A stdio gateway with a live session to the fixture upstream, and the upstream's pid. */
async function liveGateway(
  counter: CounterFile,
): Promise<{ gateway: RawStdioGateway; upstreamPid: number }> {
  const gateway = RawStdioGateway.start(
    '--',
    process.execPath,
    upstreamScript(),
    '--counter-file',
    counter.path,
  );
  expect((await gateway.request(1, 'initialize', INITIALIZE)).result).toBeDefined();
  return { gateway, upstreamPid: counter.read().pid };
}

function exitCode(gateway: RawStdioGateway): Promise<number | null> {
  const { proc } = gateway;
  if (proc.exitCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((done) => proc.once('exit', (code) => done(code)));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('countersign mcp-gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-mcp-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('when the upstream is not named exactly once', () => {
    it('exits with a usage error and says how to name it', async () => {
      for (const args of [
        [],
        ['--upstream-cmd', 'node a.js', '--upstream-url', 'http://127.0.0.1:1/mcp'],
        ['--upstream-cmd', 'node a.js', '--', 'node', 'b.js'],
      ]) {
        const r = await runCli(['mcp-gateway', ...args], {});
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('name the upstream once');
        expect(r.stdout).toBe('');
      }
    });
  });

  describe('when an option is malformed', () => {
    it('exits with a usage error before starting anything', async () => {
      const missing = join(dir, 'no-such-config.yaml');
      for (const args of [
        ['--gateway-config', missing, '--', 'node', 'a.js'],
        ['--gateway-config', dir, '--', 'node', 'a.js'],
        ['--listen', 'localhost', '--', 'node', 'a.js'],
        ['--upstream-url', 'file:///etc/passwd'],
        ['--upstream-cmd', 'node "a.js'],
      ]) {
        const r = await runCli(['mcp-gateway', ...args], {});
        expect(r.code, args.join(' ')).toBe(2);
      }
    });
  });

  describe('when the upstream cannot be reached', () => {
    it('exits with a server error naming the upstream, and writes nothing to stdout', async () => {
      const r = await runCli(['mcp-gateway', '--', join(dir, 'no-such-command')], {});
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot connect to the upstream MCP server');
      expect(r.stdout).toBe('');
    });
  });

  describe("when the agent's host closes stdin", () => {
    it('exits 0, and the upstream it ran exits too', async () => {
      const counter = new CounterFile();
      const { gateway, upstreamPid } = await liveGateway(counter);
      expect(alive(upstreamPid)).toBe(true);
      gateway.proc.stdin?.end();
      expect(await exitCode(gateway)).toBe(0);
      for (let i = 0; i < 200 && alive(upstreamPid); i++) {
        await new Promise((tick) => setTimeout(tick, 25));
      }
      expect(alive(upstreamPid)).toBe(false);
      counter.remove();
    });
  });

  describe('when the upstream dies', () => {
    it('exits 1, saying so on stderr', async () => {
      const counter = new CounterFile();
      const { gateway, upstreamPid } = await liveGateway(counter);
      let stderr = '';
      gateway.proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      process.kill(upstreamPid, 'SIGKILL');
      expect(await exitCode(gateway)).toBe(1);
      expect(stderr).toContain('the upstream MCP server went away');
      counter.remove();
    });
  });
});
