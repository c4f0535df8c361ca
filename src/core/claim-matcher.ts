import { Type, type Static } from '@sinclair/typebox';
import { readClaim } from './claim-path.js';
import { compileGlob, matchGlob, type CompiledGlob } from './glob.js';
import { Strict, type Frozen } from './schema.js';

const Condition = Type.Union([
  Type.String({ maxLength: 1024 }),
  Type.Object({ pattern: Type.String({ maxLength: 1024 }) }, Strict),
]);

/**
 * One claim's condition: a plain string matches only itself; `{ pattern }` is a glob
 * over the whole value where `*` matches any run of characters except `/` and `**`
 * matches any run at all. Every other character is literal, regex metacharacters too.
 */
export type ClaimCondition = Frozen<Static<typeof Condition>>;

/** The JSON shape of a matcher, for request bodies and warrant claims. Needs one claim at least. */
export const ClaimMatcherSchema = Type.Object(
  {
    issuer: Type.String({ minLength: 1, maxLength: 2048 }),
    claims: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Condition, {
      minProperties: 1,
      maxProperties: 32,
    }),
  },
  Strict,
);

/**
 * Binds an executor to workload-token claims instead of a principal id: the token
 * must come from `issuer` and every listed claim (a dotted path, see `readClaim`)
 * must be a string that satisfies its condition. All conditions must hold.
 *
 * @example
 * { issuer: 'https://token.actions.githubusercontent.com',
 *   claims: { repository: 'acme/deploy', environment: 'prod', ref: { pattern: 'refs/tags/v*' } } }
 */
export type ClaimMatcher = Frozen<Static<typeof ClaimMatcherSchema>>;

/** The first claim that failed, by name: values are never reported. */
export type MatchResult = { readonly ok: true } | { readonly ok: false; readonly claim: string };

/** Values longer than this never match, which also bounds a match's work. */
export const MAX_MATCHED_VALUE_LENGTH = 2048;

const compiled = new Map<string, CompiledGlob>();

/** Whether `value` matches the glob `pattern` as a whole. */
export function globMatches(pattern: string, value: string): boolean {
  if (value.length > MAX_MATCHED_VALUE_LENGTH) return false;
  let glob = compiled.get(pattern);
  if (!glob) {
    if (compiled.size >= 1024) compiled.clear();
    glob = compileGlob(pattern, 'segments');
    compiled.set(pattern, glob);
  }
  return matchGlob(glob, value);
}

function satisfies(condition: ClaimCondition, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  return typeof condition === 'string'
    ? value === condition
    : globMatches(condition.pattern, value);
}

/**
 * Checks a verified identity against a matcher. Claims are checked in sorted name
 * order so the reported claim does not depend on how the matcher was serialised.
 * A matcher that constrains no claim fails closed (`claim: '*'`): it would otherwise
 * bind every workload the issuer vouches for (for GitHub: every repository on GitHub).
 */
export function matchClaims(
  matcher: ClaimMatcher,
  identity: { readonly issuer: string; readonly claims: Readonly<Record<string, unknown>> },
): MatchResult {
  if (identity.issuer !== matcher.issuer) return { ok: false, claim: 'iss' };
  const names = Object.keys(matcher.claims).sort();
  if (names.length === 0) return { ok: false, claim: '*' };
  for (const name of names) {
    const condition = matcher.claims[name];
    if (condition === undefined || !satisfies(condition, readClaim(identity.claims, name))) {
      return { ok: false, claim: name };
    }
  }
  return { ok: true };
}
