import { CountersignError } from '../core/errors.js';

/**
 * Secret-material screening for free text that executors and collectors send
 * (fulfilment details, targets, observation facts). Those texts are written to the
 * tamper-evident log, which can never be redacted, so anything that looks like a
 * credential is refused before it is stored. The check errs towards refusing: a
 * client that is refused can rephrase, a secret that is logged cannot be recalled.
 */

/** The names {@link looksLikeSecret} reports, in the order the detectors run. */
export const SECRET_PATTERN_NAMES = [
  'pem_private_key',
  'aws_access_key_id',
  'github_token',
  'slack_token',
  'countersign_api_token',
  'jwt',
  'credential_assignment',
  'aws_secret_access_key',
  'high_entropy',
] as const;
export type SecretPatternName = (typeof SECRET_PATTERN_NAMES)[number];

/** The code {@link assertNoSecretMaterial} throws. */
export type SecretMaterialErrorCode = 'SECRET_MATERIAL_REJECTED';

/** `sha256:` and 64 lowercase hex digits: the only accepted fingerprint form. */
export const FINGERPRINT_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function isFingerprint(value: unknown): value is string {
  return typeof value === 'string' && FINGERPRINT_PATTERN.test(value);
}

type Detector = readonly [Exclude<SecretPatternName, 'high_entropy'>, RegExp];

