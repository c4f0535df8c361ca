import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';

interface MigrateFlags {
  database?: string;
  config?: string;
  data?: string;
}

/**
 * Which database `migrate` works on: a flag that names it (`--database`, or `--data` for
 * SQLite), then the environment, then `--config`'s `database`, then `./data`. A flag wins
 * over the environment because it was typed for this run; a configuration file's setting
 * gives way to the environment, as it does for `serve`.
 */
function databaseUrl(o: MigrateFlags, file?: string): string {
  const inDataDir = (dir: string) => `sqlite:${join(resolve(dir), 'countersign.db')}`;
  return (
    o.database ??
    (o.data === undefined ? undefined : inDataDir(o.data)) ??
    process.env.COUNTERSIGN_DATABASE_URL ??
    file ??
    inDataDir('./data')
  );
}

/**
 * The database a URL names, for output: a PostgreSQL URL without its password or its
 * parameters (which may hold one too), a SQLite file as an absolute path.
 */
function databaseLabel(url: string, postgres: boolean, sqliteFile: string): string {
  if (!postgres) return `sqlite:${resolve(sqliteFile)}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'postgres (a URL that does not parse)';
  }
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}

export function migrateCommand(program: Command, cx: Pick<CommandContext, 'json'>): void {
  program
    .command('migrate')
    .description('bring the database schema up to date, then exit (serve also does this)')
    .addOption(
      new Option(
        '--database <url>',
        'postgres://… or sqlite:PATH (env COUNTERSIGN_DATABASE_URL)',
      ).conflicts('data'),
    )
    .option('--config <file>', 'take `database` from this configuration file')
    .option('--data <dir>', 'data directory of a SQLite deployment (default ./data)')
    .action(async (o: MigrateFlags) => {
      // Loaded lazily: client commands should not pay for the store's modules.
      const { loadConfigFile } = await import('../../server/config.js');
      const { isPostgresUrl, openStore, sqliteFile } = await import('../../store/open.js');
      const url = databaseUrl(o, o.config ? loadConfigFile(o.config).database : undefined);
      const store = await openStore(url);
      const dialect = store.dialect;
      await store.close();
      const database = databaseLabel(url, isPostgresUrl(url), sqliteFile(url));
      emit(
        cx.json(),
        { dialect, database, status: 'up to date' },
        () => `${dialect} schema is up to date (${database})`,
      );
    });
}
