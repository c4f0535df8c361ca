import { describe, expect, it } from 'vitest';
import { requestBody } from '../fixtures/request-body.js';
import { issueWarrant } from '../helpers/chain.js';
import { serveDuringSuite, TestServer } from '../helpers/server.js';

let s: TestServer;
serveDuringSuite(TestServer, (started) => (s = started));

/** Percent-encodes every character of `text` that `pick` chooses. */
const encode = (text: string, pick: (c: string) => boolean) =>
  [...text].map((c) => (pick(c) ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c)).join('');

describe('a credential a client sends where an id belongs', () => {
  describe('when an API token is sent as an id', () => {
    it('is not echoed in the problem detail of an unknown NHI', async () => {
      const token = s.tokens.alice;
      const r = await s.http('GET', `/v1/nhis/${token}`, { as: 'audra' });
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('NHI_UNKNOWN');
      expect(r.text).not.toContain(token.slice(3));
      expect(r.body.detail).toContain('[redacted]');
    });

    it('is not echoed when it is a request subject', async () => {
      const token = s.tokens.alice;
      const r = await s.http('POST', '/v1/requests', { as: 'alice', body: requestBody(token) });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.text).not.toContain(token.slice(3));
    });
  });

  describe('when a warrant or a token is percent-encoded in a path', () => {
    it('is kept out of the problem instance and out of the log', async () => {
      const { token: warrant } = await issueWarrant(s);
      const signature = warrant.split('.')[2] as string;
      const apiToken = s.tokens.bob;
      // Dev mode prints its tokens once at start-up (the README says so): only what follows counts.
      const from = s.logs().length;
      const paths = [
        `/x/${encode(warrant, (c) => c === '.')}`,
        `/v1/requests/${encode(warrant, (c) => 'eyJ'.includes(c))}`,
        `/v1/nhis/${encode(apiToken, (c) => c === '_')}`,
        `/v1/nhis/${encode(
          encode(apiToken, (c) => c === '_'),
          (c) => c === '%',
        )}`,
      ];
      for (const path of paths) {
        const r = await s.http('GET', path, { as: 'audra' });
        expect(r.status, path).toBeGreaterThanOrEqual(400);
        expect(r.status, path).toBeLessThan(500);
        expect(r.text).not.toContain(signature);
        expect(r.text).not.toContain(apiToken.slice(3));
      }
      const logged = s.logs().slice(from);
      expect(logged).toContain('[redacted]');
      expect(logged).not.toContain(signature);
      expect(logged).not.toContain(apiToken.slice(3));
    });
  });
});
