import { beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../src/evidence/bundle.js';
import type { EvidenceBundle } from '../../src/evidence/bundle.js';
import { renderCustody } from '../../src/evidence/render.js';
import { EVIDENCE_CHECK_CODES } from '../../src/evidence/errors.js';
import type { EvidenceCheckCode } from '../../src/evidence/errors.js';
import type { VerificationReport } from '../../src/evidence/verify.js';
import { verifyBundle } from '../../src/evidence/verify.js';
import { buildFixture, newKey, ORIGIN, signWarrant } from './fixture.js';
import type { Fixture } from './fixture.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await buildFixture();
});

const pinned = (): { logVerifierKey: string; jwks: Fixture['jwks'] } => ({
  logVerifierKey: fx.logVerifierKey,
  jwks: fx.jwks,
});

/** The codes of the failed checks. */
const failed = (r: VerificationReport): EvidenceCheckCode[] =>
  r.checks.filter((c) => !c.ok).map((c) => c.code);

const verify = (b: EvidenceBundle, trust = {}): Promise<VerificationReport> =>
  verifyBundle(JSON.stringify(b), trust);

describe('verifyBundle', () => {
  describe('when the bundle is untouched', () => {
    it('passes every check with the embedded anchors, and says they are embedded', async () => {
      const report = await verifyBundle(fx.text);
      expect(failed(report)).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.trust).toBe('embedded');
      expect(report.requestId).toBe(fx.requestId);
    });

    it('passes every check with pinned anchors, from text or from bytes', async () => {
      for (const input of [fx.text, Buffer.from(fx.text, 'utf8')]) {
        const report = await verifyBundle(input, pinned());
        expect(failed(report)).toEqual([]);
        expect(report.trust).toBe('pinned');
      }
    });

    it('reports partial trust when only one anchor is pinned', async () => {
      const report = await verifyBundle(fx.text, { logVerifierKey: fx.logVerifierKey });
      expect(report.ok).toBe(true);
      expect(report.trust).toBe('partial');
    });

    it('names every check it ran, with one inclusion check per entry', async () => {
      const report = await verifyBundle(fx.text, pinned());
      const codes = new Set(report.checks.map((c) => c.code));
      expect([...codes].sort()).toEqual([...EVIDENCE_CHECK_CODES].sort());
      const inclusion = report.checks.filter((c) => c.code === 'INCLUSION_PROOF_INVALID');
      expect(inclusion.map((c) => c.index)).toEqual(fx.bundle.entries.map((e) => e.index));
    });

    it('renders a chain of custody naming the requester, approvers, warrant, redemption and denial', async () => {
      const text = renderCustody(await verifyBundle(fx.text, pinned()));
      expect(text).toContain('Verification: PASSED');
      expect(text).toContain('requested by alice');
      expect(text).toContain('approved by bob');
      expect(text).toContain('approved by carol');
      expect(text).toContain(`Warrant ${fx.warrantId}`);
      expect(text).toContain('bound to executor deploy-eu');
      expect(text).toContain('allowed use 1/2 by deploy-eu');
      expect(text).toContain('write db/orders in prod on target db-eu-1');
      expect(text).toContain('denied EXECUTOR_MISMATCH for mallory');
      expect(text).toContain('rule prod-db');
      expect(text).toContain('(ticket INC-42)');
    });
  });

  describe('when the verifier has seen a later checkpoint', () => {
    /** The tree size the fixture's checkpoint note signs (its second line). */
    const size = (): number => Number(fx.bundle.checkpoint.split('\n')[1]);

    it('reports and renders the checkpoint its verdict is as of', async () => {
      const report = await verifyBundle(fx.text, pinned());
      expect(report.checkpoint).toMatchObject({ origin: ORIGIN, size: size() });
      expect(renderCustody(report)).toContain(`as of ${ORIGIN} tree size ${size()}`);
    });

    it('fails CHECKPOINT_TOO_OLD when the checkpoint is smaller than the size asked for', async () => {
      const report = await verifyBundle(fx.text, pinned(), { atLeastSize: size() + 1 });
      expect(failed(report)).toEqual(['CHECKPOINT_TOO_OLD']);
      expect(renderCustody(report)).toContain('FAILED CHECKPOINT_TOO_OLD');
    });

    it('passes when the checkpoint is exactly the size asked for', async () => {
      const report = await verifyBundle(fx.text, pinned(), { atLeastSize: size() });
      expect(failed(report)).toEqual([]);
    });

    it('fails CHECKPOINT_TOO_OLD, rather than skip the check, for a size that is no whole number', async () => {
      for (const atLeastSize of [1.5, -1, Number.NaN, '3'] as unknown as number[]) {
        const report = await verifyBundle(fx.text, pinned(), { atLeastSize });
        expect(failed(report)).toEqual(['CHECKPOINT_TOO_OLD']);
      }
    });
  });

  describe('when the entries are changed', () => {
    it('fails STATEMENT_MISMATCH when an entry is removed', async () => {
      const entries = fx.bundle.entries.filter((_, i) => i !== 5);
      const report = await verify({ ...fx.bundle, entries });
      expect(report.ok).toBe(false);
      expect(failed(report)).toEqual(['STATEMENT_MISMATCH']);
    });

    it('fails ENTRY_ORDER_INVALID and STATEMENT_MISMATCH when entries are reordered', async () => {
      const entries = [...fx.bundle.entries].reverse();
      const report = await verify({ ...fx.bundle, entries });
      expect(failed(report)).toEqual(['ENTRY_ORDER_INVALID', 'STATEMENT_MISMATCH']);
    });

    it('fails INCLUSION_PROOF_INVALID for the entry whose index changed', async () => {
      const entries = fx.bundle.entries.map((e, i) => (i === 2 ? { ...e, index: e.index + 2 } : e));
      const report = await verify({ ...fx.bundle, entries });
      const bad = report.checks.filter((c) => !c.ok && c.code === 'INCLUSION_PROOF_INVALID');
      expect(bad.map((c) => c.index)).toEqual([entries[2]!.index]);
      expect(failed(report)).toContain('STATEMENT_MISMATCH');
    });

    it('fails REQUEST_DIGEST_MISMATCH when request.created is left out, even if re-attested', async () => {
      const report = await verify(fx.rebuild({ entries: fx.input.entries.slice(1) }));
      expect(failed(report)).toEqual(['REQUEST_DIGEST_MISMATCH']);
      expect(report.custody.gaps).toContainEqual({ kind: 'request_missing' });
    });

    it("fails REQUEST_LINK_MISMATCH when another request's event is included, even if re-attested", async () => {
      const stray = { index: 2, leaf: fx.leaves[2]!, proof: fx.proof(2) };
      const [first, ...rest] = fx.input.entries;
      const report = await verify(fx.rebuild({ entries: [first!, stray, ...rest] }));
      expect(failed(report)).toEqual(['REQUEST_LINK_MISMATCH']);
    });

    it('fails LEAF_MALFORMED for a leaf that is in the log but not a canonical event', async () => {
      const pretty = JSON.stringify(JSON.parse(fx.bundle.entries[1]!.leaf), null, 2);
      const entries = fx.bundle.entries.map((e, i) => (i === 1 ? { ...e, leaf: pretty } : e));
      const report = await verify({ ...fx.bundle, entries });
      const bad = report.checks.filter((c) => !c.ok).map((c) => [c.code, c.index]);
      expect(bad).toContainEqual(['LEAF_MALFORMED', entries[1]!.index]);
      expect(bad).toContainEqual(['INCLUSION_PROOF_INVALID', entries[1]!.index]);
    });
  });

  describe('when the trust material is replaced', () => {
    it('fails CHECKPOINT_SIGNATURE_INVALID when the embedded log key is another valid key', async () => {
      const other = await newKey();
      const report = await verify({ ...fx.bundle, logVerifierKey: other.noteSigner.verifierKey() });
      expect(failed(report)).toEqual([
        'CHECKPOINT_SIGNATURE_INVALID',
        ...inclusionFailures(),
        'STATEMENT_MISMATCH',
      ]);
    });

    it('fails LOG_KEY_MISMATCH when the embedded log key is not the pinned one', async () => {
      const other = await newKey();
      const bundle = { ...fx.bundle, logVerifierKey: other.noteSigner.verifierKey() };
      const report = await verify(bundle, pinned());
      expect(failed(report)).toEqual(['LOG_KEY_MISMATCH', 'STATEMENT_MISMATCH']);
    });

    it('fails JWKS_MISMATCH when the embedded JWKS is substituted and the JWKS is pinned', async () => {
      const other = await newKey();
      const report = await verify({ ...fx.bundle, jwks: { keys: [other.jwk] } }, pinned());
      expect(failed(report)).toEqual(['JWKS_MISMATCH', 'STATEMENT_MISMATCH']);
    });

    it('fails the warrant and attestation signatures when the JWKS is substituted and not pinned', async () => {
      const other = await newKey();
      const report = await verify({ ...fx.bundle, jwks: { keys: [other.jwk] } });
      expect(failed(report)).toEqual([
        'WARRANT_SIGNATURE_INVALID',
        'DSSE_SIGNATURE_INVALID',
        'STATEMENT_MISMATCH',
      ]);
    });

    it('accepts a bundle forged under other keys only when nothing is pinned', async () => {
      const forger = await buildFixture();
      expect((await verifyBundle(forger.text)).ok).toBe(true);
      const report = await verifyBundle(forger.text, pinned());
      expect(failed(report)).toEqual(expect.arrayContaining(['LOG_KEY_MISMATCH', 'JWKS_MISMATCH']));
      expect(failed(report)).toContain('CHECKPOINT_SIGNATURE_INVALID');
      expect(failed(report)).toContain('DSSE_SIGNATURE_INVALID');
    });

    it('fails JWKS_MISMATCH when the pinned JWKS is itself malformed', async () => {
      const report = await verifyBundle(fx.text, { jwks: { keys: [{ kty: 'oct', k: 'AA' }] } });
      expect(failed(report)).toContain('JWKS_MISMATCH');
      expect(report.ok).toBe(false);
    });
  });

  describe('when the warrant is changed', () => {
    it('fails WARRANT_CLAIMS_MISMATCH for a validly signed warrant with other claims', async () => {
      const warrant = await signWarrant({ ...fx.claims, max_uses: 50 }, fx.key);
      const report = await verify(fx.rebuild({ warrant }));
      expect(failed(report)).toEqual(['WARRANT_CLAIMS_MISMATCH']);
    });

    it('fails WARRANT_SIGNATURE_INVALID for a token of another type', async () => {
      const warrant = await signWarrant(fx.claims, fx.key, 'receipt+jwt');
      const report = await verify(fx.rebuild({ warrant }));
      expect(failed(report)).toEqual(['WARRANT_SIGNATURE_INVALID']);
    });

    it('fails WARRANT_CLAIMS_MISMATCH when an issued warrant is left out', async () => {
      const report = await verify(fx.rebuild({ warrant: null }));
      expect(failed(report)).toEqual(['WARRANT_CLAIMS_MISMATCH']);
    });
  });

  describe('when the attestation is changed', () => {
    it('fails DSSE_SIGNATURE_INVALID when signed by a key outside the JWKS', async () => {
      const other = await newKey(ORIGIN);
      const forged = buildBundle(fx.input, other.signer);
      const report = await verify(forged);
      expect(failed(report)).toEqual(['DSSE_SIGNATURE_INVALID']);
    });
  });
});

/** Every entry fails inclusion when the checkpoint cannot be verified. */
function inclusionFailures(): EvidenceCheckCode[] {
  return fx.bundle.entries.map(() => 'INCLUSION_PROOF_INVALID');
}
