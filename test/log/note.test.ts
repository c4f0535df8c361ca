import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../src/log/errors.js';
import type { LogErrorCode } from '../../src/log/errors.js';
import {
  NoteSigner,
  NoteVerifier,
  encodePrivateKey,
  encodeVerifierKey,
  noteKeyId,
  openNote,
  parsePrivateKey,
  parseVerifierKey,
  signNote,
} from '../../src/log/note.js';
import { expectCode } from '../helpers/expect-code.js';

interface NoteVector {
  private_key: string;
  verifier_key: string;
  key_id_hex: string;
  text: string;
  signature_line: string;
}

const vector = JSON.parse(
  readFileSync(new URL('../vectors/signed-note.json', import.meta.url), 'utf8'),
) as NoteVector;

const signer = NoteSigner.fromPrivateKey(vector.private_key);
const verifier = NoteVerifier.fromVerifierKey(vector.verifier_key);
const note = `${vector.text}\n${vector.signature_line}\n`;

/** Runs `fn`, expects a LogError with `code`, and returns its message. */
const failure = (fn: () => unknown, code: LogErrorCode): string =>
  expectCode(fn, code, LogError).message;

function freshSigner(name: string): NoteSigner {
  return new NoteSigner(name, generateKeyPairSync('ed25519').privateKey);
}

describe('note keys', () => {
  describe('when the vector keys are parsed', () => {
    it('derives the vector key id from name and public key', () => {
      const parsed = parseVerifierKey(vector.verifier_key);
      expect(parsed.name).toBe('PeterNeumann');
      expect(parsed.keyId.toString('hex')).toBe(vector.key_id_hex);
      expect(noteKeyId(parsed.name, parsed.publicKey).toString('hex')).toBe(vector.key_id_hex);
      expect(signer.keyId.toString('hex')).toBe(vector.key_id_hex);
      expect(signer.publicKey).toEqual(parsed.publicKey);
    });

    it('re-encodes both keys byte for byte', () => {
      const parsed = parsePrivateKey(vector.private_key);
      const jwk = parsed.privateKey.export({ format: 'jwk' });
      const seed = Buffer.from(jwk.d!, 'base64url');
      expect(encodePrivateKey(parsed.name, seed)).toBe(vector.private_key);
      expect(encodeVerifierKey(parsed.name, parsed.publicKey)).toBe(vector.verifier_key);
      expect(signer.verifierKey()).toBe(vector.verifier_key);
    });
  });

  describe('when a key string is malformed', () => {
    const [name, id, key] = vector.verifier_key.split('+') as [string, string, string];
    it.each([
      ['an empty string', ''],
      ['a missing key id', `${name}+${key}`],
      ['a wrong key id', `${name}+00000000+${key}`],
      ['an upper-case key id', `${name}+${id.toUpperCase()}+${key}`],
      ['another name', `PaulNeumann+${id}+${key}`],
      ['a truncated key', `${name}+${id}+${key.slice(0, -4)}`],
      ['a non-Ed25519 algorithm byte', `${name}+${id}+Ah${key.slice(2)}`],
      ['URL-safe base64', `${name}+${id}+${key.replace(/\//g, '_')}`],
    ])('rejects %s with NOTE_INVALID and never echoes the key', (_, encoded) => {
      const message = failure(() => parseVerifierKey(encoded), 'NOTE_INVALID');
      expect(message).not.toContain(key.slice(4, 20));
    });

    it('rejects a private key with a wrong id without echoing the seed', () => {
      const tampered = vector.private_key.replace(vector.key_id_hex, '00000000');
      const message = failure(() => parsePrivateKey(tampered), 'NOTE_INVALID');
      expect(message).not.toContain(vector.private_key.split('+')[4]!.slice(0, 12));
      failure(() => parsePrivateKey(vector.verifier_key), 'NOTE_INVALID');
    });

    it('rejects key names with spaces or plus signs', () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      for (const bad of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b', 'a\tb']) {
        failure(() => new NoteSigner(bad, privateKey), 'NOTE_INVALID');
      }
    });
  });
});

describe('signNote', () => {
  describe('when the vector text is signed with the vector key', () => {
    it('reproduces the vector signature line byte for byte', () => {
      expect(signNote(vector.text, signer)).toBe(note);
    });
  });

  describe('when the text is not a valid note text', () => {
    it.each([
      ['no final newline', 'hello'],
      ['a control character', 'bell\u0007\n'],
      ['a carriage return', 'line\r\n'],
      ['a lone surrogate', 'half \ud800\n'],
    ])('rejects %s with NOTE_INVALID', (_, text) => {
      failure(() => signNote(text, signer), 'NOTE_INVALID');
    });
  });
});