// Every expression is linear: no nested quantifiers, bounded look-arounds only.
const DETECTORS: readonly Detector[] = [
  ['pem_private_key', /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----/],
  ['aws_access_key_id', /(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])/],
  ['github_token', /(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/],
  ['slack_token', /(?<![A-Za-z0-9])xox[baprs]-[A-Za-z0-9-]{10,}/],
  ['countersign_api_token', /(?<![A-Za-z0-9_-])cs_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/],
  ['jwt', /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\./],
  [
    'credential_assignment',
    /(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key)\s*=\s*[^\s&;,'"]/i,
  ],
];

// 40 characters of standard base64 with no neighbours: the shape of an AWS secret
// access key. Mixed case and a digit are required so that 40-hex Git commit ids pass.
const AWS_SECRET = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

// Spans that are long and random-looking by design and never secrets.
const EXEMPT = [
  /sha(?:1|224|256|384|512):[0-9a-f]{32,128}/g,
  // Git commit ids, when named as such: `commit 3f2a…`, `commit:3f2a…`, `git:3f2a…`.
  /(?:commit[: ]|git:)[0-9a-f]{40}(?![0-9a-f])/gi,
  /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g,
  /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?/g,
];

/** Runs of base64 / base64url / hex characters long enough to carry a key. */
const CANDIDATE = /[A-Za-z0-9+=_-]{32,}/g;
const HEX_ONLY = /^[0-9a-fA-F]+$/;

/**
 * Bits of Shannon entropy per character a candidate run must reach. Calibrated on
 * samples of 20,000 each: 32 random base64 characters score 4.2 at the 1st percentile
 * (43 characters: 4.55), random hex 3.3. With the class-switch test below, 97% of
 * 32-character and 99.6% of 43-character random base64url runs and all random hex
 * runs were flagged; no `sha256:` digest, UUID, timestamp, sentence, or kebab-,
 * snake- or camel-case identifier was. Digests, UUIDs and timestamps are removed
 * before scoring, so only their shapes matter.
 */
export const BASE64_ENTROPY_THRESHOLD = 4.2;
export const HEX_ENTROPY_THRESHOLD = 3.0;

/**
 * Words score as high as keys on entropy alone (`PaymentsRegionDeployCluster42`
 * reaches 4.3), so a run must also switch character class (upper, lower, digit,
 * other) often: random base64 switches at 0.5 or more of its positions (5th
 * percentile), camel-case and kebab-case identifiers at about 0.3.
 */
export const CLASS_SWITCH_THRESHOLD = 0.5;

/** Shannon entropy of `text` in bits per character (0 for the empty string). */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const hasClasses = (s: string): { upper: boolean; lower: boolean; digit: boolean } => ({
  upper: /[A-Z]/.test(s),
  lower: /[a-z]/.test(s),
  digit: /[0-9]/.test(s),
});

const classOf = (code: number): number =>
  code >= 65 && code <= 90 ? 0 : code >= 97 && code <= 122 ? 1 : code >= 48 && code <= 57 ? 2 : 3;

/** The share of positions where the character class differs from the previous one. */
function classSwitchRate(token: string): number {
  let switches = 0;
  for (let i = 1; i < token.length; i++) {
    if (classOf(token.charCodeAt(i)) !== classOf(token.charCodeAt(i - 1))) switches++;
  }
  return switches / token.length;
}

/**
 * True when `token` reads as random rather than as words: a high class-switch rate
 * with high entropy, or (for longer keys, whose entropy climbs further) a slightly
 * lower switch rate with clearly higher entropy. Single-case runs must score higher.
 */
function looksRandom(token: string, mixedCase: boolean): boolean {
  const h = shannonEntropy(token);
  const sw = classSwitchRate(token);
  const bonus = mixedCase ? 0 : 0.1;
  return (
    (sw >= CLASS_SWITCH_THRESHOLD - bonus / 2 && h >= BASE64_ENTROPY_THRESHOLD + bonus) ||
    (sw >= CLASS_SWITCH_THRESHOLD - 0.1 && h >= BASE64_ENTROPY_THRESHOLD + 0.3 + bonus)
  );
}

function isHighEntropyRun(run: string): boolean {
  const token = run.replace(/=+$/, '');
  if (token.length < 32) return false;
  if (HEX_ONLY.test(token)) return shannonEntropy(token) >= HEX_ENTROPY_THRESHOLD;
  const c = hasClasses(token);
  if (!c.digit || !(c.upper || c.lower)) return false;
  if (c.upper && c.lower) return looksRandom(token, true);
  // Single-case runs joined by - or _ are names (`payments-api-7d4b9c8f6-x2k9z`):
  // judge each piece on its own; random base64url is never single-case.
  return token.split(/[-_]/).some((piece) => piece.length >= 32 && looksRandom(piece, false));
}

/**
 * Returns the name of the first secret pattern found in `text`, or null.
 *
 * Named detectors cover PEM private keys, AWS key ids and secret keys, GitHub and
 * Slack tokens, JWTs, `password=`-style assignments and countersign API tokens.
 * The generic detector flags runs of 32+ base64 or hex characters whose entropy is
 * high; `sha256:<hex>` digests, Git commit ids written `commit <sha>` or `git:<sha>`,
 * UUIDs and RFC 3339 timestamps are exempt, but any other run of 32+ hex characters
 * is treated as a possible hex-encoded key.
 *
 * @example
 * looksLikeSecret('rotated; new key AKIAABCDEFGHIJKLMNOP'); // 'aws_access_key_id'
 * looksLikeSecret(`version sha256:${'ab'.repeat(32)}`);    // null
 */
export function looksLikeSecret(
  text: string,
  o: { readonly highEntropy?: boolean } = {},
): SecretPatternName | null {
  for (const [name, re] of DETECTORS) if (re.test(text)) return name;
  for (const m of text.matchAll(AWS_SECRET)) {
    const c = hasClasses(m[0]);
    if (c.upper && c.lower && c.digit && looksRandom(m[0], true)) return 'aws_secret_access_key';
  }
  if (o.highEntropy === false) return null;
  let rest = text;
  for (const re of EXEMPT) rest = rest.replace(re, ' ');
  for (const m of rest.matchAll(CANDIDATE)) if (isHighEntropyRun(m[0])) return 'high_entropy';
  return null;
}

const MAX_DEPTH = 16;

function reject(field: string, pattern: string): CountersignError<SecretMaterialErrorCode> {
  // The message names the field and the pattern, never the value.
  return new CountersignError(
    'SECRET_MATERIAL_REJECTED',
    `${field} looks like secret material (${pattern}); secrets must never be reported`,
    { details: { field, pattern } },
  );
}

/**
 * Walks every string in `fields` (nested objects and arrays too) and throws
 * `SECRET_MATERIAL_REJECTED` naming the field path and the detected pattern. The
 * value itself is never echoed. Properties named in `fingerprintFields` (default
 * `fingerprint`) are exempt from the scan but must be a strict `sha256:` digest,
 * since a secret pasted where a digest belongs is the likeliest leak of all.
 *
 * @example
 * assertNoSecretMaterial({ detail: 'done', fingerprint: `sha256:${'0'.repeat(64)}` });
 */
export function assertNoSecretMaterial(
  fields: Readonly<Record<string, unknown>>,
  options: { readonly fingerprintFields?: readonly string[] } = {},
): void {
  const fingerprintFields = new Set(options.fingerprintFields ?? ['fingerprint']);
  const walk = (value: unknown, path: string, key: string, depth: number): void => {
    if (typeof value === 'string') {
      if (fingerprintFields.has(key)) {
        if (!isFingerprint(value))
          throw reject(path, looksLikeSecret(value) ?? 'non_digest_fingerprint');
        return;
      }
      const found = looksLikeSecret(value);
      if (found !== null) throw reject(path, found);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (depth >= MAX_DEPTH) throw reject(path, 'nesting_too_deep');
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`, key, depth + 1));
      return;
    }
    for (const [k, v] of Object.entries(value))
      walk(v, path === '' ? k : `${path}.${k}`, k, depth + 1);
  };
  walk(fields, '', '', 0);
}

/**
 * What a person writes into a log event (a reason, a ticket reference) is screened for
 * credentials: the log can never be redacted, so text with a private key, a cloud, VCS,
 * chat or countersign token, a JWT or a `password=` assignment is refused with
 * `SECRET_MATERIAL_REJECTED` before anything is stored. Unlike a fulfilment's detail, a
 * random-looking run alone is not refused: a reason cites finding, receipt and key ids.
 * Absent fields are skipped.
 */
export function screenFreeText(fields: Readonly<Record<string, string | null | undefined>>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const found = looksLikeSecret(value, { highEntropy: false });
    if (found !== null) throw reject(field, found);
  }
}
