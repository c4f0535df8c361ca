#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isCountersignError } from '../core/errors.js';
import { Client, CliError, EXIT } from './client.js';
import { chainCommands } from './commands/chain.js';
import { decisionCommands } from './commands/decide.js';
import { logCommands } from './commands/log.js';
import { evidenceCommands } from './commands/evidence.js';
import { trustCommands } from './commands/trust.js';
import { keyCommands } from './commands/keys.js';
import { reconcileCommands } from './commands/reconcile.js';
import { mcpGatewayCommand } from './commands/mcp-gateway.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommands } from './commands/token.js';
import type { CommandContext } from './context.js';

const program = new Command('countersign')
  .description('approval integrity for non-human identities')
  .option(
    '--addr <url>',
    'server address (env COUNTERSIGN_ADDR)',
    process.env.COUNTERSIGN_ADDR ?? 'http://127.0.0.1:8470',
  )
  .option('--json', 'machine-readable output')
  .exitOverride()
  .showHelpAfterError();

function contextFor(addr: () => string): CommandContext {
  return {
    client: () => new Client({ addr: addr(), token: process.env.COUNTERSIGN_TOKEN }),
    json: () => program.opts<{ json?: boolean }>().json === true,
    withAddr: (a) => contextFor(() => a),
  };
}
const cx = contextFor(() => program.opts<{ addr: string }>().addr);

serveCommand(program);
migrateCommand(program, cx);
chainCommands(program, cx);
decisionCommands(program, cx);
tokenCommands(program, cx);
logCommands(program, cx);
evidenceCommands(program, cx);
trustCommands(program, cx);
keyCommands(program, cx);
reconcileCommands(program, cx);
mcpGatewayCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (e instanceof CliError) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else if (isCountersignError(e)) {
    process.stderr.write(`error: ${e.code}: ${e.message}\n`);
    process.exitCode = EXIT.usage;
  } else {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exitCode = EXIT.server;
  }
}
