import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyReceipt, type JSONWebKeySet } from '../../src/client/index.js';
import { issueWarrant } from '../helpers/chain.js';
import { flags, type Flags } from '../helpers/cli-args.js';
import { receiptFor } from '../helpers/fulfilment.js';
import { issueRotation } from '../helpers/reconcile.js';
import { CLI, serveDuringSuite, TestServer, type CliResult } from '../helpers/server.js';

/** `exec` arguments: db/orders read in staging unless `over` says otherwise, then the command. */
const execArgs = (warrant: string, command: string[], over: Flags = {}): string[] => [
  'exec',
  '--warrant',
  warrant,
  ...flags({ resource: 'db/orders', permission: 'read', env: 'staging', ...over }),
  '--',
  ...command,
];

/** A command run by /bin/sh with `args` as $1 …; no shell ever sees exec's own arguments. */
const sh = (script: string, ...args: string[]): string[] => [
  '/bin/sh',
  '-c',
  script,
  'sh',
  ...args,
];

/** Appends one line to $1: the proof that the command ran, once per run. */
const MARK = 'echo ran >> "$1"';

interface RecordedFulfilment {
  target: string;
  outcome: string;
  detail: string | null;
  fingerprint: string | null;
  receiptId: string;
}

/** The fulfilments the signed log holds for a request, read from its evidence bundle. */
async function fulfilmentsOf(s: TestServer, requestId: string): Promise<RecordedFulfilment[]> {
  const r = await s.http('GET', `/v1/requests/${requestId}/evidence`, { as: 'audra' });
  expect(r.status, r.text).toBe(200);
  return (r.body.entries as Array<{ leaf: string }>)
    .map((e) => JSON.parse(e.leaf) as { type: string; data: RecordedFulfilment })
    .filter((l) => l.type === 'fulfilment.recorded')
    .map((l) => l.data);
}

const uses = async (s: TestServer, requestId: string): Promise<number> =>
  (await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'audra' })).body.uses as number;

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

