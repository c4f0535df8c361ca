import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/load.js';
import { declaresEnvironment } from '../../src/policy/match.js';
import { SAMPLE_POLICY } from '../../src/server/dev.js';
import { expectCode } from '../helpers/expect-code.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The sample policy as JSON, written by hand with a different key order. */
const SAMPLE_JSON = `{
  "rules": [
    { "name": "agent-tools", "match": { "actions": ["tool_call"] },
      "approvals": { "required": 2, "groups": ["sre"] }, "excludeOwner": true,
      "maxDuration": "8h", "maxUses": 100, "pendingExpiry": "1h" },
    { "name": "prod", "match": { "environments": ["prod"] },
      "approvals": { "groups": ["sre"], "required": 2 }, "excludeOwner": true,
      "requesterMayExecute": false, "maxLeadTime": "7d",
      "maxDuration": "8h", "maxUses": 10, "pendingExpiry": "24h" },
    { "maxUses": 10, "pendingExpiry": "24h", "maxDuration": "8h", "name": "non-prod",
      "approvals": { "required": 1, "groups": ["sre"] } }
  ],
  "environments": ["prod", "staging", "dev"],
  "version": 1
}`;

const edit = (from: string, to: string): string => {
  expect(SAMPLE_POLICY).toContain(from);
  return SAMPLE_POLICY.replace(from, to);
};