describe('openNote', () => {
  describe('when the vector note is opened with its verifier', () => {
    it('returns the text and the verifying key name', () => {
      expect(openNote(note, [verifier])).toEqual({
        text: vector.text,
        verifiedBy: ['PeterNeumann'],
        verifiedKeys: [verifier],
      });
      expect(openNote(Buffer.from(note, 'utf8'), [verifier]).text).toBe(vector.text);
    });

    it('ignores signatures by unknown keys next to a known one', () => {
      const other = freshSigner('example.com/witness');
      const cosigned = signNote(vector.text, [other, signer]);
      expect(openNote(cosigned, [verifier]).verifiedBy).toEqual(['PeterNeumann']);
      const both = [verifier, NoteVerifier.fromVerifierKey(other.verifierKey())];
      expect(openNote(cosigned, both).verifiedBy).toEqual(['example.com/witness', 'PeterNeumann']);
    });

    it('keeps text that itself contains blank lines', () => {
      const text = 'first\n\nsecond\n\n';
      expect(openNote(signNote(text, signer), [verifier]).text).toBe(text);
    });
  });

  describe('when the note has been altered', () => {
    const sig = vector.signature_line.split(' ')[2]!;
    const raw = Buffer.from(sig, 'base64');
    const withSig = (bytes: Buffer, name = 'PeterNeumann'): string =>
      `${vector.text}\n\u2014 ${name} ${bytes.toString('base64')}\n`;

    it('rejects altered text with NOTE_SIGNATURE_INVALID', () => {
      failure(
        () => openNote(note.replace('problem', 'Problem'), [verifier]),
        'NOTE_SIGNATURE_INVALID',
      );
    });

    it('rejects an altered signature with NOTE_SIGNATURE_INVALID', () => {
      for (const at of [4, 20, 67]) {
        const bytes = Buffer.from(raw);
        bytes[at] = (bytes[at]! + 1) % 256;
        failure(() => openNote(withSig(bytes), [verifier]), 'NOTE_SIGNATURE_INVALID');
      }
    });

    it('rejects a genuine signature followed by a corrupted repeat from the same key', () => {
      const bytes = Buffer.from(raw);
      bytes[40] = (bytes[40]! + 1) % 256;
      const corrupted = withSig(bytes).slice(vector.text.length + 1);
      failure(() => openNote(`${note}${corrupted}`, [verifier]), 'NOTE_SIGNATURE_INVALID');
    });

    it('treats an unknown key name or key id as unsigned (NOTE_SIGNATURE_INVALID)', () => {
      failure(() => openNote(withSig(raw, 'PaulNeumann'), [verifier]), 'NOTE_SIGNATURE_INVALID');
      const wrongId = Buffer.from(raw);
      wrongId[0] = (wrongId[0]! + 1) % 256;
      failure(() => openNote(withSig(wrongId), [verifier]), 'NOTE_SIGNATURE_INVALID');
      failure(() => openNote(note, []), 'NOTE_SIGNATURE_INVALID');
    });

    it('never echoes key material in the error message', () => {
      const bytes = Buffer.from(raw);
      bytes[30] = (bytes[30]! + 1) % 256;
      const message = failure(() => openNote(withSig(bytes), [verifier]), 'NOTE_SIGNATURE_INVALID');
      expect(message).not.toContain(sig.slice(8, 24));
      expect(message).not.toContain(vector.verifier_key.split('+')[2]!.slice(0, 12));
    });
  });

  describe('when the note is malformed', () => {
    const line = `${vector.signature_line}\n`;
    it.each([
      ['no blank line', `${vector.text}${line}`],
      ['no signature lines', `${vector.text}\n`],
      ['no final newline', note.slice(0, -1)],
      ['a hyphen instead of an em dash', note.replace('\u2014', '-')],
      ['a signature without a name', `${vector.text}\n\u2014 ${line.split(' ')[2]}`],
      ['a short signature', `${vector.text}\n\u2014 PeterNeumann AAAA\n`],
      ['invalid base64', note.replace('x08go', 'x08g!')],
      ['a control character', note.replace('answer', 'ans\u0000wer')],
      ['more than 100 signatures', `${vector.text}\n${line.repeat(101)}`],
    ])('rejects %s with NOTE_INVALID', (_, text) => {
      failure(() => openNote(text, [verifier]), 'NOTE_INVALID');
    });

    it('rejects bytes that are not UTF-8 with NOTE_INVALID', () => {
      const bytes = Buffer.concat([Buffer.from([0xff]), Buffer.from(note, 'utf8')]);
      failure(() => openNote(bytes, [verifier]), 'NOTE_INVALID');
    });

    it('accepts 100 repeated signatures', () => {
      expect(openNote(`${vector.text}\n${line.repeat(100)}`, [verifier]).verifiedBy).toEqual([
        'PeterNeumann',
      ]);
    });
  });
});
