/**
 * Untrusted text made safe to show on a terminal. Control characters (C0, DEL, C1 such
 * as U+009B, which some terminals take as CSI), format characters (the bidi controls of
 * CVE-2021-42574 "Trojan Source", zero-width spaces and joiners, the BOM) and the line and
 * paragraph separators U+2028/U+2029 would make what is shown differ from what is there.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'gu');

/** Whether `text` holds a character {@link escapeUnprintable} would escape. */
export const hasUnprintable = (text: string): boolean => UNPRINTABLE.test(text);

/**
 * Each such character as `\uXXXX`, a UTF-16 unit at a time (so an astral one, such as a
 * tag character, is its surrogate pair): the JSON escape, valid inside a JSON string.
 */
export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE_ALL, (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) {
      out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    }
    return out;
  });
}

/** {@link escapeUnprintable}, with long values cut at `max` characters. */
export function printable(text: string, max = 200): string {
  const safe = escapeUnprintable(text);
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
