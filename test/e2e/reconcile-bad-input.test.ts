import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { fp, fulfil, receiptFor } from '../helpers/fulfilment.js';
import { observe } from '../helpers/observation.js';
import { rowCounts } from '../helpers/db.js';
import { TestServer } from '../helpers/server.js';

let s: TestServer;
let receipt: string;
let subject: string;
beforeAll(async () => {
  s = await TestServer.start();
  const w = await issueWarrant(s, { targets: ['eu'], maxUses: 2 });
  receipt = await receiptFor(s, w.token, {
    resource: 'db/orders',
    permission: 'read',
    environment: 'staging',
    target: 'eu',
  });
  subject = (await s.http('GET', `/v1/requests/${w.requestId}`, { as: 'audra' })).body.body.subject;
  await observe(s, [
    {
      subject,
      target: 'eu',
      observedAt: new Date().toISOString(),
      fact: { kind: 'secret_version', fingerprint: fp('x') },
    },
  ]);
});
afterAll(async () => {
  await s.stop();
});

const tables = () => {
  const c = rowCounts(s.dataDir);
  return { events: c.events };
};

describe('bad fulfilment and observation input', () => {
  const cases: Array<
    [string, () => Promise<{ status: number; body: { code?: string } }>, number, string]
  > = [
    [
      'a forged receipt',
      async () => {
        const [h, p, sig] = receipt.split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        claims.executor = 'deploy-us';
        return fulfil(
          s,
          {
            receipt: [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.'),
            target: 'eu',
            outcome: 'success',
            fingerprint: fp('y'),
          },
          'deploy-us',
        );
      },
      403,
      'RECEIPT_INVALID',
    ],
    [
      "another executor's receipt",
      () =>
        fulfil(s, { receipt, target: 'eu', outcome: 'success', fingerprint: fp('y') }, 'deploy-us'),
      403,
      'RECEIPT_NOT_YOURS',
    ],
    [
      'a secret instead of a fingerprint',
      () =>
        fulfil(s, {
          receipt,
          target: 'eu',
          outcome: 'success',
          fingerprint: '-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
        }),
      422,
      'SECRET_MATERIAL_REJECTED',
    ],
    [
      'a secret in the detail',
      () =>
        s.http('POST', '/v1/fulfilments', {
          as: 'deploy-eu',
          body: { receipt, target: 'eu', outcome: 'failure', detail: 'password=hunter2hunter2' },
        }),
      422,
      'SECRET_MATERIAL_REJECTED',
    ],
    [
      'an unknown target',
      () => fulfil(s, { receipt, target: 'mars', outcome: 'success', fingerprint: fp('y') }),
      422,
      'TARGET_NOT_APPROVED',
    ],
    [
      'an out-of-order observation',
      () =>
        observe(s, [
          {
            subject,
            target: 'eu',
            observedAt: '2020-01-01T00:00:00Z',
            fact: { kind: 'secret_version', fingerprint: fp('old') },
          },
        ]),
      409,
      'OBSERVATION_OUT_OF_ORDER',
    ],
    [
      'the same observation twice in a batch',
      () => {
        const o = {
          subject,
          target: 'eu',
          observedAt: new Date().toISOString(),
          fact: { kind: 'secret_version', fingerprint: fp('z') },
        };
        return observe(s, [o, o]);
      },
      400,
      'OBSERVATION_DUPLICATE',
    ],
    [
      'an observation of an unregistered subject',
      () =>
        observe(s, [
          {
            subject: 'svc:ghost',
            target: 'eu',
            observedAt: new Date().toISOString(),
            fact: { kind: 'secret_version', fingerprint: fp('g') },
          },
        ]),
      404,
      'NHI_UNKNOWN',
    ],
    [
      'an observation from an executor',
      () => s.http('POST', '/v1/observations', { as: 'deploy-eu', body: { observations: [] } }),
      403,
      'FORBIDDEN',
    ],
  ];
  for (const [name, send, status, code] of cases) {
    it(`refuses ${name} with ${code} and writes nothing`, async () => {
      const before = tables();
      const r = await send();
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.code).toBe(code);
      expect(JSON.stringify(r.body)).not.toContain('hunter2');
      expect(JSON.stringify(r.body)).not.toContain('BEGIN PRIVATE KEY');
      expect(tables()).toEqual(before);
    });
  }

  it('records a re-sent observation once', async () => {
    const o = {
      subject,
      target: 'eu',
      observedAt: new Date().toISOString(),
      fact: { kind: 'secret_version', fingerprint: fp('again') },
    };
    expect((await observe(s, [o])).body).toMatchObject({ recorded: 1, duplicates: 0 });
    const before = tables();
    expect((await observe(s, [o])).body).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(tables()).toEqual(before);
  });
});
