#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isCountersignError } from '../core/errors.js';
import { CountersignClient } from '../client/index.js';
import { CliError, cliErrorOf, EXIT } from './errors.js';
import { admissionCommand } from './commands/admission.js';
import { chainCommands } from './commands/chain.js';
import { decisionCommands } from './commands/decide.js';
import { execCommand } from './commands/exec.js';
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
import { redactUsageError } from './usage-errors.js';

const program = new Command('countersign')
  .description('approval integrity for non-human identities')
  .option(
    '--addr <url>',
    'server address (env COUNTERSIGN_ADDR)',
    process.env.COUNTERSIGN_ADDR ?? 'http://127.0.0.1:8470',
  )
  .option('--json', 'machine-readable output')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(redactUsageError(text)) })
  .showHelpAfterError();

/**
 * Per attempt. Longer than the SDK's default: an audit page or an evidence export of a
 * large log may take a while, and a person at a terminal can always press Ctrl-C.
 */
const CLI_TIMEOUT_MS = 120_000;

function contextFor(addr: () => string): CommandContext {
  return {
    client: () =>
      new CountersignClient({
        baseUrl: addr(),
        // An empty COUNTERSIGN_TOKEN means none, as it always has.
        token: process.env.COUNTERSIGN_TOKEN || undefined,
        timeoutMs: CLI_TIMEOUT_MS,
        userAgent: 'countersign-cli',
      }),
    json: () => program.opts<{ json?: boolean }>().json === true,
    withAddr: (a) => contextFor(() => a),
  };
}
const cx = contextFor(() => program.opts<{ addr: string }>().addr);

serveCommand(program);
migrateCommand(program, cx);
chainCommands(program, cx);
decisionCommands(program, cx);
execCommand(program, cx);
tokenCommands(program, cx);
logCommands(program, cx);
evidenceCommands(program, cx);
trustCommands(program, cx);
keyCommands(program, cx);
reconcileCommands(program, cx);
admissionCommand(program, cx);
mcpGatewayCommand(program, cx);

try {
  await program.parseAsync(process.argv);
} catch (thrown) {
  const e = cliErrorOf(thrown);
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
