import { describe, expect, it } from 'vitest';
import {
  CLAMP_AT,
  CLAMP_SHOW,
  clamp,
  hasHidden,
  segments,
  visible,
} from '../../console/src/lib/text.js';
import {
  loginPath,
  requestIdParam,
  requestPath,
  safeReturnTo,
} from '../../console/src/lib/paths.js';

describe('bidi and hidden characters become visible', () => {
  it('marks a right-to-left override', () => {
    const s = 'invoice_\u202Eexe.pdf';
    expect(hasHidden(s)).toBe(true);
    expect(visible(s)).toBe('invoice_⟨U+202E⟩exe.pdf');
    expect(segments(s)).toEqual([
      { kind: 'text', text: 'invoice_' },
      { kind: 'marker', code: 'U+202E', label: 'RLO U+202E' },
      { kind: 'text', text: 'exe.pdf' },
    ]);
  });

  it('marks isolates, zero-width characters, controls and lone surrogates, not newlines', () => {
    expect(visible('a\u2066b\u2069c\u200bd\u0007e\nf\tg')).toBe(
      'a⟨U+2066⟩b⟨U+2069⟩c⟨U+200B⟩d⟨U+0007⟩e\nf\tg',
    );
    expect(visible('x\ud800y')).toBe('x\ufffdy');
    expect(hasHidden('plain <b>markup</b> javascript:alert(1)')).toBe(false);
  });

  it('keeps emoji and combining marks as they are', () => {
    expect(visible('😀 é e\u0301')).toBe('😀 é e\u0301');
  });
});

describe('clamping', () => {
  it('clamps strings over 10,000 characters, never splitting a surrogate pair', () => {
    expect(clamp('x'.repeat(CLAMP_AT)).clamped).toBe(false);
    const long = 'x'.repeat(CLAMP_SHOW - 1) + '😀' + 'y'.repeat(CLAMP_AT);
    const c = clamp(long);
    expect(c.clamped).toBe(true);
    expect(c.text.isWellFormed()).toBe(true);
    expect(c.length).toBe(long.length);
    expect(clamp(long, true).text).toBe(long);
  });
});

describe('paths', () => {
  it('encodes ids and never lets a user string choose the scheme', () => {
    expect(requestPath('sha256:ab')).toBe('/requests/sha256%3Aab');
    expect(safeReturnTo('javascript:alert(1)')).toBe('/');
    expect(safeReturnTo('//evil.example/x')).toBe('/');
    expect(safeReturnTo('/\\evil')).toBe('/');
    expect(safeReturnTo('/.//evil.example')).toBe('/');
    expect(safeReturnTo('/%2E%2E//evil.example')).toBe('/');
    expect(safeReturnTo('/requests/x')).toBe('/requests/x');
    expect(loginPath('corp sso', '/requests/x', true)).toBe(
      '/auth/login?issuer=corp+sso&returnTo=%2Frequests%2Fx&fresh=1',
    );
    const id = `sha256:${'0'.repeat(64)}`;
    expect(requestIdParam(encodeURIComponent(id))).toBe(id);
    expect(requestIdParam('sha256:xyz')).toBeUndefined();
    expect(requestIdParam('%E0%A4%A')).toBeUndefined();
  });
});
