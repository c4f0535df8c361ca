/**
 * The gating configuration: which upstream tools cross a warrant, and how one call maps
 * onto countersign's action. Read from YAML (or JSON), on its own or as the
 * `mcpGateway` section of a larger config file, and refused whole when any part is wrong:
 * a gateway that silently gated less than its operator wrote would be worse than none.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseYamlText } from '../core/yaml.js';
import { parseDuration } from '../core/duration.js';
import { assertNhiId, NameSchema } from '../core/vocabulary.js';
import type { AgentTokenConfig } from './agent-tokens.js';
import { McpGatewayError } from './errors.js';
import { assertPermission, normaliseScope } from '../core/scope.js';
import { parseTemplate, sessionResources, type Template } from './template.js';
import { compileGlob, matchGlob } from '../core/glob.js';

const Scalar = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]);
/** An argument's name, as scope constraints name it (scope-constraints.ts). */
const ArgName = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$' });
const DurationText = Type.String({ pattern: '^(\\d+[smhd])+$', maxLength: 32 });

const ToolRuleSchema = Type.Object(
  {
    /** The resource, e.g. `mcp/orders-db/query`, or a template such as `db/{table}`. */
    resource: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    permission: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** The target the call acts on (default `<server>:<tool>`: the call itself). */
    target: Type.Optional(NameSchema),
    /** `all` (default): the whole arguments object, by digest; `none`; or argument names pinned by value. */
    pin: Type.Optional(
      Type.Union([
        Type.Literal('all'),
        Type.Literal('none'),
        Type.Array(ArgName, { minItems: 1, maxItems: 16 }),
      ]),
    ),
    /** How long one approved call stays usable (default 1h). */
    duration: Type.Optional(DurationText),
    /**
     * Ask for a session instead of one call: `maxUses` calls over `duration`, with any
     * arguments that meet the constraints (e.g. `table: [orders, invoices]`).
     */
    session: Type.Optional(
      Type.Object(
        {
          maxUses: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          duration: DurationText,
          constraints: Type.Optional(
            Type.Record(ArgName, Type.Array(Scalar, { minItems: 1, maxItems: 64 }), {
              additionalProperties: false,
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const GatingConfigSchema = Type.Object(
  {
    /** The upstream's name, as warrants and receipts carry it, e.g. `orders-db`. */
    server: NameSchema,
    environment: NameSchema,
    /** The NHI the gateway acts for, e.g. `agent:ops-bot` (or name it per session: `agentTokens`). */
    subject: Type.Optional(Type.String({ minLength: 3, maxLength: 233 })),
    /**
     * Over HTTP, each session presents a workload token naming its agent: verified
     * against the issuer's keys, its claims spell the agent's NHI (`subject: agent:{sub}`).
     */
    agentTokens: Type.Optional(
      Type.Object(
        {
          issuer: Type.String({ minLength: 1, maxLength: 512 }),
          audience: Type.String({ minLength: 1, maxLength: 512 }),
          jwksUri: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
          subject: Type.String({ minLength: 3, maxLength: 233 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** The principal the gateway's own credential authenticates as: the warrant's executor. */
    executor: NameSchema,
    /** Names or globs of the gated tools (default: every tool). */
    gated: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }))),
    tools: Type.Optional(Type.Record(Type.String(), ToolRuleSchema)),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    /** Show pinned arguments to approvers (in the request and warrant) when small enough. */
    discloseArguments: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
type GatingConfigFile = Static<typeof GatingConfigSchema>;

/** How one tool's calls map onto an action. */
export interface ToolRule {
  readonly resource: Template;
  readonly permission: string;
  readonly target: string | undefined;
  readonly pin: 'all' | 'none' | readonly string[];
  readonly durationMs: number;
  readonly session:
    | {
        readonly maxUses: number;
        readonly durationMs: number;
        readonly constraints: Readonly<Record<string, readonly (string | number | boolean)[]>>;
      }
    | undefined;
}

export interface GatingConfig {
  readonly server: string;
  readonly environment: string;
  /** The agent calls are made for: the configured one, or the session's (`forAgent`). */
  readonly subject: string;
  /** How HTTP sessions name their agent, when they do. */
  readonly agentTokens: AgentTokenConfig | undefined;
  /** The same config, acting for `agent` (named by a session's verified token). */
  forAgent(agent: string): GatingConfig;
  readonly executor: string;
  readonly reason: string | undefined;
  readonly discloseArguments: boolean;
  /** The rule for a tool, or undefined when its calls pass through ungated. */
  ruleFor(tool: string): ToolRule | undefined;
}

const bad = (where: string, message: string) =>
  new McpGatewayError('GATEWAY_CONFIG_INVALID', `gateway config ${where}: ${message}`);

function toolRule(file: GatingConfigFile, tool: string, where: string): ToolRule {
  const r = file.tools?.[tool] ?? {};
  const resource = parseTemplate(r.resource ?? `mcp/${file.server}/{tool}`, where);
  const pin = r.pin ?? 'all';
  if (r.session !== undefined && r.pin !== undefined) {
    throw bad(where, 'a session rule pins nothing: its constraints bound the arguments');
  }
  const duration = (text: string, path: string): number => {
    try {
      return parseDuration(text);
    } catch (e) {
      throw bad(where, `${path} ${(e as Error).message}`);
    }
  };
  try {
    assertPermission(r.permission ?? 'call');
  } catch (e) {
    throw bad(where, `/permission ${(e as Error).message}`);
  }
  const session = r.session;
  if (session !== undefined) {
    // Checked now as the scope will be: a bad name or value would refuse every call.
    try {
      normaliseScope(
        sessionResources(resource, tool, session.constraints ?? {}, 256).map((res) => ({
          resource: res,
          permissions: [r.permission ?? 'call'],
          ...(session.constraints
            ? {
                constraints: Object.fromEntries(
                  Object.entries(session.constraints).map(([k, v]) => [k, { in: v }]),
                ),
              }
            : {}),
        })),
      );
    } catch (e) {
      throw bad(where, `/session ${(e as Error).message}`);
    }
  }
  return {
    resource,
    permission: r.permission ?? 'call',
    target: r.target,
    pin,
    durationMs: duration(r.duration ?? '1h', '/duration'),
    session:
      session === undefined
        ? undefined
        : {
            maxUses: session.maxUses,
            durationMs: duration(session.duration, '/session/duration'),
            constraints: session.constraints ?? {},
          },
  };
}

/** Validates a parsed document; `where` names it in errors. */
export function gatingConfigOf(doc: unknown, where: string): GatingConfig {
  const section =
    doc !== null && typeof doc === 'object' && 'mcpGateway' in doc ? doc.mcpGateway : doc;
  if (!Value.Check(GatingConfigSchema, section)) {
    const first = [...Value.Errors(GatingConfigSchema, section)][0];
    throw bad(where, `${first?.path || '/'} ${first?.message ?? 'is invalid'}`);
  }
  const file = section;
  if ((file.subject === undefined) === (file.agentTokens === undefined)) {
    throw bad(where, 'name the agent once: /subject, or /agentTokens for one per HTTP session');
  }
  try {
    if (file.subject !== undefined) assertNhiId(file.subject);
  } catch (e) {
    throw bad(where, `/subject ${(e as Error).message}`);
  }
  // `*` matches any run of characters, line breaks included: the default `gated: ['*']`
  // must not let `query\n` through ungated. Everything else is literal. Compiled once.
  const gated = (file.gated ?? ['*']).map((g) => compileGlob(g, 'flat'));
  const rules = new Map<string, ToolRule>();
  // Every configured tool's rule is checked now, not at its first call.
  for (const tool of Object.keys(file.tools ?? {})) {
    rules.set(tool, toolRule(file, tool, `${where} /tools/${tool}`));
  }
  const config = (subject: string): GatingConfig => ({
    server: file.server,
    environment: file.environment,
    subject,
    agentTokens: file.agentTokens,
    forAgent: (agent) => config(agent),
    executor: file.executor,
    reason: file.reason,
    discloseArguments: file.discloseArguments ?? true,
    ruleFor(tool) {
      if (!gated.some((g) => matchGlob(g, tool))) return undefined;
      // Only configured tools are kept: an agent choosing names would otherwise grow this
      // map without bound. Another name's rule is the defaults, made for the call.
      return rules.get(tool) ?? toolRule(file, tool, `${where} (tool ${tool})`);
    },
  });
  // Until a session names its agent, the config acts for none (`forAgent` names it).
  return config(file.subject ?? '');
}

/** Reads a gating config file (YAML or JSON). */
export function readGatingConfig(path: string): GatingConfig {
  let doc: unknown;
  try {
    doc = parseYamlText(readFileSync(path, 'utf8'));
  } catch (e) {
    throw bad(path, (e as Error).message.split('\n')[0] ?? 'unreadable');
  }
  return gatingConfigOf(doc, path);
}
