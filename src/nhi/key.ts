/**
 * The comparison key of an NHI id: two ids with one key name the same identity, so the
 * second is refused at registration and a lookup by either finds the registered one.
 *
 * Steps: Unicode NFC; confusables mapped on the original case; case folding; the
 * confusables mapped again, because folding turns `M`, `D` or `W` into letters that
 * have prototypes of their own. Every output character is a fixed point of all steps,
 * so the key of a key is itself.
 */

/**
 * Each character and the prototype it is compared as. The direction follows Unicode
 * TR39 (https://www.unicode.org/reports/tr39/#Confusable_Detection, confusables.txt):
 * one source code point to its prototype string, so `rn` and `m` meet at `rn`.
 *
 * From confusables.txt: `0 → O`, `1 → l`, `I → l`, `| → l`, `m → rn`.
 * Not in confusables.txt, added as the classic look-alikes of typo-squatting: `w → vv`,
 * `d → cl`. And `i → l`, which no table lists: `I` is confusable with `l` and is `i`
 * once case is folded, so without it `svc:BIG` and `svc:big` would not meet.
 */
const PROTOTYPES: ReadonlyMap<string, string> = new Map([
  ['0', 'O'],
  ['1', 'l'],
  ['I', 'l'],
  ['|', 'l'],
  ['i', 'l'],
  ['m', 'rn'],
  ['w', 'vv'],
  ['d', 'cl'],
]);

function prototypes(text: string): string {
  let out = '';
  for (const ch of text) out += PROTOTYPES.get(ch) ?? ch;
  return out;
}

/**
 * Full case folding as far as JavaScript offers it. Through upper case, `ß` becomes
 * `ss` as Unicode's CaseFolding.txt has it; lower case first, so that the capital `ẞ`
 * (whose upper case is itself) takes the same path. NFC again, because case mapping
 * can leave a string unnormalised. For the ASCII id grammar of today this is
 * `toLowerCase`.
 */
function caseFold(text: string): string {
  return text.toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}

/** The comparison key of an NHI id (see the module comment). */
export function nhiKey(id: string): string {
  return prototypes(caseFold(prototypes(id.normalize('NFC'))));
}
