import { describe, expect, it } from 'vitest';
import { canonicalJson, checkRequestDigest, digestOf } from '../../console/src/lib/digest.js';
import {
  canonicalJson as serverCanonical,
  digestOf as serverDigest,
} from '../../src/core/canonical.js';

const tricky: unknown[] = [
  { b: 1, a: [3, 2, 1], c: { z: null, y: true, x: false } },
  { '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3, a: 4, A: 5, '': 6, '1': 7, '10': 8, '2': 9 },
  { n: [1e21, 1e-7, 0.1 + 0.2, -0, 5e-324, 1.7976931348623157e308, 100, 1e20, -1.5] },
  { s: 'line\nbreak \t tab "quote" \\ back \u0000 nul \u001f \u007f \u2028 \u2029 \u202e rlo' },
  { s: '<script>alert(1)</script> javascript:alert(1) 😀 é e\u0301' },
  { deep: { deeper: { deepest: [[[{ k: 'v' }]]] } } },
  { v: 1, reason: 'x'.repeat(10_000), scope: [{ resource: 'db/*', permissions: ['read'] }] },
];

describe('console digest against src/core/canonical.ts', () => {
  it.each(tricky.map((v, i) => [i, v] as const))(
    'object %i canonicalises as the server does',
    async (_i, v) => {
      expect(canonicalJson(v)).toBe(serverCanonical(v));
      expect(await digestOf(v)).toBe(serverDigest(v));
    },
  );

  it('matches after a JSON round trip, as the browser receives it', async () => {
    for (const v of tricky) {
      const received: unknown = JSON.parse(JSON.stringify(v));
      expect(await checkRequestDigest(received, serverDigest(v))).toMatchObject({ ok: true });
    }
  });

  it('refuses what the server refuses, and any change', async () => {
    expect(canonicalJson({ s: '\ud800' })).toBeUndefined();
    expect(canonicalJson({ n: Number.NaN })).toBeUndefined();
    expect(canonicalJson({ u: undefined })).toBeUndefined();
    const body = { v: 1, reason: 'deploy', maxUses: 1 };
    const id = serverDigest(body);
    expect(await checkRequestDigest({ ...body, maxUses: 2 }, id)).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(await checkRequestDigest(body, id.toUpperCase())).toMatchObject({
      ok: false,
      reason: 'bad_id',
    });
    expect(await checkRequestDigest({ s: '\udc00' }, id)).toMatchObject({
      ok: false,
      reason: 'not_canonical',
    });
  });
});
