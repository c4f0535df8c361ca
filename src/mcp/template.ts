/**
 * Resource templates: `db/{table}` names the resource a call acts on from its arguments,
 * `{tool}` from the tool's name. A placeholder fills a whole segment, so an argument can
 * never add a `/` (another level) or a `*` (a pattern) to the resource it names.
 */
import { assertPattern, assertResource } from '../core/scope.js';
import { McpGatewayError } from './errors.js';

type Segment = { readonly literal: string } | { readonly arg: string };
export interface Template {
  readonly text: string;
  readonly segments: readonly Segment[];
}

const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_.-]{0,63})\}$/;

export function parseTemplate(text: string, where: string): Template {
  const segments = text.split('/').map((s): Segment => {
    const m = PLACEHOLDER.exec(s);
    if (m) return { arg: m[1] as string };
    if (s.includes('{') || s.includes('}')) {
      throw new McpGatewayError(
        'GATEWAY_CONFIG_INVALID',
        `gateway config ${where}: a placeholder fills a whole segment (${text})`,
      );
    }
    return { literal: s };
  });
  try {
    // Checked with every placeholder as a wildcard: the literal parts must be valid names.
    assertPattern(segments.map((s) => ('arg' in s ? '*' : s.literal)).join('/'));
  } catch (e) {
    throw new McpGatewayError(
      'GATEWAY_CONFIG_INVALID',
      `gateway config ${where}: resource ${text}: ${(e as Error).message}`,
    );
  }
  return { text, segments };
}

/** The concrete resource one call names, or why its arguments name none. */
export function resourceOf(
  t: Template,
  tool: string,
  args: Readonly<Record<string, unknown>>,
): { readonly resource: string } | { readonly problem: string } {
  const parts: string[] = [];
  for (const s of t.segments) {
    if ('literal' in s) {
      parts.push(s.literal);
      continue;
    }
    // A tool name may hold `/`, which would add a level: it reads as `.` in a resource.
    const v =
      s.arg === 'tool'
        ? tool.replaceAll('/', '.')
        : Object.hasOwn(args, s.arg)
          ? args[s.arg]
          : undefined;
    if (typeof v !== 'string' && typeof v !== 'number') {
      return { problem: `argument ${s.arg} must be a string naming the resource (${t.text})` };
    }
    const segment = String(v);
    if (segment.includes('/')) {
      return { problem: `argument ${s.arg} must name one segment of ${t.text}, without /` };
    }
    parts.push(segment);
  }
  const resource = parts.join('/');
  try {
    assertResource(resource);
  } catch {
    return { problem: `the arguments name no valid resource for ${t.text}` };
  }
  return { resource };
}

/**
 * The resource patterns a session asks for: a placeholder whose argument the session
 * constrains to names spells each of them, any other becomes `*` (the constraint, not
 * the pattern, then bounds it). At most `limit` patterns.
 */
export function sessionResources(
  t: Template,
  tool: string,
  constraints: Readonly<Record<string, readonly unknown[]>>,
  limit: number,
): string[] {
  let out: string[][] = [[]];
  for (const s of t.segments) {
    const choices =
      'literal' in s
        ? [s.literal]
        : s.arg === 'tool'
          ? [tool.replaceAll('/', '.')]
          : (constraints[s.arg]?.map(String) ?? ['*']);
    out = out.flatMap((prefix) => choices.map((c) => [...prefix, c]));
    if (out.length > limit) {
      throw new McpGatewayError(
        'GATEWAY_CONFIG_INVALID',
        `the session for ${tool} spells more than ${limit} resources`,
      );
    }
  }
  return out.map((p) => p.join('/'));
}
