import type { Dialect } from '../../service/ports/store.js';

/** The column types that differ between dialects; everything else is portable. */
export function columnTypes(dialect: Dialect): {
  serial: 'integer' | 'bigserial';
  bigint: 'integer' | 'bigint';
} {
  return dialect === 'sqlite'
    ? { serial: 'integer', bigint: 'integer' }
    : { serial: 'bigserial', bigint: 'bigint' };
}
