import { afterEach, describe, expect, it } from 'vitest';
import { wholeNumber } from '../../src/cli/whole-number.js';
import { jsonAnswer, ScriptedServer } from '../client/scripted-server.js';
import { requestCreateArgs } from '../helpers/cli-args.js';
import { runCli } from '../helpers/server.js';

describe('wholeNumber', () => {
  describe('when the text is not digits alone', () => {
    it.each(['3x', '2.9', '1e3', '0x10', ' 7', '7 ', '', '-1', '+1'])('refuses %j', (text) => {
      expect(wholeNumber(text, 0, 1_000_000)).toBeUndefined();
    });
  });

  describe('when the number is out of range', () => {
    it('refuses it, however many digits it has', () => {
      expect(wholeNumber('0', 1, 10)).toBeUndefined();
      expect(wholeNumber('11', 1, 10)).toBeUndefined();
      expect(wholeNumber('9'.repeat(30), 1, Number.MAX_SAFE_INTEGER)).toBeUndefined();
    });
  });

  it('reads digits in range as the number they write', () => {
    expect(wholeNumber('3', 1, 10)).toBe(3);
    expect(wholeNumber('010', 1, 10)).toBe(10);
  });
});

/** The built CLI (`npm run build` first) against a server that records what it is sent. */
describe('request create --max-uses', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  const create = async (maxUses: string) => {
    server = await ScriptedServer.start(() => jsonAnswer({ id: 'req_scripted' }, 201));
    const out = await runCli(requestCreateArgs('agent:x', { 'max-uses': maxUses }), {
      COUNTERSIGN_ADDR: server.url,
    });
    return { out, sent: server.seen.map((r) => JSON.parse(r.body) as { maxUses?: unknown }) };
  };

  describe('when the count is not a whole number of 1 or more', () => {
    it.each(['3x', '2.9', '0', '-1'])(
      'refuses %s as a usage error (exit 2), sending nothing',
      async (bad) => {
        const { out, sent } = await create(bad);
        expect(out.code, out.stderr).toBe(2);
        expect(out.stderr).toContain("option '--max-uses <n>' argument");
        expect(sent).toEqual([]);
      },
    );
  });

  it('sends a whole number as it is', async () => {
    const { out, sent } = await create('3');
    expect(out.code, out.stderr).toBe(0);
    expect(sent.map((b) => b.maxUses)).toEqual([3]);
  });
});
