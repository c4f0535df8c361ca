import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../src/evidence/verify.js';
import { buildFixture } from './fixture.js';
import type { Fixture } from './fixture.js';

let fx: Fixture;
let bytes: Buffer;
beforeAll(async () => {
  fx = await buildFixture();
  bytes = Buffer.from(fx.text, 'utf8');
});

const trusts = () => [{}, { logVerifierKey: fx.logVerifierKey, jwks: fx.jwks }];

describe('verifyBundle', () => {
  describe('when any single byte of the serialized bundle changes', () => {
    it('fails, without throwing, whatever the byte and whatever the trust', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: bytes.length - 1 }),
          fc.integer({ min: 1, max: 255 }),
          fc.boolean(),
          async (at, delta, pinned) => {
            const copy = Buffer.from(bytes);
            copy[at] = (copy[at]! + delta) % 256;
            const report = await verifyBundle(copy, trusts()[pinned ? 1 : 0]);
            expect(report.ok).toBe(false);
            expect(report.checks.some((c) => !c.ok)).toBe(true);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('fails for a change inside each signed or hashed field', async () => {
      // One deterministic change per field, so every field is covered on every run.
      const fields = [
        'requestId',
        'checkpoint',
        'logVerifierKey',
        'warrant',
        'leaf',
        'proof',
        'payload',
        'sig',
        '"x"',
        '"kid"',
      ];
      for (const field of fields) {
        const key = field.startsWith('"') ? field : `"${field}"`;
        const start = fx.text.indexOf(key);
        expect(start, field).toBeGreaterThanOrEqual(0);
        // An alphanumeric character from the sixth one of the field's (first) string value
        // on: keys and signatures are random base64url, which may put '-' or '_' there.
        let at = fx.text.indexOf('"', fx.text.indexOf(':', start + key.length)) + 6;
        while (!/[A-Za-z0-9]/.test(fx.text[at] ?? '')) at++;
        expect(fx.text[at], field).toMatch(/[A-Za-z0-9]/);
        const copy = Buffer.from(bytes);
        copy[at] = copy[at] === 0x41 ? 0x42 : 0x41;
        for (const trust of trusts()) {
          expect((await verifyBundle(copy, trust)).ok, field).toBe(false);
        }
      }
    });
  });
});
