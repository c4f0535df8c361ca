import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CountersignClient } from '../../src/client/index.js';
import { CliError } from '../../src/cli/errors.js';
import { witness } from '../../src/cli/witness.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { NoteSigner } from '../../src/log/note.js';

const ORIGIN = 'countersign.test/log';
const dir = mkdtempSync(join(tmpdir(), 'countersign-witness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** K1 was revoked by the log's leaf 4 (stolen, say); K2 signs since. */
const k1 = new NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const k2 = new NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const published = {
  origin: ORIGIN,
  keys: [
    { verifierKey: k1.verifierKey(), revokedAtIndex: 4 },
    { verifierKey: k2.verifierKey(), revokedAtIndex: null },
  ],
};

/** A server that answers the witness's two questions; anything else is a test error. */
function serving(note: string): CountersignClient {
  return {
    request: (_method: string, path: string) => {
      if (path === '/v1/log/verifier-keys') return Promise.resolve(published);
      if (path === '/v1/log/checkpoint') return Promise.resolve(note);
      return Promise.reject(new Error(`unexpected ${path}`));
    },
  } as unknown as CountersignClient;
}

const note = (size: number, signer: NoteSigner) =>
  signCheckpoint({ origin: ORIGIN, size, rootHash: Buffer.alloc(32, size) }, signer);

describe('log witness', () => {
  describe('when a checkpoint beyond a key revocation is signed by that key alone', () => {
    it('refuses it with exit 4, before asking for any proof', async () => {
      const state = join(dir, 'a.json');
      expect((await witness(serving(note(6, k2)), state)).status).toBe('first-seen');
      const forged = witness(serving(note(9, k1)), state);
      await expect(forged).rejects.toBeInstanceOf(CliError);
      await expect(forged).rejects.toMatchObject({
        exitCode: 4,
        code: 'CHECKPOINT_SIGNATURE_INVALID',
      });
    });
  });

  describe('when the checkpoint lies within what the revoked key vouched for', () => {
    it('accepts it', async () => {
      const out = await witness(serving(note(4, k1)), join(dir, 'b.json'));
      expect([out.status, out.size]).toEqual(['first-seen', 4]);
    });
  });
});
