import { InvalidArgumentError } from 'commander';

/**
 * A whole number from `min` to `max` written as digits alone, or undefined. Stricter than
 * `parseInt`, which reads `3x` as 3 and `2.9` as 2, and than `Number`, which takes `1e3`,
 * `0x10`, ` 7 ` and `` (as 0): a count or a port the user mistyped must not become
 * another one.
 */
export function wholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max && Number.isSafeInteger(n) ? n : undefined;
}

/** A commander option parser for {@link wholeNumber}: anything else is a usage error (exit 2). */
export const wholeNumberArg =
  (min: number, max: number, hint: string) =>
  (text: string): number => {
    const n = wholeNumber(text, min, max);
    if (n === undefined) throw new InvalidArgumentError(hint);
    return n;
  };
