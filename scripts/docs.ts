/**
 * `npm run docs`: writes the generated sections of README.md from the code, then lets
 * Prettier align them, so `prettier --check` and the README tests agree with the result.
 *
 * - the error table, between `<!-- error-codes:start` and `<!-- error-codes:end -->`,
 *   from `src/http/error-codes.ts`;
 * - the role table, between `<!-- role-matrix:start` and `<!-- role-matrix:end -->`,
 *   from `ROUTE_ROLES` in `src/http/authz.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { roleTableMarkdown } from '../src/http/authz.js';
import { errorTableMarkdown } from '../src/http/error-codes.js';

/** `text` with the lines between the `name` section's start marker line and its end marker replaced. */
function replaceSection(text: string, name: string, body: string): string {
  const START = `<!-- ${name}:start`;
  const END = `<!-- ${name}:end -->`;
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md: no ${START} … ${END} section`);
  const afterStart = text.indexOf('\n', from) + 1;
  return `${text.slice(0, afterStart)}\n${body}\n\n${text.slice(to)}`;
}

const file = resolve('README.md');
const before = readFileSync(file, 'utf8');
const options = { ...(await resolveConfig(file)), filepath: file };
const generated = replaceSection(
  replaceSection(before, 'error-codes', errorTableMarkdown()),
  'role-matrix',
  roleTableMarkdown(),
);
const after = await format(generated, options);
if (after === before) {
  console.log('README.md: generated sections are up to date');
} else {
  writeFileSync(file, after);
  console.log('README.md: generated sections rewritten');
}
