import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from '../../src/log/checkpoint.js';
import { LogError } from '../../src/log/errors.js';
import type { LogErrorCode } from '../../src/log/errors.js';
import { EMPTY_ROOT } from '../../src/log/hash.js';
import { NoteSigner, NoteVerifier } from '../../src/log/note.js';
import { expectCode as expectErrorCode } from '../helpers/expect-code.js';

// The root of the RFC 6962 vector tree of 8 leaves.
const ROOT = Buffer.from('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328', 'hex');
const ROOT_B64 = ROOT.toString('base64');

const expectCode = (fn: () => unknown, code: LogErrorCode) => expectErrorCode(fn, code, LogError);

describe('formatCheckpoint', () => {
  describe('when given a valid tree head', () => {
    it('writes origin, decimal size and base64 root, one per line', () => {
      const body = formatCheckpoint({ origin: 'example.com/log', size: 8, rootHash: ROOT });
      expect(body).toBe(`example.com/log\n8\n${ROOT_B64}\n`);
    });

    it('appends extension lines after the root', () => {
      const body = formatCheckpoint({
        origin: 'o',
        size: 0,
        rootHash: EMPTY_ROOT,
        extensions: ['ext one', 'ext two'],
      });
      expect(body).toBe(`o\n0\n${EMPTY_ROOT.toString('base64')}\next one\next two\n`);
    });

    it('round-trips through parseCheckpoint', () => {
      const line = fc
        .string({ minLength: 1 })
        .filter((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20));
      fc.assert(
        fc.property(
          line,
          fc.maxSafeNat(),
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.array(line, { maxLength: 3 }),
          (origin, size, root, extensions) => {
            const body = formatCheckpoint({ origin, size, rootHash: root, extensions });
            expect(parseCheckpoint(body)).toEqual({
              origin,
              size,
              rootHash: Buffer.from(root),
              extensions,
            });
          },
        ),
      );
    });
  });

  describe('when given an invalid tree head', () => {
    it.each([
      ['an empty origin', { origin: '', size: 1, rootHash: ROOT }],
      ['a multi-line origin', { origin: 'a\nb', size: 1, rootHash: ROOT }],
      ['a negative size', { origin: 'o', size: -1, rootHash: ROOT }],
      ['a fractional size', { origin: 'o', size: 1.5, rootHash: ROOT }],
      ['a short root', { origin: 'o', size: 1, rootHash: ROOT.subarray(1) }],
      ['an empty extension', { origin: 'o', size: 1, rootHash: ROOT, extensions: [''] }],
    ])('rejects %s with CHECKPOINT_INVALID', (_, input) => {
      expectCode(() => formatCheckpoint(input), 'CHECKPOINT_INVALID');
    });
  });
});

describe('parseCheckpoint', () => {
  describe('when the body is malformed', () => {
    it.each([
      ['no final newline', `o\n8\n${ROOT_B64}`],
      ['only two lines', `o\n8\n`],
      ['an empty origin', `\n8\n${ROOT_B64}\n`],
      ['a leading zero', `o\n08\n${ROOT_B64}\n`],
      ['a plus sign', `o\n+8\n${ROOT_B64}\n`],
      ['a negative size', `o\n-8\n${ROOT_B64}\n`],
      ['a space in the size', `o\n 8\n${ROOT_B64}\n`],
      ['a hexadecimal size', `o\n0x8\n${ROOT_B64}\n`],
      ['an exponent size', `o\n8e0\n${ROOT_B64}\n`],
      ['a size beyond 2^53', `o\n9007199254740993\n${ROOT_B64}\n`],
      ['a 31-byte root', `o\n8\n${ROOT.subarray(1).toString('base64')}\n`],
      [
        'a 33-byte root',
        `o\n8\n${Buffer.concat([ROOT, ROOT.subarray(0, 1)]).toString('base64')}\n`,
      ],
      ['an unpadded root', `o\n8\n${ROOT_B64.replace(/=+$/, '')}\n`],
      ['a URL-safe root', `o\n8\n${ROOT.toString('base64url')}=\n`],
      ['an empty extension line', `o\n8\n${ROOT_B64}\n\next\n`],
      ['a blank line at the end', `o\n8\n${ROOT_B64}\n\n`],
      ['a control character', `o\u0007\n8\n${ROOT_B64}\n`],
    ])('rejects %s with CHECKPOINT_INVALID', (_, text) => {
      expectCode(() => parseCheckpoint(text), 'CHECKPOINT_INVALID');
    });
  });

  describe('when the body is the C2SP example', () => {
    it('parses origin, size and root', () => {
      const text =
        'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
      const parsed = parseCheckpoint(text);
      expect(parsed.origin).toBe('example.com/behind-the-sofa');
      expect(parsed.size).toBe(20852163);
      expect(parsed.rootHash).toHaveLength(32);
      expect(formatCheckpoint(parsed)).toBe(text);
    });
  });
});

describe('openCheckpoint', () => {
  const signer = new NoteSigner('example.com/log', generateKeyPairSync('ed25519').privateKey);
  const verifier = NoteVerifier.fromVerifierKey(signer.verifierKey());
  const note = signCheckpoint({ origin: 'example.com/log', size: 8, rootHash: ROOT }, signer);

  describe('when the note is signed by a known key', () => {
    it('returns the parsed checkpoint and the signer', () => {
      const opened = openCheckpoint(note, [verifier], { origin: 'example.com/log' });
      expect(opened.checkpoint.size).toBe(8);
      expect(opened.checkpoint.rootHash).toEqual(ROOT);
      expect(opened.verifiedBy).toEqual(['example.com/log']);
    });
  });

  describe('when the origin or signature is wrong', () => {
    it('rejects another origin with CHECKPOINT_INVALID', () => {
      expectCode(() => openCheckpoint(note, [verifier], { origin: 'other' }), 'CHECKPOINT_INVALID');
    });

    it('rejects an altered size with NOTE_SIGNATURE_INVALID', () => {
      expectCode(
        () => openCheckpoint(note.replace('\n8\n', '\n9\n'), [verifier]),
        'NOTE_SIGNATURE_INVALID',
      );
    });
  });
});
