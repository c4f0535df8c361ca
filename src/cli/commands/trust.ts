import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { TrustFile, VerifierKeys } from '../../trust/trust-file.js';
import type { CommandContext } from '../context.js';

export function trustCommands(program: Command, cx: CommandContext): void {
  const trust = program.command('trust').description("the auditor's pinned keys");
  trust
    .command('export')
    .description(
      'write a trust file: every log verifier key with its state and revocation position, and the JWKS, as the server publishes them',
    )
    .option('-o, --output <file>', 'write the trust file here instead of stdout')
    .action(async (o: { output?: string }) => {
      const client = cx.client();
      const published = await client.request<VerifierKeys>('GET', '/v1/log/verifier-keys');
      const jwks = await client.request<TrustFile['jwks']>('GET', '/.well-known/jwks.json');
      const file: TrustFile = { origin: published.origin, logKeys: published.keys, jwks };
      const text = JSON.stringify(file, null, 2) + '\n';
      if (o.output === undefined) {
        process.stdout.write(text);
        return;
      }
      await writeFile(o.output, text, { mode: 0o644 });
      process.stderr.write(
        `wrote ${o.output}: ${file.logKeys.length} log key(s), ${jwks.keys.length} JWKS key(s)\n`,
      );
    });
}
