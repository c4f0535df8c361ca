import {
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { redeemArgs } from '../helpers/cli-args.js';
import { brokeredWarrant as brokeredWarrantOn, startTicketsBroker } from '../helpers/broker.js';
import type { TestServer } from '../helpers/server.js';
import { type CliResult } from '../helpers/server.js';
import type { Receiver } from '../connectors/webhook-receiver.js';

/**
 * `redeem --credential-out FILE` against a real server brokering through a webhook
 * receiver: the credential is minted once, so the file must be writable before a use is
 * spent, and the credential must never sit where someone else could read it.
 */

const RESOURCE = 'webhook/tickets/queue/ops';
let s: TestServer;
let receiver: Receiver;
let dir: string;

beforeAll(async () => {
  ({ server: s, receiver } = await startTicketsBroker('hook-token-for-the-test'));
  dir = mkdtempSync(join(tmpdir(), 'cs-credential-out-'));
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await receiver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const brokeredWarrant = () =>
  brokeredWarrantOn(s, {
    connector: { name: 'tickets', scope: [{ resource: RESOURCE, permissions: ['read'] }] },
  });

const uses = async (requestId: string): Promise<number> =>
  (await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'audra' })).body.uses as number;

const redeemTo = (token: string, file: string): Promise<CliResult> =>
  s.cli(
    redeemArgs(token, {
      resource: RESOURCE,
      target: 'tickets',
      'credential-out': file,
    }),
    'deploy-eu',
  );

/** What the receiver minted for the last grant: the value the file must hold. */
const lastMinted = (): string => [...receiver.live.values()].at(-1) ?? '';

describe('redeem --credential-out', () => {
  describe('when the file cannot be written', () => {
    it.each([
      [
        'in a directory that does not exist',
        () => join(dir, 'no-such-dir', 'tickets.env'),
        'ENOENT',
      ],
      ['that is a directory', () => dir, 'not a regular file'],
    ])(
      'refuses a path %s with exit 2 before spending a use or minting anything',
      async (_, path, why) => {
        const { requestId, token } = await brokeredWarrant();
        const grantsBefore = receiver.calls().length;
        const r = await redeemTo(token, path());
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`cannot write --credential-out ${path()}: ${why}`);
        expect(await uses(requestId)).toBe(0);
        expect(receiver.calls()).toHaveLength(grantsBefore);
      },
    );
  });

  describe('when the file can be written', () => {
    it('writes the credential readable by its owner alone, prints the receipt, and leaves nothing else', async () => {
      const sub = mkdtempSync(join(dir, 'fresh-'));
      const file = join(sub, 'tickets.env');
      const { token } = await brokeredWarrant();
      const r = await redeemTo(token, file);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^allowed: use 1 of 1\neyJ/);
      expect(readFileSync(file, 'utf8')).toBe(`TICKETS_TOKEN='${lastMinted()}'\n`);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readdirSync(sub)).toEqual(['tickets.env']);
    });

    it('replaces a symlink at the path instead of writing through it', async () => {
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'not yours\n', { mode: 0o644 });
      const file = join(dir, 'linked.env');
      symlinkSync(victim, file);
      const { token } = await brokeredWarrant();
      const r = await redeemTo(token, file);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(victim, 'utf8')).toBe('not yours\n');
      expect(statSync(victim).mode & 0o777).toBe(0o644);
      expect(readFileSync(file, 'utf8')).toBe(`TICKETS_TOKEN='${lastMinted()}'\n`);
    });

    it('never writes into an existing world-readable file, so no other name for it sees the credential', async () => {
      const file = join(dir, 'existing.env');
      writeFileSync(file, 'OLD=1\n', { mode: 0o644 });
      // A second name for the same file, as someone who could read it once might keep.
      const other = join(dir, 'existing-hard-link.env');
      linkSync(file, other);
      const { token } = await brokeredWarrant();
      const r = await redeemTo(token, file);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(other, 'utf8')).toBe('OLD=1\n');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toContain(lastMinted());
    });
  });

  describe('when the warrant mints no credential', () => {
    it('leaves the path alone and says so', async () => {
      const { requestId, token } = await issueWarrant(s);
      const sub = mkdtempSync(join(dir, 'plain-'));
      const file = join(sub, 'none.env');
      const r = await s.cli(redeemArgs(token, { 'credential-out': file }), 'deploy-eu');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`no credential was minted: ${file} was not written`);
      expect(existsSync(file)).toBe(false);
      expect(readdirSync(sub)).toEqual([]);
      expect(await uses(requestId)).toBe(1);
    });
  });
});
