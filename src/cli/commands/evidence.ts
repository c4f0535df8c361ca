import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError, EXIT } from '../errors.js';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';
import { collect, pinnedTrust, readJwksFile, type TrustOptions } from '../trust-options.js';
import { wholeNumberArg } from '../whole-number.js';

type VerifyCliOptions = TrustOptions & { jwks?: string; trustEmbedded?: boolean; atLeast?: number };

export function evidenceCommands(program: Command, cx: CommandContext): void {
  const evidence = program.command('evidence').description('offline-verifiable evidence bundles');
  evidence
    .command('export <requestId>')
    .description("write one request's chain of custody with log proofs and a signed attestation")
    .option('-o, --output <file>', 'write the bundle here instead of stdout')
    .action(async (id: string, o: { output?: string }) => {
      const bundle = await cx
        .client()
        .request<unknown>('GET', `/v1/requests/${encodeURIComponent(id)}/evidence`);
      const text = JSON.stringify(bundle, null, 2) + '\n';
      if (o.output) {
        await writeFile(o.output, text, { mode: 0o644 });
        process.stderr.write(`wrote ${o.output}\n`);
      } else {
        process.stdout.write(text);
      }
    });
  evidence
    .command('verify <bundle>')
    .description('verify a bundle fully offline and print its chain of custody')
    .option('--trust <file>', 'pin the key history and JWKS (from `countersign trust export`)')
    .option('--log-key <key>', 'pin a log C2SP verifier key (repeat for each key)', collect)
    .option('--jwks <file>', 'pin the JWKS (a file)')
    .option(
      '--trust-embedded',
      "accept the bundle's own keys: proves consistency, not origin (exit 0 instead of 5)",
    )
    .option(
      '--at-least <size>',
      'refuse a bundle whose checkpoint is of a smaller tree (exported before events you know of)',
      wholeNumberArg(0, Number.MAX_SAFE_INTEGER, 'a tree size: a whole number'),
    )
    .action(async (file: string, o: VerifyCliOptions) => {
      // Loaded lazily so that other commands do not pay for the verifier.
      const { renderCustody, verifyBundle } = await import('../../evidence/index.js');
      const pinned = await pinnedTrust(o);
      const jwks = o.jwks ? await readJwksFile(o.jwks) : pinned.jwks;
      const bundle = await readFile(file).catch(() => {
        throw new CliError(`cannot read the bundle ${file}`, EXIT.usage, 'USAGE');
      });
      const report = await verifyBundle(
        bundle,
        {
          ...(pinned.pins.length > 0 ? { logKeys: pinned.pins } : {}),
          ...(jwks ? { jwks } : {}),
          revokedKeys: pinned.revokedKeys,
        },
        o.atLeast === undefined ? {} : { atLeastSize: o.atLeast },
      );
      emit(cx.json(), report, () => renderCustody(report));
      if (!report.ok)
        throw new CliError('evidence verification failed', EXIT.inconsistent, 'EVIDENCE_INVALID');
      if (report.trust !== 'pinned' && o.trustEmbedded !== true)
        throw new CliError(
          'EVIDENCE_UNPINNED: verified, but against keys taken from the bundle itself: pin them with --trust (or accept with --trust-embedded)',
          EXIT.unpinned,
          'EVIDENCE_UNPINNED',
        );
    });
}
