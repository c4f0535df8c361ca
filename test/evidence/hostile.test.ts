import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderCustody } from '../../src/evidence/render.js';
import type { VerificationReport } from '../../src/evidence/verify.js';
import { verifyBundle } from '../../src/evidence/verify.js';
import { buildFixture } from './fixture.js';
import type { Fixture } from './fixture.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture();
});

function expectMalformed(report: VerificationReport): void {
  expect(report.ok).toBe(false);
  expect(report.requestId).toBeNull();
  expect(report.checks).toEqual([expect.objectContaining({ code: 'BUNDLE_MALFORMED', ok: false })]);
  // A failed report still renders.
  expect(renderCustody(report)).toContain('Verification: FAILED');
}

describe('verifyBundle', () => {
  describe('when the input is not a bundle at all', () => {
    it.each([
      ['an empty string', ''],
      ['an empty array', '[]'],
      ['null', 'null'],
      ['an empty object', '{}'],
      ['a bare string', '"bundle"'],
      ['invalid JSON', '{"mediaType":'],
      ['deep nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
      ['deep object nesting', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`],
      ['a huge string', `"${'a'.repeat(8 * 1024 * 1024)}"`],
      ['a string past the size limit', `"${'a'.repeat(40 * 1024 * 1024)}"`],
    ])('reports BUNDLE_MALFORMED for %s without throwing', async (_name, input) => {
      expectMalformed(await verifyBundle(input));
    });

    it('reports BUNDLE_MALFORMED for bytes that are not UTF-8', async () => {
      expectMalformed(await verifyBundle(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])));
    });

    it('reports BUNDLE_MALFORMED for inputs of the wrong type from untyped callers', async () => {
      for (const input of [undefined, null, 42, {}, [], new Date()]) {
        expectMalformed(await verifyBundle(input as never));
      }
    });

    it('never throws on arbitrary JSON values or strings', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.jsonValue().map((v) => JSON.stringify(v)),
            fc.string(),
          ),
          async (text) => {
            const report = await verifyBundle(text);
            expect(report.ok).toBe(false);
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('when a real bundle is bent', () => {
    it('reports BUNDLE_MALFORMED for a duplicated key, even with the same value', async () => {
      const dup = fx.text.replace('{', `{"requestId":${JSON.stringify(fx.requestId)},`);
      expectMalformed(await verifyBundle(dup));
    });

    it('reports BUNDLE_MALFORMED for an unknown field at any level', async () => {
      const b = fx.bundle;
      const variants = [
        { ...b, extra: true },
        { ...b, entries: [{ ...b.entries[0]!, note: 'x' }, ...b.entries.slice(1)] },
        { ...b, jwks: { keys: [{ ...b.jwks.keys[0]!, d: 'AAAA' }] } },
        { ...b, attestation: { ...b.attestation, extra: 1 } },
        { ...b, mediaType: 'application/json' },
      ];
      for (const v of variants) expectMalformed(await verifyBundle(JSON.stringify(v)));
    });

    it('reports BUNDLE_MALFORMED for out-of-range indices and oversized proofs', async () => {
      const b = fx.bundle;
      const bent = (patch: object) => ({ ...b, entries: [{ ...b.entries[0]!, ...patch }] });
      for (const patch of [
        { index: -1 },
        { index: 1.5 },
        { index: 2 ** 53 },
        { proof: Array(64).fill(b.entries[0]!.proof[0]) },
      ]) {
        expectMalformed(await verifyBundle(JSON.stringify(bent(patch))));
      }
    });

    it('ignores garbage trust anchors without throwing', async () => {
      const report = await verifyBundle(fx.text, { logVerifierKey: 42, jwks: 'x' } as never);
      expect(report.ok).toBe(false);
      expect(report.checks.filter((c) => !c.ok).map((c) => c.code)).toEqual(
        expect.arrayContaining([
          'LOG_KEY_MISMATCH',
          'JWKS_MISMATCH',
          'CHECKPOINT_SIGNATURE_INVALID',
        ]),
      );
    });
  });
});
