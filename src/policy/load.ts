import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseYamlText } from '../core/yaml.js';
import { digestOf } from '../core/canonical.js';
import { parseDuration } from '../core/duration.js';
import { CountersignError } from '../core/errors.js';
import { parseStrictJson } from '../core/json.js';
import { assertPattern } from '../core/scope.js';
import { literals } from '../core/schema.js';
import { NHI_KINDS, RequestActionSchema } from '../core/vocabulary.js';
import type { Policy, PolicyErrorCode, PolicyRule } from './policy.js';

const Name = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });
const DurationText = Type.String({ pattern: '^(\\d+[smhd])+$' });

const RuleSchema = Type.Object(
  {
    name: Name,
    match: Type.Optional(
      Type.Object(
        {
          environments: Type.Optional(Type.Array(Name, { minItems: 1 })),
          nhiKinds: Type.Optional(Type.Array(literals(NHI_KINDS), { minItems: 1 })),
          actions: Type.Optional(Type.Array(RequestActionSchema, { minItems: 1 })),
          resources: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    approvals: Type.Object(
      {
        required: Type.Integer({ minimum: 1, maximum: 16 }),
        groups: Type.Array(Name, { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    excludeOwner: Type.Optional(Type.Boolean()),
    requesterMayExecute: Type.Optional(Type.Boolean()),
    maxDuration: DurationText,
    maxLeadTime: Type.Optional(DurationText),
    maxUses: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    pendingExpiry: Type.Optional(DurationText),
  },
  { additionalProperties: false },
);

export const PolicyFileSchema = Type.Object(
  {
    version: Type.Literal(1),
    environments: Type.Array(Name, { minItems: 1 }),
    rules: Type.Array(RuleSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type PolicyFile = Static<typeof PolicyFileSchema>;

const DEFAULT_PENDING_EXPIRY = '24h';
const DEFAULT_MAX_LEAD_TIME = '7d';

function invalid(message: string): CountersignError<PolicyErrorCode> {
  return new CountersignError('POLICY_INVALID', `policy: ${message}`);
}

function duration(text: string, path: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw invalid(`${path}: ${(e as Error).message}`);
  }
}

/** Parses policy text (YAML, or JSON which YAML also reads) and validates it. */
export function parsePolicyText(text: string, format: 'yaml' | 'json'): Policy {
  let doc: unknown;
  try {
    doc = format === 'json' ? parseStrictJson(text) : parseYamlText(text);
  } catch (cause) {
    throw new CountersignError<PolicyErrorCode>(
      'POLICY_INVALID',
      `policy: not valid ${format.toUpperCase()}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return compilePolicy(doc);
}

/** Validates a parsed policy document and compiles it into rules. */
export function compilePolicy(doc: unknown): Policy {
  const first = Value.Errors(PolicyFileSchema, doc).First();
  if (first) throw invalid(`${first.path || '/'}: ${first.message}`);
  const file = doc as PolicyFile;
  const declared = new Set(file.environments);
  if (declared.size !== file.environments.length) {
    throw invalid('/environments: duplicate environment');
  }
  const names = new Set<string>();
  const rules = file.rules.map((r, i): PolicyRule => {
    const at = `/rules/${i}`;
    if (names.has(r.name)) throw invalid(`${at}/name: duplicate rule name ${r.name}`);
    names.add(r.name);
    for (const [j, env] of (r.match?.environments ?? []).entries()) {
      if (!declared.has(env)) {
        throw invalid(`${at}/match/environments/${j}: ${env} is not in /environments`);
      }
    }
    for (const [j, p] of (r.match?.resources ?? []).entries()) {
      try {
        assertPattern(p);
      } catch (e) {
        throw invalid(`${at}/match/resources/${j}: ${(e as Error).message}`);
      }
    }
    if (new Set(r.approvals.groups).size !== r.approvals.groups.length) {
      throw invalid(`${at}/approvals/groups: duplicate group`);
    }
    return {
      name: r.name,
      match: {
        environments: r.match?.environments ?? null,
        nhiKinds: r.match?.nhiKinds ?? null,
        actions: r.match?.actions ?? null,
        resources: r.match?.resources ?? null,
      },
      approvals: { required: r.approvals.required, groups: r.approvals.groups },
      excludeOwner: r.excludeOwner ?? false,
      requesterMayExecute: r.requesterMayExecute ?? true,
      maxDurationMs: duration(r.maxDuration, `${at}/maxDuration`),
      maxLeadTimeMs: duration(r.maxLeadTime ?? DEFAULT_MAX_LEAD_TIME, `${at}/maxLeadTime`),
      maxUses: r.maxUses,
      pendingExpiryMs: duration(r.pendingExpiry ?? DEFAULT_PENDING_EXPIRY, `${at}/pendingExpiry`),
    };
  });
  return { version: digestOf(file), environments: file.environments, rules };
}
