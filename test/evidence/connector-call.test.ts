import { describe, expect, it } from 'vitest';
import {
  CONNECTOR_CALL_PAYLOAD_TYPE,
  connectorCallBytes,
  type ConnectorCall,
  type ConnectorGrantCall,
} from '../../src/core/connector-call.js';
import { verifyConnectorCall, type VerifyConnectorCallOptions } from '../../src/evidence/index.js';
import { expectCode } from '../helpers/expect-code.js';
import { testKey } from '../connectors/webhook-keys.js';

/** What a receiver runs on every webhook body before acting on it. */

const NOW = new Date('2026-03-01T10:00:00Z');
const key = testKey('server-key');
const other = testKey('server-key');

const grant: ConnectorGrantCall = {
  v: 1,
  op: 'grant',
  connector: 'tickets',
  grantId: 'rcp_1',
  handle: 'rcp_1',
  subject: 'nhi:agent/triage',
  scope: [{ resource: 'webhook/tickets/queue/ops', permissions: ['read'] }],
  notAfter: '2026-03-01T12:00:00.000Z',
  issuedAt: '2026-03-01T09:59:59.000Z',
  idempotencyKey: 'rcp_1:grant',
};

const sealed = async (payload: Uint8Array | string, type = CONNECTOR_CALL_PAYLOAD_TYPE) =>
  JSON.stringify(
    await key.seal(type, typeof payload === 'string' ? Buffer.from(payload) : payload),
  );

const reasonOf = (body: string, o: VerifyConnectorCallOptions = { now: NOW }) =>
  (
    expectCode(() => verifyConnectorCall(body, key.jwks, o), 'CONNECTOR_CALL_INVALID').details as {
      reason: string;
    }
  ).reason;

describe('verifyConnectorCall', () => {
  it('returns the call when a key of the JWKS signed it', async () => {
    const body = await sealed(connectorCallBytes(grant));
    expect(verifyConnectorCall(body, key.jwks, { now: NOW })).toEqual(grant);
    expect(verifyConnectorCall(Buffer.from(body), key.jwks, { now: NOW })).toEqual(grant);
  });

  describe('when the body is not a well-formed envelope', () => {
    it.each([
      ['not JSON', 'hello'],
      ['a repeated key', '{"payloadType":"a","payloadType":"b","payload":"","signatures":[]}'],
      ['no signatures', JSON.stringify({ payloadType: 'x', payload: '', signatures: [] })],
    ])('refuses %s as malformed', (_, body) => {
      expect(reasonOf(body)).toBe('malformed');
    });

    it('refuses bytes that are not UTF-8 as malformed', () => {
      expect(() => verifyConnectorCall(Buffer.from([0xff, 0xfe]), key.jwks)).toThrow('not UTF-8');
    });
  });

  describe('when the signature is not the server’s', () => {
    it('refuses a key that shares the kid but not the key', async () => {
      const body = JSON.stringify(
        await other.seal(CONNECTOR_CALL_PAYLOAD_TYPE, connectorCallBytes(grant)),
      );
      expect(reasonOf(body)).toBe('signature');
    });

    it('refuses any call when the JWKS is empty or not a key set', async () => {
      const body = await sealed(connectorCallBytes(grant));
      const bad = (jwks: unknown) =>
        expectCode(
          () => verifyConnectorCall(body, jwks as { keys: [] }, { now: NOW }),
          'CONNECTOR_CALL_INVALID',
        );
      expect(bad({ keys: [] }).details).toEqual({ reason: 'signature' });
      expect(bad({ keys: 'none' }).details).toEqual({ reason: 'signature' });
    });
  });

  describe('when the envelope carries something else', () => {
    it('refuses another payloadType, signed or not', async () => {
      const body = await sealed(connectorCallBytes(grant), 'application/vnd.in-toto+json');
      expect(reasonOf(body)).toBe('payload_type');
    });

    it.each([
      ['a payload that is not canonical JSON', JSON.stringify(grant, null, 1)],
      ['a revoke carrying a scope', { ...grant, op: 'revoke' }],
      ['an idempotency key of another grant', { ...grant, idempotencyKey: 'rcp_2:grant' }],
      ['an empty scope', { ...grant, scope: [] }],
      [
        'a permission that is not a string',
        { ...grant, scope: [{ resource: 'r', permissions: [1] }] },
      ],
      ['another version', { ...grant, v: 2 }],
      ['an unknown member', { ...grant, extra: true }],
    ])('refuses %s, though signed', async (_, payload) => {
      const bytes =
        typeof payload === 'string'
          ? payload
          : connectorCallBytes(payload as unknown as ConnectorCall);
      expect(reasonOf(await sealed(bytes))).toBe('payload');
    });
  });

  describe('when the call is replayed late', () => {
    it('refuses a call signed more than five minutes ago, or later than a minute ahead', async () => {
      const body = await sealed(connectorCallBytes(grant));
      expect(reasonOf(body, { now: new Date('2026-03-01T10:05:00Z') })).toBe('stale');
      expect(reasonOf(body, { now: new Date('2026-03-01T09:58:58Z') })).toBe('stale');
    });

    it('refuses a grant whose window has ended, whatever maxAgeMs allows', async () => {
      const body = await sealed(connectorCallBytes(grant));
      const late = { now: new Date('2026-03-01T12:00:00Z'), maxAgeMs: Infinity };
      expect(reasonOf(body, late)).toBe('stale');
      const {
        subject: _s,
        scope: _c,
        notAfter: _n,
        ...base
      } = grant as typeof grant & {
        op: 'grant';
      };
      const revoke: ConnectorCall = { ...base, op: 'revoke', idempotencyKey: 'rcp_1:revoke' };
      const rbody = await sealed(connectorCallBytes(revoke));
      expect(verifyConnectorCall(rbody, key.jwks, late).op).toBe('revoke');
    });
  });
});
