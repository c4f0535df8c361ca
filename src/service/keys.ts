import type { Clock } from '../core/clock.js';
import { generateSigningKey, KeyRing, type KeyState } from '../keys/keyring.js';
import { encodeEvent } from '../log/event.js';
import type { Store } from './ports/store.js';

/**
 * Loads the key ring, creating the first signing key (and its log event) in one
 * transaction when the store has none.
 */
export async function loadOrCreateKeyRing(
  store: Store,
  kek: Uint8Array,
  clock: Clock,
): Promise<KeyRing> {
  const existing = await store.read.keys.list();
  if (existing.length > 0) return KeyRing.load(existing, kek);
  const now = clock.now();
  const key = await generateSigningKey(kek, now);
  await store.transaction(async (tx) => {
    // Nodes starting together on an empty database create one first key, not one each.
    await tx.keys.lock();
    if ((await tx.keys.list()).length > 0) return;
    await tx.keys.insert(key);
    await tx.log.append(
      encodeEvent({
        v: 1,
        type: 'key.created',
        at: now.toISOString(),
        actor: 'countersign',
        links: {},
        data: { kid: key.kid, publicJwk: JSON.parse(key.publicJwk) as unknown },
      }),
    );
  });
  return KeyRing.load(await store.read.keys.list(), kek);
}

/** A signing key as the API shows it: never the sealed private key. */
export interface KeyView {
  readonly kid: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly publicJwk: unknown;
}

/** Every signing key, oldest first, with its state (active, retired or revoked). */
export async function listSigningKeys(store: Store): Promise<KeyView[]> {
  return (await store.read.keys.list()).map((k) => ({
    kid: k.kid,
    state: k.state,
    createdAt: k.createdAt,
    revokedAt: k.revokedAt,
    publicJwk: JSON.parse(k.publicJwk) as unknown,
  }));
}
