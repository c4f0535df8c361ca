import { describe, expect, it } from 'vitest';
import {
  outboundUrlProblem,
  UNPARSEABLE_URL,
  withoutUserinfo,
} from '../../src/core/outbound-url.js';

describe('outboundUrlProblem', () => {
  it.each([
    ['tickets', 'not_url'],
    ['file:///etc/passwd', 'not_http'],
    ['https://user:pw@host.example/', 'userinfo'],
    ['https://user@host.example/', 'userinfo'],
    ['https://host.example/#frag', 'fragment'],
    ['https://host.example/path?q=1', null],
    ['http://host.example/', null],
  ])('finds in %s the problem %s', (url, problem) => {
    expect(outboundUrlProblem(url, 'anywhere')).toBe(problem);
  });
});

describe('outboundUrlProblem when plain http is for loopback alone', () => {
  it.each([
    ['http://tickets.internal/', 'plain_http'],
    ['http://10.0.0.7:8080/', 'plain_http'],
    ['http://localhost.example.com/', 'plain_http'],
    ['http://127.0.0.1.nip.io/', 'plain_http'],
    ['http://127.0.0.1:8471/', null],
    ['http://127.1/', null],
    ['http://localhost/', null],
    ['http://[::1]:8471/', null],
    ['https://tickets.internal/', null],
  ])('finds in %s the problem %s', (url, problem) => {
    expect(outboundUrlProblem(url, 'loopback')).toBe(problem);
  });
});

describe('withoutUserinfo', () => {
  describe('when the URL carries userinfo', () => {
    it('replaces it, keeping the host and path an auditor needs', () => {
      expect(withoutUserinfo('http://hook:s3cret@chat.internal:8080/cs?x=1')).toBe(
        'http://***@chat.internal:8080/cs?x=1',
      );
    });
  });

  describe('when the URL carries none', () => {
    it('returns it exactly as stored', () => {
      expect(withoutUserinfo('https://chat.internal/cs')).toBe('https://chat.internal/cs');
    });
  });

  describe('when the stored text does not parse as a URL', () => {
    it('withholds all of it, since where its userinfo ends cannot be told', () => {
      expect(withoutUserinfo('http://hook:s3cret@chat internal/')).toBe(UNPARSEABLE_URL);
    });
  });
});
