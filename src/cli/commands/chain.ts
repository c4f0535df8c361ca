import type { Command } from 'commander';
import { isCountersignError } from '../../core/errors.js';
import { parseStrictJson } from '../../core/json.js';
import type { CreateRequestInput, ListRequestsFilter } from '../../client/index.js';
import { CliError, EXIT } from '../errors.js';
import { emit } from '../output.js';
import type { CommandContext } from '../context.js';
import { renderRequest, type RequestView } from '../request-view.js';
import { wholeNumberArg } from '../whole-number.js';

const collect = (v: string, acc: string[]): string[] => [...acc, v];

/** `--scope db/orders=read,write` becomes `{resource: 'db/orders', permissions: ['read','write']}`. */
/** `--tool orders-db/query` with `--tool-args '{"table":"orders"}'`: the server hashes the arguments. */
function toolFrom(spec: string, args: unknown): Record<string, unknown> {
  const at = spec.indexOf('/');
  if (at <= 0 || at === spec.length - 1) {
    throw new CliError(`--tool ${spec}: use SERVER/TOOL, e.g. orders-db/query`, EXIT.usage);
  }
  const tool = { server: spec.slice(0, at), name: spec.slice(at + 1) };
  if (args === undefined) return tool;
  let parsed: unknown;
  try {
    // Strict: JSON.parse would keep the last of two equal keys without a word, and the
    // request's digest would pin arguments its author did not see that way.
    parsed = parseStrictJson(args as string);
  } catch (e) {
    const why = isCountersignError(e) && e.code !== 'INVALID_JSON' ? ` (${e.message})` : '';
    throw new CliError(`--tool-args: not JSON${why}`, EXIT.usage, 'USAGE');
  }
  return { ...tool, arguments: parsed };
}

/** `--constraint table=orders,invoices` (repeatable): string values, as a CLI can give them. */
function constraintsFrom(flags: string[]): Record<string, { in: string[] }> | undefined {
  if (flags.length === 0) return undefined;
  const out: Record<string, { in: string[] }> = {};
  for (const f of flags) {
    const at = f.indexOf('=');
    if (at <= 0 || at === f.length - 1) {
      throw new CliError(`--constraint ${f}: use NAME=VALUE[,VALUE]`, EXIT.usage);
    }
    out[f.slice(0, at)] = { in: f.slice(at + 1).split(',') };
  }
  return out;
}

export function parseScopeFlag(v: string): { resource: string; permissions: string[] } {
  const at = v.lastIndexOf('=');
  if (at <= 0 || at === v.length - 1) {
    throw new CliError(`--scope ${v}: use RESOURCE=PERM[,PERM]`, EXIT.usage);
  }
  return { resource: v.slice(0, at), permissions: v.slice(at + 1).split(',') };
}

type ClaimCondition = string | { pattern: string };

/** `--executor-claim repository=acme/deploy` is an exact value; `ref~=refs/tags/v*` a glob. */
export function parseClaimFlag(v: string): [string, ClaimCondition] {
  const m = /^([^=~]+)(~?=)(.+)$/.exec(v);
  if (!m) throw new CliError(`--executor-claim ${v}: use NAME=VALUE or NAME~=GLOB`, EXIT.usage);
  const [, name, op, value] = m as unknown as [string, string, string, string];
  return [name, op === '~=' ? { pattern: value } : value];
}

/** The request's executor binding from the flags: a principal, or a workload claim matcher. */
function executorFrom(o: Record<string, unknown>): object {
  const issuer = o.executorIssuer as string | undefined;
  const claims = o.executorClaim as string[];
  const principal = o.executor as string | undefined;
  if (principal !== undefined && (issuer !== undefined || claims.length > 0)) {
    throw new CliError(
      'give --executor, or --executor-issuer with --executor-claim, not both',
      EXIT.usage,
    );
  }
  if (principal !== undefined) return { principal };
  if (issuer === undefined || claims.length === 0) {
    throw new CliError(
      'give --executor PRINCIPAL, or --executor-issuer URL with at least one --executor-claim',
      EXIT.usage,
    );
  }
  return { issuer, claims: Object.fromEntries(claims.map(parseClaimFlag)) };
}

