/**
 * User strings rendered inert and legible: characters that reorder or hide text
 * (bidi overrides and isolates, zero-width characters, controls) become visible
 * markers such as `⟨U+202E⟩`, and very long strings are clamped. React escapes markup
 * itself; nothing here ever produces HTML.
 */

/**
 * Clamp strings longer than this; the reader may ask for all of it. Every free-text field
 * the API accepts fits in 2,000 characters, so a clamped string says at a glance that
 * something is long, while the page stays readable around it.
 */
export const CLAMP_AT = 1_000;
/** How much of a clamped string is shown. */
export const CLAMP_SHOW = 400;

/**
 * Characters shown as markers: C0 and C1 controls (except newline and tab), the bidi
 * embeddings, overrides, isolates and marks, zero-width characters, the BOM, line and
 * paragraph separators, and the interlinear annotation and object replacement characters.
 */
const HIDDEN =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u180E\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFEFF\uFFF9-\uFFFC]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');
const LONE_SURROGATE = /\p{Surrogate}/u;

export type Segment =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'marker'; readonly code: string; readonly label: string };

const NAMES: Readonly<Record<number, string>> = {
  0x200e: 'LRM',
  0x200f: 'RLM',
  0x061c: 'ALM',
  0x202a: 'LRE',
  0x202b: 'RLE',
  0x202c: 'PDF',
  0x202d: 'LRO',
  0x202e: 'RLO',
  0x2066: 'LRI',
  0x2067: 'RLI',
  0x2068: 'FSI',
  0x2069: 'PDI',
  0x200b: 'ZWSP',
  0x200c: 'ZWNJ',
  0x200d: 'ZWJ',
  0xfeff: 'BOM',
};

function codeOf(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Whether a string holds a character {@link segments} would mark. */
export function hasHidden(text: string): boolean {
  return HIDDEN.test(text) || LONE_SURROGATE.test(text);
}

/**
 * Splits a string into plain text and markers for the characters that would reorder,
 * hide or control the text around them. Lone surrogates are marked too.
 */
export function segments(text: string): Segment[] {
  const safe = text.isWellFormed() ? text : text.toWellFormed();
  const out: Segment[] = [];
  let last = 0;
  for (const m of safe.matchAll(HIDDEN_ALL)) {
    const at = m.index;
    if (at > last) out.push({ kind: 'text', text: safe.slice(last, at) });
    const code = codeOf(m[0]);
    const name = NAMES[m[0].codePointAt(0) ?? 0];
    out.push({ kind: 'marker', code, label: name === undefined ? code : `${name} ${code}` });
    last = at + m[0].length;
  }
  if (last < safe.length) out.push({ kind: 'text', text: safe.slice(last) });
  return out;
}

/** The string with every marked character written as `⟨U+XXXX⟩`: for titles and text-only places. */
export function visible(text: string): string {
  return segments(text)
    .map((s) => (s.kind === 'text' ? s.text : `⟨${s.code}⟩`))
    .join('');
}

export interface Clamped {
  readonly text: string;
  readonly clamped: boolean;
  readonly length: number;
}

/** The first {@link CLAMP_SHOW} code units of a string longer than {@link CLAMP_AT}. */
export function clamp(text: string, all = false): Clamped {
  if (all || text.length <= CLAMP_AT) return { text, clamped: false, length: text.length };
  let cut = CLAMP_SHOW;
  // Never split a surrogate pair.
  const c = text.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return { text: text.slice(0, cut), clamped: true, length: text.length };
}
