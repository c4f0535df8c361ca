import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Scope } from '../../src/core/scope.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { governingRule, matchRule, selectRule, type MatchInput } from '../../src/policy/match.js';
import { expectCode } from '../helpers/expect-code.js';

describe('matchRule', () => {
  const policy = parsePolicyText(
    `version: 1
environments: [prod, staging, dev]
rules:
  - name: prod-db-grant
    match: { environments: [prod], nhiKinds: [service_account], actions: [grant], resources: ['db/*', 'kv/app/*'] }
    approvals: { required: 2, groups: [dba] }
    maxDuration: 1h
    maxUses: 1
  - name: prod
    match: { environments: [prod] }
    approvals: { required: 2, groups: [sre] }
    maxDuration: 1h
    maxUses: 1
  - name: agents
    match: { nhiKinds: [ai_agent], actions: [retrieve_secret, rotate] }
    approvals: { required: 1, groups: [sre] }
    maxDuration: 1h
    maxUses: 1
  - name: catch-all
    approvals: { required: 1, groups: [sre] }
    maxDuration: 1h
    maxUses: 1
`,
    'yaml',
  );
  const dbScope: Scope = [{ resource: 'db/orders', permissions: ['read'] }];
  const input = (over: Partial<MatchInput> = {}): MatchInput => ({
    environment: 'prod',
    nhiKind: 'service_account',
    action: 'grant',
    scope: dbScope,
    ...over,
  });
  const pick = (over: Partial<MatchInput>): string | undefined =>
    matchRule(policy, input(over))?.name;

  describe('when several rules match', () => {
    it('picks the first in file order', () => {
      expect(pick({})).toBe('prod-db-grant');
      const reversed = { ...policy, rules: [...policy.rules].reverse() };
      expect(matchRule(reversed, input())?.name).toBe('catch-all');
    });
  });

  describe('when one criterion of the first rule fails', () => {
    it.each<[string, Partial<MatchInput>, string]>([
      ['the environment', { environment: 'staging' }, 'catch-all'],
      ['the NHI kind', { nhiKind: 'pipeline' }, 'prod'],
      ['the action', { action: 'rotate' }, 'prod'],
      [
        'a resource with fewer segments',
        { scope: [{ resource: 'db', permissions: ['read'] }] },
        'prod',
      ],
    ])('falls through on %s', (_, over, expected) => {
      expect(pick(over)).toBe(expected);
    });
  });

  describe('when the scope reaches a rule that does not contain all of it', () => {
    it.each<[string, Scope, RegExp]>([
      [
        'a resource under one rule bundled with one under another',
        [...dbScope, { resource: 'kv/other/x', permissions: ['read'] }],
        /rules prod-db-grant and prod/,
      ],
      [
        'a wider pattern than the rule that governs part of it',
        [{ resource: '*/orders', permissions: ['read'] }],
        /\*\/orders reaches beyond rule prod-db-grant/,
      ],
    ])('finds no rule for %s, saying why', (_, scope, why) => {
      const m = governingRule(policy, input({ scope }));
      expect(m.kind).toBe('spans');
      expect(m.kind === 'spans' && m.message).toMatch(why);
      expect(matchRule(policy, input({ scope }))).toBeNull();
    });
  });

  describe('when a strict rule for one table comes before a broad one', () => {
    const tiers = parsePolicyText(
      `version: 1
environments: [prod]
rules:
  - name: payments-strict
    match: { resources: ['db/payments'] }
    approvals: { required: 3, groups: [sre] }
    maxDuration: 15m
    maxUses: 1
  - name: db-lax
    match: { resources: ['db/*'] }
    approvals: { required: 1, groups: [sre] }
    maxDuration: 8h
    maxUses: 10
`,
      'yaml',
    );
    const ask = (...resources: string[]) =>
      input({ scope: resources.map((resource) => ({ resource, permissions: ['write'] })) });

    it('governs that table by the strict rule and the others by the broad one', () => {
      expect(selectRule(tiers, ask('db/payments')).name).toBe('payments-strict');
      expect(selectRule(tiers, ask('db/scratch', 'db/orders')).name).toBe('db-lax');
    });

    it('refuses a wildcard or a bundle that would put the table under the broad rule', () => {
      for (const scope of [ask('db/*'), ask('db/payments', 'db/scratch')]) {
        expectCode(() => selectRule(tiers, scope), 'SCOPE_SPANS_RULES');
      }
    });

    it('never gives a scope another rule than each of its entries gets alone', () => {
      const segment = fc.constantFrom('db', 'kv', 'payments', 'orders', 'scratch', '*');
      const resource = fc
        .array(segment, { minLength: 1, maxLength: 3 })
        .map((segs) => segs.join('/'));
      fc.assert(
        fc.property(fc.array(resource, { minLength: 1, maxLength: 4 }), (resources) => {
          const whole = governingRule(tiers, ask(...resources));
          if (whole.kind !== 'rule') return;
          for (const r of resources) {
            const alone = governingRule(tiers, ask(r));
            expect(alone.kind === 'rule' && alone.rule.name).toBe(whole.rule.name);
          }
        }),
      );
    });
  });

  describe('when every scope entry lies within some pattern', () => {
    it('matches, including a wildcard entry within a wildcard pattern', () => {
      const scope: Scope = [
        { resource: 'db/orders', permissions: ['read'] },
        { resource: 'kv/app/token', permissions: ['read'] },
        { resource: 'db/*', permissions: ['read'] },
      ];
      expect(pick({ scope })).toBe('prod-db-grant');
    });
  });

  describe('when the NHI kind and action lists restrict a later rule', () => {
    it('respects both lists', () => {
      expect(pick({ environment: 'dev', nhiKind: 'ai_agent', action: 'rotate' })).toBe('agents');
      expect(pick({ environment: 'dev', nhiKind: 'ai_agent', action: 'grant' })).toBe('catch-all');
      expect(pick({ environment: 'dev', nhiKind: 'workload', action: 'rotate' })).toBe('catch-all');
    });
  });

  describe('when no rule matches', () => {
    it('returns null', () => {
      const strict = { ...policy, rules: policy.rules.slice(0, 3) };
      expect(matchRule(strict, input({ environment: 'dev' }))).toBeNull();
    });
  });
});
