import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/http/console/return-to.js';

describe('safeReturnTo (where a sign-in sends the browser back)', () => {
  it.each(['/', '/requests/sha256%3Aab', '/requests?state=pending', '/findings#open'])(
    'keeps the same-origin path %s',
    (path) => {
      expect(safeReturnTo(path)).toBe(path);
    },
  );

  it.each([
    '//evil.example/x',
    '/\\evil.example',
    'https://evil.example',
    'javascript:alert(1)',
    // Dot segments the URL parser removes, leaving `//evil.example`: another origin.
    '/.//evil.example/x',
    '/..//evil.example',
    '/%2e//evil.example',
    '/a/..//evil.example',
    '/x\n',
  ])('sends %j home instead', (path) => {
    expect(safeReturnTo(path)).toBe('/');
  });
});