describe('countersign exec', () => {
  let s: TestServer;
  serveDuringSuite(TestServer, (started) => (s = started));
  let dir: string;
  let n = 0;
  /** A fresh path in this suite's directory. */
  const file = (name: string): string => join(dir, `${(n += 1)}-${name}`);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-exec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const exec = (args: string[]): Promise<CliResult> => s.cli(args, 'deploy-eu');

  describe('when the redemption is denied', () => {
    const denials: Array<[string, string, (s: TestServer) => Promise<string>, Flags]> = [
      [
        'a resource the warrant does not cover',
        'SCOPE_EXCEEDED',
        async (s) => (await issueWarrant(s)).token,
        { resource: 'db/payments' },
      ],
      [
        'an exhausted warrant',
        'WARRANT_EXHAUSTED',
        async (s) => {
          const { token } = await issueWarrant(s, { maxUses: 1 });
          await receiptFor(s, token, {
            resource: 'db/orders',
            permission: 'read',
            environment: 'staging',
          });
          return token;
        },
        {},
      ],
      [
        'a revoked warrant',
        'WARRANT_REVOKED',
        async (s) => {
          const { token, warrantId } = await issueWarrant(s);
          const r = await s.http('POST', `/v1/warrants/${warrantId}/revocation`, {
            as: 'alice',
            body: { reason: 'test' },
          });
          expect(r.status, r.text).toBe(200);
          return token;
        },
        {},
      ],
    ];

    it.each(denials)(
      'for %s it prints %s, exits 3 and never starts the command',
      async (_, code, warrantFor, over) => {
        const marker = file('marker');
        const out = await exec(execArgs(await warrantFor(s), sh(MARK, marker), over));
        expect(out.code, out.stderr).toBe(3);
        expect(out.stderr).toContain(`denied: ${code}`);
        expect(existsSync(marker)).toBe(false);
      },
    );
  });

  describe('when the redemption is allowed', () => {
    it('runs the command once with the receipt and its id in its environment', async () => {
      const { token, requestId } = await issueWarrant(s);
      const [marker, seen] = [file('marker'), file('env')];
      const out = await exec(
        execArgs(
          token,
          sh(
            `${MARK}; printf '%s\\n%s\\n' "$COUNTERSIGN_RECEIPT" "$COUNTERSIGN_RECEIPT_ID" > "$2"`,
            marker,
            seen,
          ),
        ),
      );
      expect(out.code, out.stderr).toBe(0);
      expect(lines(marker)).toEqual(['ran']);
      const [receipt = '', receiptId = ''] = lines(seen);
      const jwks = (await s.http('GET', '/.well-known/jwks.json')).body as JSONWebKeySet;
      const claims = await verifyReceipt(receipt, { jwks });
      expect(claims).toMatchObject({
        jti: receiptId,
        request_id: requestId,
        executor: 'deploy-eu',
      });
    });

    it("keeps exec's own token and address from the command, and the rest of its environment", async () => {
      const { token } = await issueWarrant(s);
      const seen = file('env');
      const out = await exec(
        execArgs(
          token,
          sh(
            `printf '%s\\n' "token=\${COUNTERSIGN_TOKEN-unset}" "addr=\${COUNTERSIGN_ADDR-unset}" "path=\${PATH:+set}" "receipt=\${COUNTERSIGN_RECEIPT:+set}" > "$1"`,
            seen,
          ),
        ),
      );
      expect(out.code, out.stderr).toBe(0);
      expect(lines(seen)).toEqual(['token=unset', 'addr=unset', 'path=set', 'receipt=set']);
    });

    it('passes the command its stdout and its arguments unparsed', async () => {
      const { token } = await issueWarrant(s);
      const out = await exec(execArgs(token, ['/bin/echo', '--target', '$HOME', 'a  b']));
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toBe('--target $HOME a  b\n');
    });

    it('records a success with the digest of the action when the command exits 0', async () => {
      const { token, requestId } = await issueWarrant(s);
      const out = await exec(execArgs(token, sh('exit 0')));
      expect(out.code, out.stderr).toBe(0);
      const [f, ...more] = await fulfilmentsOf(s, requestId);
      expect(more).toEqual([]);
      expect(f).toMatchObject({ target: 'default', outcome: 'success', detail: 'exit code 0' });
      expect(f?.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('exits with the exit code of the command and records a failure naming it', async () => {
      const { token, requestId } = await issueWarrant(s);
      const out = await exec(execArgs(token, sh('exit 7')));
      expect(out.code).toBe(7);
      expect(await fulfilmentsOf(s, requestId)).toEqual([
        expect.objectContaining({ outcome: 'failure', detail: 'exit code 7', fingerprint: null }),
      ]);
    });

    it('exits 127 for a command that does not exist and records "command not found"', async () => {
      const { token, requestId } = await issueWarrant(s);
      const out = await exec(execArgs(token, [join(dir, 'no-such-command')]));
      expect(out.code).toBe(127);
      expect(out.stderr).toContain('command not found');
      expect(await fulfilmentsOf(s, requestId)).toEqual([
        expect.objectContaining({ outcome: 'failure', detail: 'command not found' }),
      ]);
    });

    it('exits 126 for a file that is not executable and records why', async () => {
      const { token, requestId } = await issueWarrant(s);
      const plain = file('not-executable');
      writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
      const out = await exec(execArgs(token, [plain]));
      expect(out.code).toBe(126);
      expect(await fulfilmentsOf(s, requestId)).toEqual([
        expect.objectContaining({ outcome: 'failure', detail: 'command not executable (EACCES)' }),
      ]);
    });

    it('reads the warrant from @FILE', async () => {
      const { token } = await issueWarrant(s);
      const [tokenFile, marker] = [file('warrant'), file('marker')];
      writeFileSync(tokenFile, `${token}\n`);
      const out = await exec(execArgs(`@${tokenFile}`, sh(MARK, marker)));
      expect(out.code, out.stderr).toBe(0);
      expect(lines(marker)).toEqual(['ran']);
      expect(out.stdout + out.stderr).not.toContain(token);
    });
  });

  describe('when exec is sent SIGTERM while the command runs', () => {
    it('forwards it to the command, records the signal and ends by the same signal', async () => {
      const { token, requestId } = await issueWarrant(s);
      const got = file('got');
      const script =
        `trap 'echo TERM >> "$1"; trap - TERM; kill -TERM $$' TERM; echo ready; ` +
        'while :; do sleep 0.05; done';
      const p = spawn(process.execPath, [CLI, ...execArgs(token, sh(script, got))], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, COUNTERSIGN_ADDR: s.url, COUNTERSIGN_TOKEN: s.tokens['deploy-eu'] },
      });
      let stderr = '';
      p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
        p.once('close', (code, signal) => ok({ code, signal })),
      );
      await new Promise<void>((ok) => {
        let seen = '';
        p.stdout.on('data', (c: Buffer) => {
          seen += c.toString();
          if (seen.includes('ready')) ok();
        });
      });
      p.kill('SIGTERM');
      expect(await ended, stderr).toEqual({ code: null, signal: 'SIGTERM' });
      expect(lines(got)).toEqual(['TERM']);
      expect(await fulfilmentsOf(s, requestId)).toEqual([
        expect.objectContaining({ outcome: 'failure', detail: 'killed by signal SIGTERM' }),
      ]);
    });
  });

  describe('when --fingerprint-from names a file', () => {
    it('reports the SHA-256 of the file the command wrote, never its contents', async () => {
      const { token, requestId } = await issueRotation(s, 'payments', ['eu']);
      const version = file('version');
      const out = await exec(
        execArgs(token, sh('printf "%s" new-secret-version > "$1"', version), {
          resource: 'secrets/payments',
          permission: 'rotate',
          target: 'eu',
          'fingerprint-from': version,
        }),
      );
      expect(out.code, out.stderr).toBe(0);
      const digest = createHash('sha256').update('new-secret-version').digest('hex');
      const [f] = await fulfilmentsOf(s, requestId);
      expect(f).toMatchObject({
        target: 'eu',
        outcome: 'success',
        fingerprint: `sha256:${digest}`,
      });
      expect(JSON.stringify(f)).not.toContain('new-secret-version');
    });

    it('keeps the exit code 0 but records a failure when the command did not write it', async () => {
      const { token, requestId } = await issueWarrant(s);
      const out = await exec(execArgs(token, sh('exit 0'), { 'fingerprint-from': file('never') }));
      expect(out.code).toBe(0);
      expect(out.stderr).toContain('ENOENT');
      expect(await fulfilmentsOf(s, requestId)).toEqual([
        expect.objectContaining({
          outcome: 'failure',
          detail: 'exit code 0, but the --fingerprint-from file could not be read (ENOENT)',
        }),
      ]);
    });

    it('is required by a rotation, before anything is spent', async () => {
      const { token, requestId } = await issueRotation(s, 'payments', ['eu']);
      const marker = file('marker');
      const out = await exec(
        execArgs(token, sh(MARK, marker), {
          resource: 'secrets/payments',
          permission: 'rotate',
          target: 'eu',
        }),
      );
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('--fingerprint-from');
      expect(existsSync(marker)).toBe(false);
      expect(await uses(s, requestId)).toBe(0);
    });
  });

  describe('when several --target values are given', () => {
    it('redeems one use per target and records a fulfilment at each', async () => {
      const { token, requestId } = await issueWarrant(s, { targets: ['eu', 'us'], maxUses: 2 });
      const seen = file('env');
      const out = await exec(
        execArgs(
          token,
          sh('printf "%s\\n%s\\n" "$COUNTERSIGN_TARGETS" "$COUNTERSIGN_RECEIPT_ID" > "$1"', seen),
          { target: ['eu', 'us'] },
        ),
      );
      expect(out.code, out.stderr).toBe(0);
      const [targets, ids = ''] = lines(seen);
      expect(targets).toBe('eu us');
      const recorded = await fulfilmentsOf(s, requestId);
      expect(recorded.map((f) => [f.target, f.outcome])).toEqual([
        ['eu', 'success'],
        ['us', 'success'],
      ]);
      expect(recorded.map((f) => f.receiptId).join(' ')).toBe(ids);
    });

    it('spends nothing and never starts the command when uses are fewer than targets', async () => {
      const { token, requestId } = await issueWarrant(s, { targets: ['eu', 'us'], maxUses: 1 });
      const marker = file('marker');
      const out = await exec(execArgs(token, sh(MARK, marker), { target: ['eu', 'us'] }));
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('WARRANT_EXHAUSTED');
      expect(existsSync(marker)).toBe(false);
      expect(await uses(s, requestId)).toBe(0);
    });
  });

  describe('when 50 exec runs race a warrant with 5 uses', () => {
    it('runs the command exactly 5 times and denies the other 45 with WARRANT_EXHAUSTED', async () => {
      const { token, requestId } = await issueWarrant(s, { maxUses: 5 });
      const marker = file('marker');
      const runs = await Promise.all(
        Array.from({ length: 50 }, () => exec(execArgs(token, sh(MARK, marker)))),
      );
      const unanswered = runs.filter((r) => r.code !== 0 && r.code !== 3).map((r) => r.stderr);
      expect(unanswered).toEqual([]);
      expect(lines(marker)).toHaveLength(5);
      expect(runs.filter((r) => r.code === 0)).toHaveLength(5);
      const denied = runs.filter((r) => r.code === 3);
      expect(denied).toHaveLength(45);
      expect(denied.every((r) => r.stderr.includes('denied: WARRANT_EXHAUSTED'))).toBe(true);
      expect(await fulfilmentsOf(s, requestId)).toHaveLength(5);
    }, 300_000); // 50 CLI processes start at once: on 2 shared cores, loading them takes a while
  });
});
