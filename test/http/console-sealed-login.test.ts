import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { LoginSealer, LOGIN_TTL_MS } from '../../src/http/console/sealed-login.js';
import { SessionStore } from '../../src/http/console/sessions.js';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const login = {
  issuerName: 'corp-sso',
  nonce: 'n'.repeat(43),
  verifier: 'v'.repeat(43),
  redirectUri: 'http://127.0.0.1:8470/auth/callback/corp-sso',
  returnTo: '/inbox',
  fresh: false,
};

describe('a pending sign-in sealed into the login cookie', () => {
  const sealer = new LoginSealer();
  const sealed = sealer.seal('state-1', { ...login, startedAt: T0 });

  it('opens for its own state, and shows the browser nothing of the verifier or nonce', () => {
    expect(sealer.open(sealed, 'state-1', T0 + 1000)).toEqual({ ...login, startedAt: T0 });
    const visible = Buffer.from(sealed, 'base64url').toString('latin1');
    expect(visible).not.toContain(login.verifier);
    expect(visible).not.toContain(login.nonce);
  });

  it('does not open for another state, once stale, or when sealed by another process', () => {
    expect(sealer.open(sealed, 'state-2', T0)).toBeNull();
    expect(sealer.open(sealed, 'state-1', T0 + LOGIN_TTL_MS + 1)).toBeNull();
    expect(new LoginSealer().open(sealed, 'state-1', T0)).toBeNull();
  });

  it('does not open when any byte is altered, or when cut short', () => {
    const bytes = Buffer.from(sealed, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const altered = Buffer.from(bytes);
      altered[i] = (altered[i] ?? 0) ^ 1;
      expect(sealer.open(altered.toString('base64url'), 'state-1', T0)).toBeNull();
    }
    for (const cut of ['', 'AAAA', sealed.slice(0, 36)]) {
      expect(sealer.open(cut, 'state-1', T0)).toBeNull();
    }
  });
});

describe('the console’s sign-ins in flight', () => {
  const store = () =>
    new SessionStore(new ManualClock(new Date(T0).toISOString()), { idleMs: 1, maxMs: 1 });

  it('keeps a sign-in begun before a flood of 20,000 others', () => {
    const sessions = store();
    const mine = sessions.beginLogin('mine', login);
    for (let i = 0; i < 20_000; i++) sessions.beginLogin(`flood-${i}`, login);
    expect(sessions.takeLogin(mine, 'mine')).toMatchObject({ returnTo: '/inbox' });
  });

  it('answers a callback once', () => {
    const sessions = store();
    const mine = sessions.beginLogin('mine', login);
    expect(sessions.takeLogin(mine, 'mine')).not.toBeNull();
    expect(sessions.takeLogin(mine, 'mine')).toBeNull();
  });
});
