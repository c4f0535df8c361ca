import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { assertGrantRequest, driverError } from '../../src/connectors/connector.js';
import {
  parseGrantComment,
  grantComment,
  permissionFor,
  planGrant,
  postgresSettings,
  roleNameFor,
  type PostgresConnectorConfig,
} from '../../src/connectors/postgres-plan.js';
import { scramSha256Secret } from '../../src/connectors/scram.js';

const base: PostgresConnectorConfig = {
  name: 'appdb',
  url: 'postgres://broker:s%3Acret-pw@db.internal:6543/app',
  database: 'app',
};
const settings = postgresSettings(base);
const clock = new ManualClock('2026-01-01T00:00:00Z');
const req = (scope: { resource: string; permissions: string[] }[]) => ({
  grantId: 'g-1',
  subject: 'nhi:agent/a',
  scope,
  notAfter: new Date('2026-01-01T02:00:00Z'),
});

describe('postgresSettings', () => {
  it('takes the credential host and port from the URL unless set', () => {
    expect([settings.host, settings.port]).toEqual(['db.internal', 6543]);
    const set = postgresSettings({ ...base, host: 'pg.example', port: 5432 });
    expect([set.host, set.port]).toEqual(['pg.example', 5432]);
  });

  it('knows the URL password raw and decoded, so that errors can hide both', () => {
    expect(settings.secrets).toEqual(
      expect.arrayContaining([base.url, 's%3Acret-pw', 's:cret-pw']),
    );
  });

  describe('when the config is wrong', () => {
    it('refuses it with CONNECTOR_FAILED, never echoing the URL', () => {
      const wrong: PostgresConnectorConfig[] = [
        { ...base, url: 'not a url with s3cret' },
        { ...base, url: 'mysql://u:s3cret@h/app' },
        { ...base, name: 'app/db' },
        { ...base, privileges: { read: ['SELECT; DROP TABLE x'] } },
        { ...base, privileges: { read: [] } },
        { ...base, protectedTables: ['customers'] },
      ];
      for (const config of wrong) {
        expect(() => postgresSettings(config)).toThrowError(
          expect.objectContaining({ code: 'CONNECTOR_FAILED' }),
        );
        try {
          postgresSettings(config);
        } catch (e) {
          expect(String((e as Error).message)).not.toContain('s3cret');
        }
      }
    });
  });
});

describe('planGrant', () => {
  it('merges entries on one table and orders privileges the same way every time', () => {
    const plan = planGrant(
      settings,
      req([
        { resource: 'pg/appdb/public/orders', permissions: ['write', 'read'] },
        { resource: 'pg/appdb/public/orders', permissions: ['read'] },
        { resource: 'pg/appdb/sales/invoices', permissions: ['delete'] },
      ]),
    );
    expect(plan).toEqual({
      role: roleNameFor('g-1'),
      comment: 'countersign grant g-1 for nhi:agent/a',
      schemas: ['public', 'sales'],
      tables: [
        { schema: 'public', table: 'orders', privileges: ['SELECT', 'INSERT', 'UPDATE'] },
        { schema: 'sales', table: 'invoices', privileges: ['DELETE'] },
      ],
    });
  });

  it('uses the configured mapping from permissions to privileges', () => {
    const s = postgresSettings({ ...base, privileges: { audit: ['select', 'references'] } });
    const plan = planGrant(s, req([{ resource: 'pg/appdb/public/t', permissions: ['audit'] }]));
    expect(plan.tables[0]?.privileges).toEqual(['SELECT', 'REFERENCES']);
    expect(() =>
      planGrant(s, req([{ resource: 'pg/appdb/public/t', permissions: ['read'] }])),
    ).toThrowError(expect.objectContaining({ code: 'CONNECTOR_SCOPE_INVALID' }));
  });

  it('refuses names PostgreSQL would truncate or cannot hold', () => {
    for (const table of ['x'.repeat(64), 'a\0b', '']) {
      expect(() =>
        planGrant(settings, req([{ resource: `pg/appdb/public/${table}`, permissions: ['read'] }])),
      ).toThrowError(expect.objectContaining({ code: 'CONNECTOR_SCOPE_INVALID' }));
    }
  });
});

