import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import type { CommandContext } from '../context.js';
import { auditDatabase, auditServer, renderLogVerify } from '../log-audit.js';
import { emit } from '../output.js';
import { collect, pinnedTrust, type TrustOptions } from '../trust-options.js';
import { witness } from '../witness.js';

export function logCommands(program: Command, cx: CommandContext): void {
  const log = program.command('log').description('the tamper-evident event log');
  log
    .command('verify')
    .description(
      'recompute every leaf hash and root, check every signed checkpoint, and (with --data or --database) that the tables agree with the log',
    )
    .option('--data <dir>', 'verify the data dir offline (SQLite), instead of a server')
    .option(
      '--database <url>',
      'verify a database directly (postgres://… or sqlite:PATH), reading only; a read-only role is enough',
    )
    .option('--addr <url>', 'verify a running server (needs an auditor token)')
    .option('--trust <file>', 'pin the whole key history (from `countersign trust export`)')
    .option('--log-key <key>', 'pin a C2SP verifier key (repeat for each key)', collect)
    .option('--origin <origin>', 'the expected checkpoint origin')
    .action(
      async (
        o: TrustOptions & { data?: string; database?: string; addr?: string; origin?: string },
      ) => {
        const pinned = await pinnedTrust(o);
        const origin = o.origin ?? pinned.origin;
        const report =
          o.data || o.database
            ? await auditDatabase(o, pinned, origin)
            : await auditServer((o.addr ? cx.withAddr(o.addr) : cx).client(), pinned, origin);
        emit(cx.json(), report, () => renderLogVerify(report));
        if (!report.ok)
          throw new CliError('log verification failed', EXIT.inconsistent, report.divergence?.kind);
        if (report.state !== null && !report.state.ok)
          throw new CliError(
            'the tables disagree with the log',
            EXIT.inconsistent,
            report.state.divergences[0]?.kind,
          );
      },
    );
  log
    .command('witness')
    .description(
      'check the newest checkpoint is consistent with the last one seen (exit 4 on rollback or fork)',
    )
    .requiredOption('--state <file>', 'where the last seen checkpoint is remembered')
    .option('--trust <file>', 'the key history to pin on first use')
    .option('--log-key <key>', 'a C2SP verifier key to pin on first use (repeatable)', collect)
    .action(async (o: TrustOptions & { state: string }) => {
      const pinned = await pinnedTrust(o);
      const out = await witness(
        cx.client(),
        o.state,
        pinned.pins.map((p) => ({
          verifierKey: p.verifierKey,
          revokedAtIndex: p.revokedAtIndex ?? null,
        })),
      );
      emit(cx.json(), out, () => out.message);
    });
}
