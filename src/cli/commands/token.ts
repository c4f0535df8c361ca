import type { Command } from 'commander';
import { newApiToken } from '../../identity/api-tokens.js';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';

export function tokenCommands(program: Command, cx: CommandContext): void {
  program
    .command('token')
    .description('API token helpers')
    .command('new')
    .description('make a bearer token and the tokenSha256 to put in the config')
    .action(() => {
      const t = newApiToken();
      emit(cx.json(), t, () => `token:       ${t.token}\ntokenSha256: ${t.sha256}`);
    });
}