export function chainCommands(program: Command, cx: CommandContext): void {
  const nhi = program.command('nhi').description('non-human identities');
  nhi
    .command('add')
    .description('register an NHI')
    .requiredOption('--id <id>', 'e.g. svc:payments-api')
    .requiredOption('--kind <kind>', 'service_account|api_key|secret|workload|ai_agent|pipeline')
    .requiredOption('--owner <owner>', 'owning team or person')
    .option('--description <text>')
    .action(async (o: { id: string; kind: string; owner: string; description?: string }) => {
      const out = await cx.client().request<{ id: string }>('POST', '/v1/nhis', o);
      emit(cx.json(), out, () => out.id);
    });
  nhi.command('show <id>').action(async (id: string) => {
    const out = await cx.client().request('GET', `/v1/nhis/${encodeURIComponent(id)}`);
    emit(true, out, () => '');
  });
  nhi
    .command('set-owner <id>')
    .description('hand an NHI to another owner (admin, or a member of the current owner group)')
    .requiredOption('--owner <group>', 'the new owning group')
    .requiredOption('--reason <text>')
    .action(async (id: string, o: { owner: string; reason: string }) => {
      const path = `/v1/nhis/${encodeURIComponent(id)}/owner`;
      const out = await cx.client().request<{ id: string; owner: string }>('PUT', path, o);
      emit(cx.json(), out, () => `${out.id} owned by ${out.owner}`);
    });

  const request = program.command('request').description('approval requests');
  request
    .command('create')
    .description('ask for approval; prints the request id')
    .requiredOption('--subject <nhi>', 'the NHI the change is about')
    .requiredOption('--action <action>', 'grant|rotate|revoke|retrieve_secret|custom|tool_call')
    .requiredOption('--scope <res=perm,...>', 'resource and permissions (repeatable)', collect, [])
    .requiredOption('--env <environment>')
    .option('--target <target>', 'where fulfilment must happen (repeatable)', collect, [])
    .option('--executor <principal>', 'the principal that may redeem the warrant')
    .option('--executor-issuer <url>', 'or: the workload token issuer that may redeem it')
    .option(
      '--executor-claim <name=value>',
      'with --executor-issuer: a claim the token must carry (NAME=VALUE, or NAME~=GLOB; repeatable)',
      collect,
      [],
    )
    .option('--duration <d>', 'window length from approval (or from --not-before), e.g. 2h')
    .option('--not-before <ts>', 'RFC 3339 start of an absolute window')
    .option('--not-after <ts>', 'RFC 3339 end')
    .option(
      '--max-uses <n>',
      'uses allowed (default 1)',
      wholeNumberArg(1, Number.MAX_SAFE_INTEGER, 'a whole number of uses, 1 or more'),
    )
    .requiredOption('--reason <text>')
    .option('--ticket <ref>', 'external ticket reference')
    .option(
      '--tool <server/name>',
      'with --action tool_call: the MCP server and tool, e.g. orders-db/query',
    )
    .option(
      '--connector <name>',
      'with --action grant: the connector that mints the credential at redemption',
    )
    .option('--tool-args <json>', 'with --tool: pin (and show approvers) exactly these arguments')
    .option(
      '--constraint <name=v1,v2>',
      'with --tool: every scope entry allows only these values of an argument (repeatable)',
      collect,
      [],
    )
    .action(async (o: Record<string, unknown>) => {
      // Like the API, the CLI never picks a window for the requester.
      if (!o.duration && !o.notAfter) {
        throw new CliError('give a window: --duration D or --not-after TS', EXIT.usage, 'USAGE');
      }
      const constraints = constraintsFrom(o.constraint as string[]);
      const scope = (o.scope as string[])
        .map(parseScopeFlag)
        .map((e) => (constraints ? { ...e, constraints } : e));
      const body = {
        subject: o.subject,
        action: o.action,
        ...(o.tool === undefined ? {} : { tool: toolFrom(o.tool as string, o.toolArgs) }),
        ...(o.connector === undefined ? {} : { connector: o.connector }),
        scope,
        environment: o.env,
        targets: o.target,
        executor: executorFrom(o),
        reason: o.reason,
        ...(o.duration ? { duration: o.duration } : {}),
        ...(o.notBefore ? { notBefore: o.notBefore } : {}),
        ...(o.notAfter ? { notAfter: o.notAfter } : {}),
        ...(o.maxUses !== undefined ? { maxUses: o.maxUses } : {}),
        ...(o.ticket ? { ticket: o.ticket } : {}),
      };
      // The server validates what the flags said; the CLI passes it on as given.
      const out = await cx.client().createRequest(body as CreateRequestInput);
      emit(cx.json(), out, () => out.id);
    });
  request
    .command('show <id>')
    .description('everything the approvals bind: scope, targets, window, executor, uses, policy')
    .action(async (id: string) => {
      const r: RequestView = await cx.client().getRequest(id);
      emit(cx.json(), r, () => renderRequest(r));
    });
  request
    .command('list')
    .option('--state <state>', 'pending|approved|denied|expired|withdrawn|revoked|exhausted')
    .option('--subject <nhi>', 'only requests for this NHI')
    .option('--action <action>', 'only requests for this action, e.g. tool_call')
    .action(async (o: ListRequestsFilter) => {
      const requests = await cx.client().listRequests(o);
      const out = { requests };
      emit(cx.json(), out, () =>
        out.requests
          .map((r) => `${r.id}  ${r.state}  ${r.subject}  ${r.action}  ${r.environment}`)
          .join('\n'),
      );
    });
  request
    .command('withdraw <id>')
    .requiredOption('--reason <text>')
    .action(async (id: string, o: { reason: string }) => {
      const out = await cx
        .client()
        .request<RequestView>('POST', `/v1/requests/${encodeURIComponent(id)}/withdrawal`, o);
      emit(cx.json(), out, () => out.state);
    });
}
