import { describe, expect, it } from 'vitest';
import { diffBodies } from '../../console/src/lib/diff.js';
import { GRANTS } from '../../console/src/lib/roles.js';
import { ageText, riskLabel, sortRisk } from '../../console/src/lib/risk.js';
import { ROUTE_ROLES } from '../../src/http/authz.js';

const base = {
  v: 1,
  subject: 'svc/payments',
  scope: [
    { resource: 'db/orders', permissions: ['read'] },
    { resource: 'db/users', permissions: ['read'] },
  ],
  environment: 'staging',
  maxUses: 1,
  nonce: 'n1',
  createdAt: '2026-01-01T00:00:00Z',
};

describe('diff against the previous approved request', () => {
  it('lists changed, added and removed fields, ignoring per-request noise', () => {
    const next = {
      ...base,
      nonce: 'n2',
      createdAt: '2026-02-01T00:00:00Z',
      environment: 'prod',
      maxUses: 5,
      ticket: 'OPS-1',
      scope: [
        { resource: 'db/users', permissions: ['read'] },
        { resource: 'db/orders', permissions: ['read', 'write'] },
      ],
    };
    expect(diffBodies(base, next)).toEqual([
      { path: 'environment', kind: 'changed', before: 'staging', after: 'prod' },
      { path: 'maxUses', kind: 'changed', before: 1, after: 5 },
      { path: 'scope["db/orders"].permissions[1]', kind: 'added', after: 'write' },
      { path: 'ticket', kind: 'added', after: 'OPS-1' },
    ]);
  });

  it('finds no change between equal bodies', () => {
    expect(diffBodies(base, structuredClone(base))).toEqual([]);
  });
});

describe('risk labels', () => {
  it('names known codes, keeps unknown ones, puts production first', () => {
    expect(riskLabel('PRODUCTION')).toBe('Production');
    expect(riskLabel('SOMETHING_NEW')).toBe('SOMETHING_NEW');
    expect(
      sortRisk([{ code: 'X' }, { code: 'WILDCARD_SCOPE' }, { code: 'PRODUCTION' }]).map(
        (f) => f.code,
      ),
    ).toEqual(['PRODUCTION', 'WILDCARD_SCOPE', 'X']);
    expect(ageText(90_000)).toBe('1 min');
    expect(ageText(3 * 86_400_000 + 3_600_000)).toBe('3 d 1 h');
  });
});

describe('the console role grants', () => {
  it('equal the server role matrix row for row', () => {
    for (const [route, roles] of Object.entries(GRANTS)) {
      expect(ROUTE_ROLES[route as keyof typeof ROUTE_ROLES]).toEqual(roles);
    }
  });
});
