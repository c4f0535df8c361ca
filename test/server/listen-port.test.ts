import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT, listenPort } from '../../src/server/config.js';
import { expectCode } from '../helpers/expect-code.js';

describe('listenPort', () => {
  describe('when nothing names a port', () => {
    it('is the default, 8470', () => {
      expect(listenPort(undefined, {}, {})).toBe(DEFAULT_PORT);
      expect(DEFAULT_PORT).toBe(8470);
    });
  });

  describe('when several sources name one', () => {
    it('takes --port over COUNTERSIGN_PORT over the config file', () => {
      const env = { COUNTERSIGN_PORT: '9100' };
      expect(listenPort(undefined, {}, { port: 9000 })).toBe(9000);
      expect(listenPort(undefined, env, { port: 9000 })).toBe(9100);
      expect(listenPort(9200, env, { port: 9000 })).toBe(9200);
      expect(listenPort(0, env, {})).toBe(0);
    });

    it('ignores an empty COUNTERSIGN_PORT', () => {
      expect(listenPort(undefined, { COUNTERSIGN_PORT: '' }, { port: 9000 })).toBe(9000);
    });
  });

  describe('when COUNTERSIGN_PORT is not a port', () => {
    it.each(['http', '80x', '-1', '65536', '1e3', '8470.5', ' '])(
      'refuses %j with CONFIG_INVALID naming the variable',
      (value) => {
        const err = expectCode(
          () => listenPort(undefined, { COUNTERSIGN_PORT: value }, {}),
          'CONFIG_INVALID',
        );
        expect(err.message).toContain('COUNTERSIGN_PORT');
      },
    );
  });
});
