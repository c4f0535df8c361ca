import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isRedemptionDenial, type RedeemInput } from '../../client/index.js';
import { CredentialFile } from '../credential-file.js';
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
        // Before the redemption: a path that cannot be written must not cost a use.
        const file =
          o.credentialOut === undefined ? undefined : CredentialFile.prepare(o.credentialOut);
        let answer;
        try {
          answer = await cx.client().redeem({ warrant, action });
        } catch (e) {
          file?.discard();
          if (isRedemptionDenial(e)) {
            throw new CliError(`denied: ${e.message}`, EXIT.denied, e.code);
          }
          throw e;
        }
        const { credential, ...out } = answer;
        try {
          saveCredential(credential, file);
        } finally {
          // The receipt is printed whatever became of the credential: the use is spent.
          emit(cx.json(), out, () => `allowed: use ${out.use} of ${out.maxUses}\n${out.receipt}`);
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
 * Puts a brokered credential where `--credential-out` said, readable by its owner only.
 * Never to stdout: the answer that carried it is the only copy there will ever be.
 */
function saveCredential(
  credential: Readonly<Record<string, string>> | undefined,
  file: CredentialFile | undefined,
): void {
  if (credential === undefined) {
    if (file !== undefined) warn(`no credential was minted: ${file.target} was not written`);
    file?.discard();
    return;
  }
  if (file === undefined) {
    warn(
      'a credential was minted and not saved (add --credential-out FILE); it will not be shown again',
    );
    return;
  }
  try {
    checkCredentialNames(credential);
  } catch (e) {
    file.discard();
    throw e;
  }
  // On failure it cleans up, or says where the credential is.
  file.write(credential);
}

const warn = (line: string) => void process.stderr.write(`warning: ${line}\n`);
