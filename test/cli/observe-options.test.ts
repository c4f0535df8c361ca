import { afterEach, describe, expect, it } from 'vitest';
import { jsonAnswer, ScriptedServer } from '../client/scripted-server.js';
import { flags } from '../helpers/cli-args.js';
import { runCli } from '../helpers/server.js';

/** `observe` run by the built CLI (`npm run build` first) against a recording server. */
describe('countersign observe', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  const observe = async (more: Record<string, string>, absent = false) => {
    server = await ScriptedServer.start(() => jsonAnswer({ recorded: 1, duplicates: 0 }, 201));
    const args = [
      'observe',
      ...flags({ subject: 'svc:payments', target: 'eu', ...more }),
      ...(absent ? ['--absent'] : []),
    ];
    const out = await runCli(args, { COUNTERSIGN_ADDR: server.url });
    return { out, sent: server.seen.length };
  };
  const VERSION = `sha256:${'a'.repeat(64)}`;

  describe('when a secret version and a grant are given together', () => {
    it.each([
      ['--grant and --absent', { 'secret-version': VERSION, grant: 'db/orders=read' }, true],
      ['--grant', { 'secret-version': VERSION, grant: 'db/orders=read' }, false],
      ['--absent', { 'secret-version': VERSION }, true],
    ])(
      'refuses --secret-version with %s as a usage error (exit 2), sending nothing',
      async (_, more, absent) => {
        const { out, sent } = await observe(more, absent);
        expect(out.code, out.stderr).toBe(2);
        expect(out.stderr).toContain("option '--secret-version <sha256:hex>' cannot be used with");
        expect(sent).toBe(0);
      },
    );
  });

  describe('when one fact is given', () => {
    it('sends it', async () => {
      const { out, sent } = await observe({ grant: 'db/orders=read' }, true);
      expect(out.code, out.stderr).toBe(0);
      expect(sent).toBe(1);
    });
  });
});
