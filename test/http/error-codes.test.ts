import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorRows, MEANING } from '../../src/http/error-codes.js';
import { STATUS } from '../../src/http/problem.js';
import { REDEMPTION_DENIAL_CODES } from '../../src/redemption/redemption.js';

/** The cells of every row of the README's generated error table. */
function readmeRows(): string[][] {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split('<!-- error-codes:start')[1]?.split('<!-- error-codes:end')[0];
  expect(section, 'README.md has no error-codes section').toBeDefined();
  const rows = section!
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) =>
      l
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replaceAll('\\|', '|')),
    );
  expect(rows[0]).toEqual(['code', 'status', 'meaning']);
  return rows.slice(2);
}

describe('MEANING', () => {
  describe('when read beside STATUS', () => {
    it('gives every code one line, and no code STATUS does not map', () => {
      expect(Object.keys(MEANING).sort()).toEqual(Object.keys(STATUS).sort());
      for (const [code, meaning] of Object.entries(MEANING)) {
        expect(meaning.trim(), code).not.toBe('');
        expect(meaning, code).not.toMatch(/\n/);
      }
    });
  });
});

describe('the README error table', () => {
  it('is errorRows(), row for row: every code, its status and its meaning (npm run docs)', () => {
    expect(readmeRows()).toEqual(
      errorRows().map((r) => [`\`${r.code}\``, String(r.status), r.meaning]),
    );
  });

  it('lists the codes the issue found missing, and every redemption denial', () => {
    const codes = readmeRows().map((r) => r[0]!.replaceAll('`', ''));
    for (const code of ['LOG_RANGE_INVALID', 'RECEIPT_NOT_YOURS', 'TARGET_NOT_APPROVED'])
      expect(codes).toContain(code);
    for (const code of REDEMPTION_DENIAL_CODES) expect(codes).toContain(code);
  });
});
