import type { Command } from 'commander';
import type { CountersignClient } from '../../client/index.js';
import { withoutCountersignVariables } from '../../core/child-env.js';
import { checkCredentialNames } from '../credential-names.js';
import { CliError, EXIT } from '../errors.js';
import type { CommandContext } from '../context.js';
import { runChild, SignalRelay } from '../exec/child.js';
import { actionFingerprint, fingerprintFile } from '../exec/fingerprint.js';
import { exitFor, reportFor, type ChildOutcome } from '../exec/outcome.js';
import { actionsFor, redeemAll, type Grant } from '../exec/redeem.js';
import { reportAll, type Say } from '../exec/report.js';
import { claimsVersion } from '../exec/warrant.js';
import { readTokenArg, warrantActionOptions } from './decide.js';

interface ExecOptions {
  warrant: string;
  resource: string;
  permission: string;
  env: string;
  target: string[];
  fingerprintFrom?: string;
}

/** exec's own lines go to stderr: stdout belongs to the command. */
const say: Say = (line) => void process.stderr.write(`countersign exec: ${line}\n`);

const collect = (v: string, all: string[]): string[] => [...all, v];

/**
 * `countersign exec`: the approval gate in front of one command. The command runs only
 * after its redemption was allowed, sees the receipt in its environment, and its result
 * is reported back as a fulfilment per target.
 */
export function execCommand(program: Command, cx: CommandContext): void {
  warrantActionOptions(
    program
      .command('exec')
      .description(
        'redeem a warrant, run a command with the receipt in its environment, and report a fulfilment per target',
      )
      .usage(
        '--warrant TOKEN|@FILE|- --resource R --permission P --env E [--target T …] [--fingerprint-from FILE] -- CMD [ARGS…]',
      ),
  )
    .option(
      '--target <target>',
      'a target the command acts on; repeat for several (one use each)',
      collect,
      [],
    )
    .option(
      '--fingerprint-from <file>',
      'after a successful run, report the SHA-256 of this file (never its contents)',
    )
    .argument('<command...>', 'the command and its arguments, after --')
    .action(async (argv: string[], o: ExecOptions) => execute(cx.client(), argv, o));
}

async function execute(client: CountersignClient, argv: string[], o: ExecOptions): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined) throw new CliError('exec needs a command after --', EXIT.usage);
  const twice = o.target.find((t, i) => o.target.indexOf(t) !== i);
  if (twice !== undefined) throw new CliError(`--target ${twice} is given twice`, EXIT.usage);
  const warrant = await readTokenArg(o.warrant);
  // Checked before anything is spent: the action's digest would name no secret version,
  // and the reconciler would find no observed version matching it (FULFILMENT_MISMATCH).
  if (o.fingerprintFrom === undefined && claimsVersion(warrant)) {
    throw new CliError(
      "the warrant's action claims a secret version: pass --fingerprint-from FILE naming the file that holds it",
      EXIT.usage,
    );
  }
  const actions = actionsFor(
    { resource: o.resource, permission: o.permission, environment: o.env },
    o.target,
  );
  const r = await redeemAll(client, warrant, actions);
  switch (r.kind) {
    case 'denied':
      await reportNotRun(
        client,
        r.spent,
        `not run: another target's redemption was refused (${r.code})`,
      );
      throw new CliError(`denied: ${r.message}`, EXIT.denied, r.code);
    case 'failed':
      await reportNotRun(client, r.spent, "not run: another target's redemption failed");
      throw r.error;
    case 'allowed':
      return runAndReport(client, r.grants, command, args, o.fingerprintFrom);
  }
}

async function runAndReport(
  client: CountersignClient,
  grants: readonly Grant[],
  command: string,
  args: readonly string[],
  fingerprintFrom: string | undefined,
): Promise<void> {
  for (const g of grants) say(`allowed: use ${g.use} of ${g.maxUses} (target ${g.fulfilTarget})`);
  const credential = credentialOf(grants);
  try {
    checkCredentialNames(credential);
  } catch (e) {
    await reportNotRun(client, grants, 'not run: the credential sets a variable it may not');
    throw e;
  }
  const names = Object.keys(credential);
  if (names.length > 0) say(`credential minted for the command (${names.join(', ')})`);
  const relay = new SignalRelay();
  // The credential goes to the command's environment only: never to exec's own output.
  // exec's own token does not: with it the command could spend the executor's uses.
  const env = {
    ...withoutCountersignVariables(process.env),
    ...credential,
    ...receiptEnv(grants),
  };
  const outcome = await runChild(command, args, env, relay);
  // From here a forwarded signal stops the reporting instead; exec still ends as the command did.
  const stop = new AbortController();
  relay.route(() => stop.abort());
  sayOutcome(command, outcome);
  const succeeded = outcome.kind === 'exited' && outcome.code === 0;
  const fingerprint =
    succeeded && fingerprintFrom !== undefined ? await fingerprintFile(fingerprintFrom) : null;
  if (fingerprint?.kind === 'unreadable') {
    say(`warning: cannot read --fingerprint-from ${fingerprintFrom}: ${fingerprint.errno}`);
  }
  const reports = grants.map((grant) => ({
    grant,
    report: reportFor(outcome, fingerprint, actionFingerprint(grant.action)),
  }));
  await reportAll(client, reports, stop.signal, say);
  const exit = exitFor(outcome);
  relay.release();
  process.exitCode = exit.code;
  // With the handlers gone the signal's default action ends exec, so the shell sees the
  // same death as the command's; a signal Node ignores (SIGPIPE) leaves exitCode 128+n.
  if (exit.kind === 'signal') process.kill(process.pid, exit.signal);
}

/**
 * The receipts, in `--target` order. A JWS and a receipt id hold no space, nor does a
 * target, so several are space-separated; `COUNTERSIGN_TARGETS` gives their order.
 */
function receiptEnv(grants: readonly Grant[]): Record<string, string> {
  const targeted = grants.some((g) => g.action.target !== undefined);
  return {
    COUNTERSIGN_RECEIPT: grants.map((g) => g.receipt).join(' '),
    COUNTERSIGN_RECEIPT_ID: grants.map((g) => g.receiptId).join(' '),
    ...(targeted ? { COUNTERSIGN_TARGETS: grants.map((g) => g.fulfilTarget).join(' ') } : {}),
  };
}

/**
 * A brokered grant's credential as the command's environment (`PGUSER`, `PGPASSWORD`, …).
 * A brokered warrant serves one target, its connector, so a run holds at most one.
 */
function credentialOf(grants: readonly Grant[]): Record<string, string> {
  return Object.assign({}, ...grants.map((g) => g.credential ?? {})) as Record<string, string>;
}

function sayOutcome(command: string, o: ChildOutcome): void {
  switch (o.kind) {
    case 'exited':
      return;
    case 'signalled':
      return say(`the command was ended by ${o.signal}`);
    case 'not_started':
      return say(
        o.reason === 'not_found'
          ? `${command}: command not found`
          : `${command}: cannot run (${o.errno})`,
      );
  }
}

/** Uses spent on a run that will not happen are reported as failures, so none looks pending. */
async function reportNotRun(
  client: CountersignClient,
  spent: readonly Grant[],
  detail: string,
): Promise<void> {
  if (spent.length === 0) return;
  const report = { outcome: 'failure', detail } as const;
  await reportAll(
    client,
    spent.map((grant) => ({ grant, report })),
    new AbortController().signal,
    say,
  );
}