describe('parsePolicyText', () => {
  describe('when given the sample policy', () => {
    it('loads the declared environments, and three rules in file order with durations in milliseconds', () => {
      const policy = parsePolicyText(SAMPLE_POLICY, 'yaml');
      expect(policy.environments).toEqual(['prod', 'staging', 'dev']);
      expect(policy.rules).toEqual([
        {
          name: 'agent-tools',
          match: { environments: null, nhiKinds: null, actions: ['tool_call'], resources: null },
          approvals: { required: 2, groups: ['sre'] },
          excludeOwner: true,
          requesterMayExecute: true,
          maxDurationMs: 8 * HOUR,
          maxLeadTimeMs: 7 * DAY,
          maxUses: 100,
          pendingExpiryMs: HOUR,
        },
        {
          name: 'prod',
          match: { environments: ['prod'], nhiKinds: null, actions: null, resources: null },
          approvals: { required: 2, groups: ['sre'] },
          excludeOwner: true,
          requesterMayExecute: false,
          maxDurationMs: 8 * HOUR,
          maxLeadTimeMs: 7 * DAY,
          maxUses: 10,
          pendingExpiryMs: 24 * HOUR,
        },
        {
          name: 'non-prod',
          match: { environments: null, nhiKinds: null, actions: null, resources: null },
          approvals: { required: 1, groups: ['sre'] },
          excludeOwner: false,
          requesterMayExecute: true,
          maxDurationMs: 8 * HOUR,
          maxLeadTimeMs: 7 * DAY,
          maxUses: 10,
          pendingExpiryMs: 24 * HOUR,
        },
      ]);
    });

    it('loads the same rules and version from the equivalent JSON', () => {
      const yaml = parsePolicyText(SAMPLE_POLICY, 'yaml');
      const json = parsePolicyText(SAMPLE_JSON, 'json');
      expect(json.rules).toEqual(yaml.rules);
      expect(json.environments).toEqual(yaml.environments);
      expect(json.version).toBe(yaml.version);
    });

    it('defaults pendingExpiry to 24h, maxLeadTime to 7d, excludeOwner to false and requesterMayExecute to true', () => {
      const policy = parsePolicyText(
        'version: 1\nenvironments: [e]\nrules:\n  - name: a\n' +
          '    approvals: {required: 1, groups: [g]}\n    maxDuration: 1h30m\n    maxUses: 1\n',
        'yaml',
      );
      expect(policy.rules[0]).toMatchObject({
        excludeOwner: false,
        requesterMayExecute: true,
        maxDurationMs: 1.5 * HOUR,
        maxLeadTimeMs: 7 * DAY,
        pendingExpiryMs: 24 * HOUR,
      });
    });
  });

  describe('when the policy is invalid', () => {
    const ENV = 'environments: [prod]';
    it.each([
      [
        'approvals is missing',
        '    approvals:\n      required: 2\n      groups: [sre]\n',
        '',
        '/rules/0/approvals',
      ],
      ['required is 0', 'required: 2', 'required: 0', '/rules/0/approvals/required'],
      ['required is 17', 'required: 1', 'required: 17', '/rules/2/approvals/required'],
      ['groups is empty', 'groups: [sre]', 'groups: []', '/rules/0/approvals/groups'],
      [
        'a rule has an unknown field',
        'maxUses: 10',
        'maxUses: 10\n    colour: red',
        '/rules/0/colour',
      ],
      ['the file has an unknown field', 'version: 1', 'version: 1\ncolour: red', '/colour'],
      ['match has an unknown field', ENV, 'environment: [prod]', '/rules/1/match/environment'],
      ['maxDuration has a bad unit', 'maxDuration: 8h', 'maxDuration: 8x', '/rules/0/maxDuration'],
      ['maxDuration is a number', 'maxDuration: 8h', 'maxDuration: 8', '/rules/0/maxDuration'],
      [
        'pendingExpiry is a word',
        'pendingExpiry: 24h',
        'pendingExpiry: soon',
        '/rules/1/pendingExpiry',
      ],
      ['the version is 2', 'version: 1', 'version: 2', '/version'],
      ['environments is missing', 'environments: [prod, staging, dev]\n', '', '/environments'],
      ['environments is empty', '[prod, staging, dev]', '[]', '/environments'],
      ['an environment repeats', '[prod, staging, dev]', '[prod, staging, prod]', '/environments'],
      ['an environment has a space', '[prod, staging, dev]', '[prod, "st ag"]', '/environments/1'],
      [
        'a rule names an undeclared environment',
        'environments: [prod]\n',
        'environments: [PROD]\n',
        '/rules/1/match/environments/0',
      ],
      ['maxLeadTime has a bad unit', 'maxLeadTime: 7d', 'maxLeadTime: 7w', '/rules/1/maxLeadTime'],
      ['maxLeadTime is 0s', 'maxLeadTime: 7d', 'maxLeadTime: 0s', '/rules/1/maxLeadTime'],
      [
        'requesterMayExecute is a word',
        'requesterMayExecute: false',
        'requesterMayExecute: never',
        '/rules/1/requesterMayExecute',
      ],
      ['an NHI kind is unknown', ENV, 'nhiKinds: [robot]', '/rules/1/match/nhiKinds/0'],
      ['a rule name repeats', 'name: non-prod', 'name: prod', '/rules/2/name'],
      ['a group repeats', 'groups: [sre]', 'groups: [sre, sre]', '/rules/0/approvals/groups'],
      ['a pattern has ".."', ENV, 'resources: [db/../x]', '/rules/1/match/resources/0'],
      [
        'a pattern has an empty segment',
        ENV,
        'resources: [db/x, "db//x"]',
        '/rules/1/match/resources/1',
      ],
      ['a pattern is non-ASCII', ENV, 'resources: [db/\u043erders]', '/rules/1/match/resources/0'],
    ])('refuses it when %s with POLICY_INVALID naming the path', (_, from, to, path) => {
      const text = edit(from, to);
      const err = expectCode(() => parsePolicyText(text, 'yaml'), 'POLICY_INVALID');
      expect(err.message).toContain(`${path}:`);
    });

    it('refuses a duplicate YAML key with POLICY_INVALID naming the line', () => {
      const text = edit('maxUses: 10', 'maxUses: 10\n    maxUses: 1000');
      const err = expectCode(() => parsePolicyText(text, 'yaml'), 'POLICY_INVALID');
      expect(err.message).toContain('DUPLICATE_KEY');
      expect(err.message).toMatch(/line 1[0-9]/);
    });

    it.each([
      ['a duplicate key', SAMPLE_JSON.replace('"maxUses": 10,', '"maxUses": 10, "maxUses": 99,')],
      ['trailing data', `${SAMPLE_JSON} {}`],
      ['a non-finite number', SAMPLE_JSON.replace('"maxUses": 10,', '"maxUses": 1e400,')],
    ])('refuses JSON with %s with POLICY_INVALID', (_, text) => {
      expect(text).not.toBe(SAMPLE_JSON);
      expectCode(() => parsePolicyText(text, 'json'), 'POLICY_INVALID');
    });

    it('refuses an empty document with POLICY_INVALID', () => {
      expectCode(() => parsePolicyText('', 'yaml'), 'POLICY_INVALID');
      expectCode(() => parsePolicyText('version: 1\nrules: []\n', 'yaml'), 'POLICY_INVALID');
    });

    // Durations that match the schema's pattern but are not positive safe integers of
    // milliseconds escape compilePolicy as VALIDATION_FAILED with no path (load.ts:109-111).
    it.each([
      ['maxDuration is 0s', edit('maxDuration: 8h', 'maxDuration: 0s'), '/rules/0/maxDuration'],
      [
        'pendingExpiry is 0m',
        edit('pendingExpiry: 24h', 'pendingExpiry: 0m'),
        '/rules/1/pendingExpiry',
      ],
      [
        'maxDuration overflows',
        edit('maxDuration: 8h', 'maxDuration: 99999999999999999d'),
        '/rules/0/maxDuration',
      ],
    ])('refuses it when %s with POLICY_INVALID naming the path', (_, text, path) => {
      const err = expectCode(() => parsePolicyText(text, 'yaml'), 'POLICY_INVALID');
      expect(err.message).toContain(path);
    });
  });

  describe('when computing the version', () => {
    it('is a sha256 digest that is stable across reloads', () => {
      const a = parsePolicyText(SAMPLE_POLICY, 'yaml').version;
      expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(parsePolicyText(SAMPLE_POLICY, 'yaml').version).toBe(a);
      expect(parsePolicyText(SAMPLE_POLICY, 'yaml').version).toBe(a);
    });

    it('changes with every edit to the policy content, each edit to a distinct version', () => {
      const edits = [
        SAMPLE_POLICY,
        edit('required: 2', 'required: 3'),
        edit('groups: [sre]', 'groups: [sre, dba]'),
        edit('excludeOwner: true', 'excludeOwner: false'),
        edit('maxDuration: 8h', 'maxDuration: 7h'),
        edit('maxDuration: 8h', 'maxDuration: 480m'),
        edit('maxUses: 10', 'maxUses: 11'),
        edit('pendingExpiry: 24h', 'pendingExpiry: 23h'),
        edit('environments: [prod]', 'environments: [prod, dev]'),
        edit('name: non-prod', 'name: nonprod'),
        edit('    excludeOwner: true\n', ''),
        edit('pendingExpiry: 24h', 'pendingExpiry: 1d'),
        edit('[prod, staging, dev]', '[prod, staging]'),
        edit('maxLeadTime: 7d', 'maxLeadTime: 6d'),
        edit('requesterMayExecute: false', 'requesterMayExecute: true'),
      ];
      const versions = edits.map((t) => parsePolicyText(t, 'yaml').version);
      expect(new Set(versions).size).toBe(edits.length);
    });
  });
});

describe('declaresEnvironment', () => {
  const policy = parsePolicyText(SAMPLE_POLICY, 'yaml');

  describe('when the name is declared exactly', () => {
    it.each(['prod', 'staging', 'dev'])('declares %s', (env) => {
      expect(declaresEnvironment(policy, env)).toBe(true);
    });
  });

  describe('when the name differs from a declared one by case, punctuation or space', () => {
    it.each(['PROD', 'Prod', 'prod.', 'prod ', 'pr0d', 'Staging', ''])(
      'does not declare %j',
      (env) => {
        expect(declaresEnvironment(policy, env)).toBe(false);
      },
    );
  });
});
