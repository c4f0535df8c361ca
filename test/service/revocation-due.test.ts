import { describe, expect, it } from 'vitest';
import { revocationDue } from '../../src/service/broker.js';

const end = '2026-03-01T14:00:00.000Z';

describe('when a brokered grant falls due for revocation', () => {
  it('is one sweep interval before the window ends, so the credential is gone by the end', () => {
    expect(revocationDue(end, '2026-03-01T12:00:00.000Z', 15_000)).toBe('2026-03-01T13:59:45.000Z');
  });

  it('takes at most a tenth of what is left of a short window', () => {
    expect(revocationDue(end, '2026-03-01T13:59:00.000Z', 15_000)).toBe('2026-03-01T13:59:54.000Z');
  });

  it('is the end itself without a lead, or when the window is already over', () => {
    expect(revocationDue(end, '2026-03-01T12:00:00.000Z', 0)).toBe(end);
    expect(revocationDue(end, '2026-03-01T15:00:00.000Z', 15_000)).toBe(end);
  });
});
