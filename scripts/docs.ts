/**
 * `npm run docs`: writes the generated sections of README.md from the code, then lets
 * Prettier align them, so `prettier --check` and the README tests agree with the result.
 *
 * - the error table, between `<!-- error-codes:start` and `<!-- error-codes:end -->`,
 *   from `src/http/error-codes.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { errorTableMarkdown } from '../src/http/error-codes.js';

const START = '<!-- error-codes:start';
const END = '<!-- error-codes:end -->';

/** `text` with the lines between the start marker's line and the end marker replaced. */
function replaceSection(text: string, body: string): string {
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md: no ${START} … ${END} section`);
  const afterStart = text.indexOf('\n', from) + 1;
  return `${text.slice(0, afterStart)}\n${body}\n\n${text.slice(to)}`;
}

const file = resolve('README.md');
const before = readFileSync(file, 'utf8');
const options = { ...(await resolveConfig(file)), filepath: file };
const after = await format(replaceSection(before, errorTableMarkdown()), options);
if (after === before) {
  console.log('README.md: generated sections are up to date');
} else {
  writeFileSync(file, after);
  console.log('README.md: generated sections rewritten');
}
