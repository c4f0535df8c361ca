import { describe, expect, it } from 'vitest';
import {
  isReservedVariable,
  reservedVariables,
  withoutCountersignVariables,
} from '../../src/core/child-env.js';

describe('withoutCountersignVariables', () => {
  describe("when the parent's environment holds countersign's credential", () => {
    it('passes everything on except countersign variables, in any case', () => {
      const env = withoutCountersignVariables({
        PATH: '/usr/bin',
        DATABASE_URL: 'postgres://db',
        COUNTERSIGN_TOKEN: 'cs_secret',
        countersign_addr: 'http://x',
        UNSET: undefined,
      });
      expect(env).toEqual({ PATH: '/usr/bin', DATABASE_URL: 'postgres://db' });
    });
  });
});

describe('isReservedVariable', () => {
  describe('when a name would let a credential choose what a command runs or loads', () => {
    it.each([
      'PATH',
      'HOME',
      'SHELL',
      'IFS',
      'ENV',
      'BASH_ENV',
      'BASH_FUNC_ls',
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'DYLD_INSERT_LIBRARIES',
      'NODE_OPTIONS',
      'NODE_PATH',
      'PYTHONPATH',
      'PYTHONSTARTUP',
      'PYTHONHOME',
      'PERL5LIB',
      'PERL5OPT',
      'RUBYOPT',
      'GIT_SSH_COMMAND',
      'GCONV_PATH',
      'XDG_CONFIG_HOME',
      'JAVA_TOOL_OPTIONS',
      'https_proxy',
      'COUNTERSIGN_TOKEN',
      'COUNTERSIGN_RECEIPT',
      'path',
      'ld_preload',
    ])('refuses %s', (name) => {
      expect(isReservedVariable(name)).toBe(true);
    });
  });

  describe('when a name is one a credential is made of', () => {
    it.each(['PGUSER', 'PGPASSWORD', 'PGHOST', 'TICKETS_TOKEN', 'AWS_ACCESS_KEY_ID', 'A'])(
      'allows %s',
      (name) => {
        expect(isReservedVariable(name)).toBe(false);
      },
    );
  });

  it('lists the refused names of a credential in their order', () => {
    expect(reservedVariables(['PGUSER', 'PATH', 'PGPASSWORD', 'LD_PRELOAD'])).toEqual([
      'PATH',
      'LD_PRELOAD',
    ]);
  });
});
