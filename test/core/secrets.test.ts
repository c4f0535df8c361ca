import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';
import {
  assertNoSecretMaterial,
  HEX_ENTROPY_THRESHOLD,
  looksLikeSecret,
  SECRET_PATTERN_NAMES,
  shannonEntropy,
  type SecretPatternName,
} from '../../src/core/secrets.js';
import { expectCode } from '../helpers/expect-code.js';

/** One sample per detector, each hidden inside an otherwise ordinary sentence. */
const SAMPLES: readonly [SecretPatternName, string][] = [
  ['pem_private_key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA'],
  ['pem_private_key', '-----BEGIN OPENSSH PRIVATE KEY-----'],
  ['pem_private_key', '-----BEGIN PRIVATE KEY-----'],
  ['aws_access_key_id', 'used key AKIAIOSFODNN7EXAMPLE for the upload'],
  ['github_token', `token ghp_${'a1B2'.repeat(9)} rotated`],
  ['github_token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz'],
  ['github_token', `app token ghs_${'Zz09'.repeat(9)}`],
  ['slack_token', 'webhook xoxb-123456789012-abcdefghijkl'],
  ['countersign_api_token', `bearer cs_${randomBytes(32).toString('base64url')}`],
  ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl'],
  ['credential_assignment', 'connect with password=hunter2'],
  ['credential_assignment', 'client_secret = abc'],
  ['credential_assignment', 'url?x=1&TOKEN=xyz'],
  ['aws_secret_access_key', 'secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['high_entropy', 'new key Q2hhbmdlIHRoaXMgc2VjcmV0IGtleSAxMjM0NTY3ODk please'],
  ['high_entropy', 'hex key 9f86d081884c7d659a2feaa0c55ad015'],
];

const WORDS = ['rotated', 'the', 'secret', 'for', 'payments', 'in', 'eu', 'cluster', 'done', 'ok'];

describe('looksLikeSecret', () => {
  describe('when text holds a known credential shape', () => {
    it.each(SAMPLES)('reports %s', (name, text) => {
      expect(looksLikeSecret(text)).toBe(name);
    });

    it('has a sample for every detector', () => {
      expect(new Set(SAMPLES.map(([n]) => n))).toEqual(new Set(SECRET_PATTERN_NAMES));
    });
  });

  describe('when text holds random key material without a known prefix', () => {
    it('flags nearly every 43-character base64url run', () => {
      const keys = fc.sample(fc.uint8Array({ minLength: 32, maxLength: 32 }), {
        numRuns: 500,
        seed: 7,
      });
      const flagged = keys.filter((k) =>
        looksLikeSecret(`key ${Buffer.from(k).toString('base64url')}`),
      );
      expect(flagged.length / keys.length).toBeGreaterThan(0.97);
    });

    it('flags every 32+ character hex run that is not a tagged digest', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 16, maxLength: 48 }), (k) => {
          const hex = Buffer.from(k).toString('hex');
          // fast-check favours small bytes; real keys are random, so their spread is high.
          fc.pre(shannonEntropy(hex) >= HEX_ENTROPY_THRESHOLD);
          expect(looksLikeSecret(`value ${hex}`)).toBe('high_entropy');
        }),
      );
    });
  });

  describe('when text holds only digests, timestamps, ids and words', () => {
    const sha = fc
      .uint8Array({ minLength: 32, maxLength: 32 })
      .map((b) => `sha256:${Buffer.from(b).toString('hex')}`);
    const timestamp = fc
      .date({
        min: new Date('1970-01-01T00:00:00Z'),
        max: new Date('2999-12-31T23:59:59Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
    const word = fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'),
      maxLength: 31,
    });

    it('never flags sha256 fingerprints, ISO timestamps, UUIDs or short words', () => {
      fc.assert(
        fc.property(fc.oneof(sha, timestamp, fc.uuid(), word), (text) => {
          expect(looksLikeSecret(text)).toBeNull();
        }),
      );
    });

    it('never flags sentences made of them', () => {
      const part = fc.oneof(sha, timestamp, fc.uuid(), fc.constantFrom(...WORDS));
      fc.assert(
        fc.property(fc.array(part, { minLength: 1, maxLength: 12 }), (parts) => {
          expect(looksLikeSecret(`${parts.join(' ')}.`)).toBeNull();
        }),
      );
    });

    it('never flags ordinary operational sentences', () => {
      for (const text of [
        'The token was rotated successfully in eu-west-1 at 2026-03-01T12:00:00Z.',
        'secret rotated: ok; tokens revoked: 3',
        'deployed payments-api-deployment-7d4b9c8f6-x2k9z from commit 3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39',
        'PaymentsRegionDeployClusterNorthInvoices145 restarted',
        'grant read on db/orders for agent:ops-bot removed (request wrt_3kq2ZxL0aP9sT1uV4wX7yA)',
      ]) {
        expect(looksLikeSecret(text), text).toBeNull();
      }
    });
  });
});

describe('shannonEntropy', () => {
  describe('when characters repeat or vary', () => {
    it('is 0 for one repeated character and 1 for two equally frequent ones', () => {
      expect(shannonEntropy('')).toBe(0);
      expect(shannonEntropy('aaaa')).toBe(0);
      expect(shannonEntropy('abab')).toBe(1);
    });
  });
});

describe('assertNoSecretMaterial', () => {
  describe('when a field carries a secret', () => {
    it('names the field path and the pattern', () => {
      const err = expectCode(
        () => assertNoSecretMaterial({ detail: 'ok', extra: { notes: ['fine', 'password=x'] } }),
        'SECRET_MATERIAL_REJECTED',
      );
      expect(err.details).toEqual({ field: 'extra.notes[1]', pattern: 'credential_assignment' });
    });

    it('never echoes the secret value in the message or details', () => {
      fc.assert(
        fc.property(fc.constantFrom(...SAMPLES), fc.constantFrom(...WORDS), ([, secret], w) => {
          let caught: unknown;
          try {
            assertNoSecretMaterial({ detail: `${w} ${secret}` });
          } catch (e) {
            caught = e;
          }
          expect(caught).toBeInstanceOf(CountersignError);
          const err = caught as CountersignError;
          const said = `${err.message} ${JSON.stringify(err.details)} ${String(err.stack)}`;
          for (const piece of secret.split(/[\s=]+/).filter((p) => p.length >= 10)) {
            expect(said).not.toContain(piece);
          }
        }),
      );
    });
  });

  describe('when a fingerprint field is declared', () => {
    it('accepts a strict sha256 digest and refuses anything else there', () => {
      expect(() =>
        assertNoSecretMaterial({ fact: { fingerprint: `sha256:${'a'.repeat(64)}` } }),
      ).not.toThrow();
      const err = expectCode(
        () => assertNoSecretMaterial({ fingerprint: 'v2' }),
        'SECRET_MATERIAL_REJECTED',
      );
      expect(err.details).toEqual({ field: 'fingerprint', pattern: 'non_digest_fingerprint' });
      const named = expectCode(
        () =>
          assertNoSecretMaterial(
            { version: 'AKIAIOSFODNN7EXAMPLE' },
            { fingerprintFields: ['version'] },
          ),
        'SECRET_MATERIAL_REJECTED',
      );
      expect(named.details).toEqual({ field: 'version', pattern: 'aws_access_key_id' });
    });
  });
});