describe('role names and comments', () => {
  it('derives the same cs_ role from the same grant id, and reads the comment back', () => {
    expect(roleNameFor('g-1')).toBe(roleNameFor('g-1'));
    expect(roleNameFor('g-1')).not.toBe(roleNameFor('g-2'));
    expect(parseGrantComment(grantComment('g-1', 'nhi:x for y'))).toEqual({
      grantId: 'g-1',
      subject: 'nhi:x for y',
    });
    expect(parseGrantComment('made by hand')).toBeNull();
    expect(parseGrantComment(null)).toBeNull();
  });

  it('maps a privilege back to its permission, or to itself lowercased', () => {
    expect(['SELECT', 'UPDATE', 'TRUNCATE'].map((p) => permissionFor(settings, p))).toEqual([
      'read',
      'write',
      'truncate',
    ]);
  });
});

describe('assertGrantRequest', () => {
  it('accepts a plain request, and refuses odd grant ids, empty scopes and dead windows', () => {
    expect(() =>
      assertGrantRequest('appdb', req([{ resource: 'r', permissions: ['read'] }]), clock),
    ).not.toThrow();
    const bad = [
      { ...req([{ resource: 'r', permissions: ['read'] }]), grantId: 'has space' },
      req([]),
      req([{ resource: 'r', permissions: [] }]),
      { ...req([{ resource: 'r', permissions: ['read'] }]), notAfter: new Date(Number.NaN) },
      { ...req([{ resource: 'r', permissions: ['read'] }]), notAfter: clock.now() },
    ];
    for (const r of bad) {
      expect(() => assertGrantRequest('appdb', r, clock)).toThrowError(
        expect.objectContaining({ code: 'CONNECTOR_SCOPE_INVALID' }),
      );
    }
  });
});

describe('driverError', () => {
  it('keeps the SQLSTATE and the message, with every secret replaced, and no cause', () => {
    const e = driverError(
      'appdb',
      'grant',
      Object.assign(new Error('bad value "pw-123" in postgres://u:pw-123@h/d'), { code: '22023' }),
      ['postgres://u:pw-123@h/d', 'pw-123'],
    );
    expect(e.code).toBe('CONNECTOR_FAILED');
    expect(e.message).toBe('connector "appdb": grant failed: bad value "[redacted]" in [redacted]');
    expect(e.details).toEqual({ connector: 'appdb', operation: 'grant', sqlstate: '22023' });
    expect(e.cause).toBeUndefined();
  });
});

describe('scramSha256Secret', () => {
  // RFC 7677 §3: the exchange for user "user", password "pencil".
  const authMessage =
    'n=user,r=rOprNGfwEbeRWgbNEkqO,' +
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,' +
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  const serverSignature = '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

  it('writes the StoredKey and ServerKey of RFC 7677’s example, in PostgreSQL’s form', async () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(
      await scramSha256Secret('pencil', salt),
    );
    expect(m?.[1]).toBe('W22ZaJ0SNY7soEsUEjb6gQ==');
    const storedKey = Buffer.from(m?.[2] ?? '', 'base64');
    const serverKey = Buffer.from(m?.[3] ?? '', 'base64');
    const hmac = (key: Buffer) => createHmac('sha256', key).update(authMessage).digest();
    // The server's proof of knowing ServerKey, as the RFC's server sent it.
    expect(hmac(serverKey).toString('base64')).toBe(serverSignature);
    // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), and StoredKey = H(ClientKey).
    const clientSignature = hmac(storedKey);
    const clientKey = Buffer.from(proof.map((b, i) => b ^ (clientSignature[i] ?? 0)));
    expect(createHash('sha256').update(clientKey).digest()).toEqual(storedKey);
  });
});
