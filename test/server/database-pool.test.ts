import { describe, expect, it } from 'vitest';
import { databasePool } from '../../src/server/config.js';
import { expectCode } from '../helpers/expect-code.js';

describe('databasePool', () => {
  it('is 16 connections when nothing names it', () => {
    expect(databasePool({}, {})).toBe(16);
  });

  it('takes COUNTERSIGN_DATABASE_POOL over the config file', () => {
    expect(databasePool({}, { databasePool: 4 })).toBe(4);
    expect(databasePool({ COUNTERSIGN_DATABASE_POOL: '32' }, { databasePool: 4 })).toBe(32);
  });

  it.each(['', 'many', '0', '-2', '1001', '8.5', '1e2'])(
    'refuses COUNTERSIGN_DATABASE_POOL=%j with CONFIG_INVALID',
    (value) => {
      expectCode(() => databasePool({ COUNTERSIGN_DATABASE_POOL: value }, {}), 'CONFIG_INVALID');
    },
  );
});
