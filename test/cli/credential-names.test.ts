import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jsonAnswer, problemAnswer, ScriptedServer } from '../client/scripted-server.js';
import { flags, redeemArgs } from '../helpers/cli-args.js';
import { runCli } from '../helpers/server.js';

/**
 * The CLI's own check of a brokered credential's names, against a scripted server that
 * passes on whatever its connector answered (as a server from before that check did): a
 * credential that sets `PATH` or `LD_PRELOAD` reaches neither a command nor a file.
 * Runs the built CLI (`npm run build` first).
 */

const RECEIPT = 'eyJhbGciOiJFZERTQSJ9.eyJvbGRlciI6InNlcnZlciJ9.c2ln';

/** A server that allows every redemption with `credential`, and records fulfilments. */
function olderServer(credential: Record<string, string>): Promise<ScriptedServer> {
  return ScriptedServer.start((_, req) => {
    if (req.method === 'POST' && req.path === '/v1/redemptions') {
      return jsonAnswer({
        receipt: RECEIPT,
        receiptId: 'rcp_older',
        use: 1,
        maxUses: 1,
        remaining: 0,
        credential,
      });
    }
    if (req.method === 'POST' && req.path === '/v1/fulfilments') {
      return jsonAnswer({ id: 'ful_older' }, 201);
    }
    return problemAnswer(404, 'NOT_FOUND');
  });
}

describe('a brokered credential from a server that does not check its names', () => {
  let server: ScriptedServer | undefined;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-credential-names-'));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[]) =>
    runCli(args, { COUNTERSIGN_ADDR: server?.url ?? '', COUNTERSIGN_TOKEN: 'cs_test_token' });

  describe('when exec is given one that sets LD_PRELOAD', () => {
    it('never starts the command, reports the use as not run, and exits 1 naming the variable', async () => {
      server = await olderServer({ TICKETS_TOKEN: 'minted-secret', LD_PRELOAD: '/tmp/evil.so' });
      const marker = join(dir, 'exec-ran');
      const out = await cli([
        'exec',
        '--warrant',
        'eyJ.warrant.x',
        ...flags({ resource: 'webhook/tickets/q', permission: 'read', env: 'staging' }),
        ...flags({ target: 'tickets' }),
        '--',
        '/bin/sh',
        '-c',
        'echo ran > "$1"',
        'sh',
        marker,
      ]);
      expect(out.code, out.stderr).toBe(1);
      expect(out.stderr).toContain(
        'the credential sets LD_PRELOAD, which a credential may not set',
      );
      expect(out.stderr).not.toContain('minted-secret');
      expect(existsSync(marker)).toBe(false);
      const reports = server.seen.filter((r) => r.path === '/v1/fulfilments');
      expect(reports.map((r) => JSON.parse(r.body) as unknown)).toEqual([
        expect.objectContaining({ target: 'tickets', outcome: 'failure' }),
      ]);
    });
  });

  describe('when redeem --credential-out is given one that sets PATH', () => {
    it('writes no file, still prints the receipt of the spent use, and exits 1', async () => {
      server = await olderServer({ TICKETS_TOKEN: 'minted-secret', PATH: '/tmp' });
      const sub = mkdtempSync(join(dir, 'out-'));
      const out = await cli(
        redeemArgs('eyJ.warrant.x', {
          resource: 'webhook/tickets/q',
          target: 'tickets',
          'credential-out': join(sub, 'tickets.env'),
        }),
      );
      expect(out.code, out.stderr).toBe(1);
      expect(out.stdout).toBe(`allowed: use 1 of 1\n${RECEIPT}\n`);
      expect(out.stderr).toContain('the credential sets PATH');
      expect(readdirSync(sub)).toEqual([]);
    });
  });

  describe('when a name is not an environment variable name at all', () => {
    it('refuses it without echoing it', async () => {
      server = await olderServer({ 'A;touch pwned\u001b[2J': 'minted-secret' });
      const sub = mkdtempSync(join(dir, 'odd-'));
      const out = await cli(
        redeemArgs('eyJ.warrant.x', { 'credential-out': join(sub, 'tickets.env') }),
      );
      expect(out.code, out.stderr).toBe(1);
      expect(out.stderr).toContain('a name that is not an environment variable name');
      expect(out.stderr).not.toContain('touch pwned');
      expect(readdirSync(sub)).toEqual([]);
    });
  });
});
