import { Option, type Command } from 'commander';
import type { FulfilInput, ObserveInput } from '../../client/index.js';
import type { CommandContext } from '../context.js';
import { emit } from '../output.js';

const ROLES = ['warrants', 'redemptions', 'fulfilments', 'observations'] as const;
type Proof = Record<(typeof ROLES)[number], number[]>;

interface FindingView {
  id: string;
  kind: string;
  state: string;
  requestId: string | null;
  subject: string;
  target: string | null;
  detail: string;
  evidence: Proof;
  logIndices: number[];
}

interface ExceptionView {
  requestId: string;
  subject: string;
  status: string;
  endsAt: string;
  targets: Array<{
    target: string;
    revoked: boolean;
    late: boolean;
    observedGone: boolean;
    stillObserved: boolean;
  }>;
  logIndices: number[];
}

/** `warrants 4; fulfilments 9,12; observations 15`: the log indices of a proof, by role. */
const proofText = (p: Proof): string =>
  ROLES.filter((role) => p[role].length > 0)
    .map((role) => `${role} ${p[role].join(',')}`)
    .join('; ') || '-';

function targetText(t: ExceptionView['targets'][number]): string {
  const notes = [
    ...(t.late ? ['LATE'] : []),
    ...(t.revoked && !t.observedGone && !t.stillObserved ? ['not yet observed gone'] : []),
    ...(t.stillObserved ? ['still observed'] : []),
  ];
  return `    ${t.target}: ${t.revoked ? 'revoked' : 'NOT revoked'}${notes.map((n) => `, ${n}`).join('')}`;
}

export function reconcileCommands(program: Command, cx: CommandContext): void {
  program
    .command('fulfil')
    .description('report what was done at one target, against a redemption receipt')
    .requiredOption('--receipt <jws>', 'the receipt JWS from `redeem`')
    .requiredOption('--target <target>')
    .requiredOption('--outcome <outcome>', 'success|failure')
    .option('--fingerprint <sha256:hex>', 'digest of the resulting state (never the secret itself)')
    .option('--detail <text>')
    .option('--revocation', 'this reports taking a time-boxed grant away again')
    .action(
      async (o: {
        receipt: string;
        target: string;
        outcome: string;
        fingerprint?: string;
        detail?: string;
        revocation?: boolean;
      }) => {
        // The server validates what the flags said (an unknown outcome is its 400).
        const out = await cx.client().fulfil({
          receipt: o.receipt,
          target: o.target,
          outcome: o.outcome as FulfilInput['outcome'],
          phase: o.revocation ? 'revoke' : 'apply',
          ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
          ...(o.detail ? { detail: o.detail } : {}),
        });
        emit(cx.json(), out, () => out.id);
      },
    );

  program
    .command('observe')
    .description('report one observed fact (collectors; batches go to POST /v1/observations)')
    .requiredOption('--subject <nhi>')
    .requiredOption('--target <target>')
    // One fact per call: a version, or a grant (present or --absent), never both.
    .addOption(
      new Option(
        '--secret-version <sha256:hex>',
        'the secret version fingerprint in use',
      ).conflicts(['grant', 'absent']),
    )
    .option('--grant <res=perm>', 'a grant the NHI holds (or no longer holds, with --absent)')
    .option('--absent', 'the grant is not present')
    .option('--at <ts>', 'RFC 3339 observation time (default now)')
    .action(
      async (o: {
        subject: string;
        target: string;
        secretVersion?: string;
        grant?: string;
        absent?: boolean;
        at?: string;
      }) => {
        const [resource, permission] = (o.grant ?? '').split('=');
        const fact = o.secretVersion
          ? { kind: 'secret_version', fingerprint: o.secretVersion }
          : { kind: 'grant', resource, permission, present: o.absent !== true };
        // A `--grant` without `=` is sent incomplete, for the server to refuse.
        const out = await cx.client().observe({
          observations: [
            {
              subject: o.subject,
              target: o.target,
              observedAt: o.at ?? new Date().toISOString(),
              fact: fact as ObserveInput['observations'][number]['fact'],
            },
          ],
        });
        emit(cx.json(), out, () => `recorded ${out.recorded}, duplicates ${out.duplicates}`);
      },
    );

  program
    .command('reconcile')
    .description('compare approved, claimed and observed state now and record findings')
    .option('--now', 'run immediately (the server also runs on its schedule)')
    .option('--full', 'plan every subject, not only those changed since the last pass')
    .action(async (o: { full?: boolean }) => {
      const out = await cx.client().request<{
        raised: number;
        reopened: number;
        resolved: number;
        expired: number;
        full: boolean;
        planned: number;
      }>('POST', o.full === true ? '/v1/reconcile?full=true' : '/v1/reconcile');
      const planned = `${out.full ? 'every subject' : 'changed subjects'}: ${out.planned}`;
      emit(
        cx.json(),
        out,
        () =>
          `raised ${out.raised}, reopened ${out.reopened}, resolved ${out.resolved}, expiries recorded ${out.expired} (${planned})`,
      );
    });

  const findings = program
    .command('findings')
    .description('list findings')
    .option('--state <state>', 'open|acknowledged|resolved')
    .action(async (o: { state?: string }) => {
      const q = o.state ? `?state=${encodeURIComponent(o.state)}` : '';
      const out = await cx.client().request<{ findings: FindingView[] }>('GET', `/v1/findings${q}`);
      emit(cx.json(), out, () =>
        out.findings
          .map(
            (f) =>
              `${f.id}  ${f.state.padEnd(12)} ${f.kind.padEnd(24)} ${f.subject}  ${f.target ?? '-'}\n    ${f.detail}\n    proof: log ${proofText(f.evidence)}`,
          )
          .join('\n'),
      );
    });
  for (const [name, path] of [
    ['ack', 'acknowledgement'],
    ['resolve', 'resolution'],
  ] as const) {
    findings
      .command(`${name} <id>`)
      .requiredOption('--reason <text>')
      .action(async (id: string, o: { reason: string }) => {
        const out = await cx
          .client()
          .request<FindingView>('POST', `/v1/findings/${encodeURIComponent(id)}/${path}`, o);
        emit(cx.json(), out, () => `${out.id} ${out.state}`);
      });
  }

  program
    .command('report')
    .description('reports')
    .command('exceptions')
    .description('every approved time-boxed grant, and whether it was revoked on every target')
    .option('--since <ts>', 'only exceptions ending at or after this time')
    .action(async (o: { since?: string }) => {
      const q = o.since ? `?since=${encodeURIComponent(o.since)}` : '';
      const out = await cx
        .client()
        .request<{ exceptions: ExceptionView[] }>('GET', `/v1/reports/exceptions${q}`);
      emit(cx.json(), out, () =>
        out.exceptions
          .map(
            (e) =>
              `${e.status.padEnd(20)} ${e.subject}  ends ${e.endsAt}  ${e.requestId}\n` +
              e.targets.map(targetText).join('\n') +
              `\n    proof: log ${e.logIndices.join(',') || '-'}`,
          )
          .join('\n'),
      );
    });
}
