/**
 * Globs matched in time linear in the value for each piece of the pattern: a regular
 * expression built from a glob backtracks, and `*a*a*a*b` against 600 characters held
 * the event loop for seconds. The match walks the value once per piece, keeping every
 * position the pattern so far can end at.
 */

/** `*` within a `/` segment and `**` across them, or `*` across everything. */
export type StarRule = 'segments' | 'flat';

type Piece =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'run'; readonly crossesSlash: boolean };

export type CompiledGlob = readonly Piece[];

/** The pieces of `pattern`; every character but `*` is literal. */
export function compileGlob(pattern: string, stars: StarRule): CompiledGlob {
  const pieces: Piece[] = [];
  let text = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*') {
      text += pattern[i];
      continue;
    }
    if (text !== '') pieces.push({ kind: 'text', text });
    text = '';
    const double = stars === 'segments' && pattern[i + 1] === '*';
    if (double) i++;
    pieces.push({ kind: 'run', crossesSlash: stars === 'flat' || double });
  }
  if (text !== '') pieces.push({ kind: 'text', text });
  return pieces;
}

/** Whether `value` as a whole matches `glob`. */
export function matchGlob(glob: CompiledGlob, value: string): boolean {
  const n = value.length;
  // ends[i]: the pieces so far can match value[0, i).
  let ends = new Uint8Array(n + 1);
  ends[0] = 1;
  for (const piece of glob) {
    const next = new Uint8Array(n + 1);
    let any = false;
    if (piece.kind === 'text') {
      const last = n - piece.text.length;
      for (let i = 0; i <= last; i++) {
        if (ends[i] === 1 && value.startsWith(piece.text, i)) {
          next[i + piece.text.length] = 1;
          any = true;
        }
      }
    } else {
      // A run may start at any end reached so far and stops short of a `/` it may not cross.
      let open = false;
      for (let i = 0; i <= n; i++) {
        if (ends[i] === 1) open = true;
        if (open) {
          next[i] = 1;
          any = true;
        }
        if (!piece.crossesSlash && value[i] === '/') open = false;
      }
    }
    if (!any) return false;
    ends = next;
  }
  return ends[n] === 1;
}
