import { join } from 'node:path';
import type { Command } from 'commander';
import { auditLog, type AuditEntry, type AuditReport } from '../../log/audit.js';
import { NoteVerifier } from '../../log/note.js';
import { isPostgresUrl } from '../../store/open.js';
import type { Store } from '../../store/store.js';
import { CliError, EXIT } from '../client.js';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';
import { witness } from '../witness.js';

const PAGE = 1000;

function progress(): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  return (done, total) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done >= total) process.stderr.write('\n');
  };
}

function verifiersFrom(keys: readonly string[]): NoteVerifier[] {
  return keys.filter((k) => k.trim() !== '').map((k) => NoteVerifier.fromVerifierKey(k.trim()));
}

/** Opens a store only to read it: no migration, nothing written. */
async function openForAudit(source: { data?: string; database?: string }): Promise<Store> {
  if (source.database && isPostgresUrl(source.database)) {
    const { openPostgresStore } = await import('../../store/postgres/open.js');
    return openPostgresStore({ url: source.database, migrate: false, poolMax: 2 });
  }
  const { openSqliteStore } = await import('../../store/sqlite/open.js');
  const file = source.database
    ? source.database.replace(/^sqlite:/, '')
    : join(source.data ?? '.', 'countersign.db');
  return openSqliteStore({ file, readonly: true });
}

async function auditDatabase(
  source: { data?: string; database?: string },
  logKey: string | undefined,
  origin: string | undefined,
): Promise<AuditReport & { origin: string }> {
  const { auditStore } = await import('../../service/audit-log.js');
  const store = await openForAudit(source);
  try {
    return await auditStore(store, {
      ...(logKey ? { logKey } : {}),
      ...(origin ? { origin } : {}),
      onProgress: progress(),
    });
  } finally {
    await store.close();
  }
}

async function auditServer(
  cx: CommandContext,
  logKey: string | undefined,
): Promise<AuditReport & { origin: string }> {
  const client = cx.client();
  const note = await client.call<string>('GET', '/v1/log/checkpoint');
  const keys = logKey
    ? [logKey]
    : (await client.call<string>('GET', '/v1/log/verifier-key')).split('\n');
  const origin = note.split('\n')[0] ?? '';
  const size = Number(note.split('\n')[1]);
  async function* pages(): AsyncGenerator<readonly AuditEntry[]> {
    for (let start = 0; start < size; start += PAGE) {
      const page = await client.call<{ entries: AuditEntry[] }>(
        'GET',
        `/v1/log/entries?start=${start}&end=${Math.min(size, start + PAGE)}`,
      );
      yield page.entries;
    }
  }
  const report = await auditLog({
    pages: pages(),
    checkpoints: [note],
    verifiers: verifiersFrom(keys),
    origin,
    onProgress: progress(),
  });
  return { ...report, origin };
}

export function logCommands(program: Command, cx: CommandContext): void {
  const log = program.command('log').description('the tamper-evident event log');
  log
    .command('verify')
    .description('recompute every leaf hash and root and check every signed checkpoint')
    .option('--data <dir>', 'verify the data dir offline (SQLite), instead of a server')
    .option(
      '--database <url>',
      'verify a database directly (postgres://… or sqlite:PATH), reading only; a read-only role is enough',
    )
    .option('--addr <url>', 'verify a running server (needs an auditor token)')
    .option('--log-key <key>', 'pin the C2SP verifier key instead of trusting the source')
    .option('--origin <origin>', 'the expected checkpoint origin')
    .action(
      async (o: {
        data?: string;
        database?: string;
        addr?: string;
        logKey?: string;
        origin?: string;
      }) => {
        const report =
          o.data || o.database
            ? await auditDatabase(o, o.logKey, o.origin)
            : await auditServer(o.addr ? cx.withAddr(o.addr) : cx, o.logKey);
        emit(cx.json(), report, () =>
          report.ok
            ? `log OK: ${report.entries} entries, ${report.checkpoints} checkpoint(s) verified, tree size ${report.size} (${report.origin})`
            : `log DIVERGES at entry ${report.divergence?.index}: ${report.divergence?.kind}: ${report.divergence?.detail}`,
        );
        if (!report.ok)
          throw new CliError('log verification failed', EXIT.inconsistent, report.divergence?.kind);
      },
    );
  log
    .command('witness')
    .description(
      'check the newest checkpoint is consistent with the last one seen (exit 4 on rollback or fork)',
    )
    .requiredOption('--state <file>', 'where the last seen checkpoint is remembered')
    .option('--log-key <key>', 'the C2SP verifier key to pin on first use')
    .action(async (o: { state: string; logKey?: string }) => {
      const out = await witness(cx.client(), o.state, o.logKey);
      emit(cx.json(), out, () => out.message);
    });
}
