import { describe, expect, it } from 'vitest';
import { upstreamUrl } from '../../src/mcp/upstream.js';

describe('upstreamUrl', () => {
  describe('when the URL is not an http(s) URL', () => {
    it('refuses it with a stable code and without echoing it', () => {
      for (const bad of ['localhost:3000/mcp', 'file:///etc/passwd', 'not a url']) {
        let error: Error & { code?: string } = new Error('accepted');
        try {
          upstreamUrl(bad);
        } catch (e) {
          error = e as Error & { code?: string };
        }
        expect(error.code).toBe('UPSTREAM_URL_INVALID');
        expect(error.message).not.toContain(bad);
      }
      expect(upstreamUrl('https://mcp.example.com/mcp').href).toBe('https://mcp.example.com/mcp');
    });
  });
});
