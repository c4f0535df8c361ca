import { chmodSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isRedemptionDenial, type RedeemInput } from '../../client/index.js';
import { checkCredentialNames } from '../credential-names.js';
import { CliError, EXIT } from '../errors.js';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';

export function decisionCommands(program: Command, cx: CommandContext): void {
  const decideAs = (decision: 'approve' | 'deny') => async (id: string, o: { reason?: string }) => {
    const out = await cx.client().decide(id, { decision, ...o });
    emit(cx.json(), out, () =>
      out.warrantId
        ? `${out.state}: warrant ${out.warrantId} issued`
        : `${out.state} (${out.approvals} approval(s))`,
    );
  };
  program.command('approve <requestId>').option('--reason <text>').action(decideAs('approve'));
  program.command('deny <requestId>').requiredOption('--reason <text>').action(decideAs('deny'));

  program
    .command('warrant <requestId>')
    .description("print the request's warrant (a compact JWS)")
    .action(async (id: string) => {
      const out = await cx.client().getWarrant(id);
      emit(cx.json(), out, () => out.token);
    });

  warrantActionOptions(
    program
      .command('redeem')
      .description('redeem a warrant for one concrete action; prints the receipt JWS last'),
  )
    .option('--target <target>')
    .option(
      '--credential-out <file>',
      "a brokered grant's credential: written here (mode 0600, KEY='value' lines), the only time it is shown",
    )
    .action(
      async (o: {
        warrant: string;
        resource: string;
        permission: string;
        env: string;
        target?: string;
        credentialOut?: string;
      }) => {
        const warrant = await readTokenArg(o.warrant);
        const action: RedeemInput['action'] = {
          resource: o.resource,
          permission: o.permission,
          environment: o.env,
          ...(o.target ? { target: o.target } : {}),
        };
        try {
          const { credential, ...out } = await cx.client().redeem({ warrant, action });
          if (credential !== undefined) saveCredential(credential, o.credentialOut);
          emit(cx.json(), out, () => `allowed: use ${out.use} of ${out.maxUses}\n${out.receipt}`);
        } catch (e) {
          if (isRedemptionDenial(e)) {
            throw new CliError(`denied: ${e.message}`, EXIT.denied, e.code);
          }
          throw e;
        }
      },
    );

  program
    .command('revoke <warrantId>')
    .requiredOption('--reason <text>')
    .action(async (id: string, o: { reason: string }) => {
      const out = await cx
        .client()
        .request<{ revokedAt: string }>(
          'POST',
          `/v1/warrants/${encodeURIComponent(id)}/revocation`,
          o,
        );
      emit(cx.json(), out, () => `revoked at ${out.revokedAt}`);
    });
}

/**
 * Reads a token argument the way `redeem` and `exec` take one: the token itself, `-`
 * for stdin, or `@FILE`. Only the token is returned; nothing of it is ever printed.
 */
export async function readTokenArg(v: string): Promise<string> {
  if (v === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').trim();
  }
  if (v.startsWith('@')) return (await readArgFile(v.slice(1))).trim();
  return v;
}

/**
 * Reads the file an `@FILE` argument names. A file that cannot be read is a usage error
 * (exit 2) naming the path and the reason, never anything of what the file holds.
 */
async function readArgFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(`cannot read @${path}: ${reason}`, EXIT.usage);
  }
}

/** The options that name a warrant and the action it is redeemed for (`redeem`, `exec`). */
export function warrantActionOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--warrant <token>',
      'the warrant JWS, or @FILE to read it from a file, or - for stdin (prefer these: a literal shows in the process list)',
    )
    .requiredOption('--resource <resource>')
    .requiredOption('--permission <permission>')
    .requiredOption('--env <environment>');
}

/**
 * Writes a brokered credential for a shell or `env` to read, readable by its owner only.
 * Never to stdout: the answer that carried it is the only copy there will ever be.
 */
function saveCredential(
  credential: Readonly<Record<string, string>>,
  file: string | undefined,
): void {
  if (file === undefined) {
    process.stderr.write(
      'warning: a credential was minted and not saved (add --credential-out FILE); it will not be shown again\n',
    );
    return;
  }
  checkCredentialNames(credential);
  const quote = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;
  const text = Object.entries(credential)
    .map(([k, v]) => `${k}=${quote(v)}\n`)
    .join('');
  writeFileSync(file, text, { mode: 0o600, flag: 'w' });
  chmodSync(file, 0o600);
}
