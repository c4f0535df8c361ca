import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';

interface KeyRow {
  kid: string;
  state: string;
  createdAt: string;
  revokedAt: string | null;
}

export function keyCommands(program: Command, cx: CommandContext): void {
  const keys = program
    .command('keys')
    .description('signing keys for warrants, receipts, checkpoints and evidence');
  keys
    .command('list')
    .description('every signing key and its state (active, retired, revoked)')
    .action(async () => {
      const out = await cx.client().request<{ keys: KeyRow[] }>('GET', '/v1/keys');
      emit(cx.json(), out, () =>
        out.keys
          .map((k) => `${k.kid}  ${k.state.padEnd(7)}  ${k.createdAt}  ${k.revokedAt ?? ''}`.trim())
          .join('\n'),
      );
    });
  keys
    .command('rotate')
    .description('make a new active key; the old one stays published so its signatures verify')
    .option('--reason <text>')
    .action(async (o: { reason?: string }) => {
      const out = await cx
        .client()
        .request<{ kid: string; retired: string[] }>('POST', '/v1/keys/rotation', o);
      emit(cx.json(), out, () => `active: ${out.kid}\nretired: ${out.retired.join(', ')}`);
    });
  keys
    .command('revoke <kid>')
    .usage('--reason <text> -- <kid>')
    .description('mark a compromised key revoked: warrants it signed are refused (KEY_REVOKED)')
    .requiredOption('--reason <text>')
    .action(async (kid: string, o: { reason: string }) => {
      const out = await cx
        .client()
        .request<{ kid: string; replacedBy: string | null }>(
          'POST',
          `/v1/keys/${encodeURIComponent(kid)}/revocation`,
          o,
        );
      emit(cx.json(), out, () =>
        out.replacedBy ? `revoked ${out.kid}; active: ${out.replacedBy}` : `revoked ${out.kid}`,
      );
    });
}
