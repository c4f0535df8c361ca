import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
} from '../../console/src/lib/note.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { NoteSigner, signNote } from '../../src/log/note.js';

const vector = JSON.parse(
  readFileSync(new URL('../vectors/signed-note.json', import.meta.url), 'utf8'),
) as { verifier_key: string; key_id_hex: string; text: string; signature_line: string };

async function key(encoded: string) {
  const k = await parseVerifierKey(encoded);
  if (!k.ok) throw new Error(k.reason);
  return k.value;
}

describe('console signed-note verification (crypto.subtle Ed25519)', () => {
  it('opens the golang/mod PeterNeumann note', async () => {
    const k = await key(vector.verifier_key);
    expect(Buffer.from(k.keyId).toString('hex')).toBe(vector.key_id_hex);
    const opened = await openNote(`${vector.text}\n${vector.signature_line}\n`, [k]);
    expect(opened).toEqual({
      ok: true,
      value: { text: vector.text, verifiedBy: ['PeterNeumann'] },
    });
  });

  it('refuses an altered text, a note with no known key, and malformed keys', async () => {
    const k = await key(vector.verifier_key);
    const altered = `${vector.text.replace('answer', 'ANSWER')}\n${vector.signature_line}\n`;
    expect((await openNote(altered, [k])).ok).toBe(false);
    expect((await openNote(`${vector.text}\n${vector.signature_line}\n`, [])).ok).toBe(false);
    expect((await parseVerifierKey(vector.verifier_key.replace('c74f20a3', 'c74f20a4'))).ok).toBe(
      false,
    );
    expect((await parseVerifierKey('no-plus-signs')).ok).toBe(false);
  });

  it('opens a checkpoint signed by the server code and checks its origin', async () => {
    const signer = new NoteSigner(
      'countersign.test/log',
      generateKeyPairSync('ed25519').privateKey,
    );
    const root = Buffer.alloc(32, 7);
    const note = signCheckpoint(
      { origin: 'countersign.test/log', size: 42, rootHash: root },
      signer,
    );
    const k = await key(signer.verifierKey());
    const cp = await openCheckpoint(note, [k]);
    expect(cp.ok && cp.value.size).toBe(42);
    expect(cp.ok && Buffer.from(cp.value.rootHash).equals(root)).toBe(true);
    // Another key of the same name does not verify it.
    const other = new NoteSigner('countersign.test/log', generateKeyPairSync('ed25519').privateKey);
    expect((await openCheckpoint(note, [await key(other.verifierKey())])).ok).toBe(false);
    // A checkpoint signed under a different name than its origin is refused.
    const odd = new NoteSigner('someone-else', generateKeyPairSync('ed25519').privateKey);
    const foreign = signNote(`countersign.test/log\n1\n${root.toString('base64')}\n`, odd);
    expect((await openCheckpoint(foreign, [await key(odd.verifierKey())])).ok).toBe(false);
    // A flipped size in the text breaks the signature.
    expect((await openCheckpoint(note.replace('\n42\n', '\n43\n'), [k])).ok).toBe(false);
  });

  it('parses checkpoint bodies strictly', () => {
    const root = Buffer.alloc(32, 1).toString('base64');
    expect(parseCheckpoint(`o\n3\n${root}\n`).ok).toBe(true);
    expect(parseCheckpoint(`o\n03\n${root}\n`).ok).toBe(false);
    expect(parseCheckpoint(`o\n3\n${root}`).ok).toBe(false);
    expect(parseCheckpoint(`o\n3\nAAAA\n`).ok).toBe(false);
  });
});
