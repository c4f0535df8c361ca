import { it } from 'vitest';
import { parsePolicyText } from '../../src/policy/load.js';
import { SAMPLE_POLICY } from '../../src/server/dev.js';
const t = (s: string, f: 'yaml'|'json' = 'yaml') => { try { const p = parsePolicyText(s, f); console.log('OK', p.version, p.rules.length); } catch (e) { console.log((e as any).code, (e as Error).message); } };
it('scratch', () => {
  t(SAMPLE_POLICY);
  t(SAMPLE_POLICY.replace('    approvals:\n      required: 2\n      groups: [sre]\n', ''));
  t(SAMPLE_POLICY.replace('required: 2', 'required: 0'));
  t(SAMPLE_POLICY.replace('maxUses: 10', 'maxUses: 10\n    colour: red'));
  t(SAMPLE_POLICY.replace('version: 1', 'version: 1\ncolour: red'));
  t(SAMPLE_POLICY.replace('maxDuration: 8h', 'maxDuration: 8x'));
  t(SAMPLE_POLICY.replace('maxDuration: 8h', 'maxDuration: 0s'));
  t(SAMPLE_POLICY.replace('name: non-prod', 'name: prod'));
  t(SAMPLE_POLICY.replace('maxUses: 10', 'maxUses: 10\n    maxUses: 11'));
  t(SAMPLE_POLICY.replace('environments: [prod]', 'environments: [prod]\n      resources: [db/../x]'));
  t('{"version":1,"rules":[{"name":"a","approvals":{"required":1,"groups":["g"]},"maxDuration":"1h","maxUses":1,"maxUses":2}]}', 'json');
  t('{"version":1,"rules":[{"name":"a","approvals":{"required":1,"groups":["g"]},"maxDuration":"1h","maxUses":1}]}', 'json');
  t('version: 1\nrules:\n  - name: a\n    approvals: {required: 1, groups: [g]}\n    maxDuration: 1h\n    maxUses: 1\n');
});
