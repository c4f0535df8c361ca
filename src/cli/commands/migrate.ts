import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';

/** Which database `migrate` works on: flag, then environment, then config, then data dir. */
function databaseUrl(o: { database?: string; config?: string; data?: string }, file?: string) {
  return (
    o.database ??
    process.env.COUNTERSIGN_DATABASE_URL ??
    file ??
    `sqlite:${join(resolve(o.data ?? './data'), 'countersign.db')}`
  );
}

export function migrateCommand(program: Command, cx: Pick<CommandContext, 'json'>): void {
  program
    .command('migrate')
    .description('bring the database schema up to date, then exit (serve also does this)')
    .option('--database <url>', 'postgres://… or sqlite:PATH (env COUNTERSIGN_DATABASE_URL)')
    .option('--config <file>', 'take `database` from this configuration file')
    .option('--data <dir>', 'data directory of a SQLite deployment (default ./data)')
    .action(async (o: { database?: string; config?: string; data?: string }) => {
      // Loaded lazily: client commands should not pay for the store's modules.
      const { loadConfigFile } = await import('../../server/config.js');
      const { openStore } = await import('../../store/open.js');
      const url = databaseUrl(o, o.config ? loadConfigFile(o.config).database : undefined);
      const store = await openStore(url);
      const dialect = store.dialect;
      await store.close();
      // The URL is not echoed: it may carry a password.
      emit(cx.json(), { dialect, status: 'up to date' }, () => `${dialect} schema is up to date`);
    });
}
