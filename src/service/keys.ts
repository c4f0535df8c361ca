import type { Clock } from '../core/clock.js';
import { generateSigningKey, KeyRing } from '../keys/keyring.js';
import { encodeEvent } from '../log/event.js';
import type { Store } from '../store/store.js';

/**
 * Loads the key ring, creating the first signing key (and its log event) in one
 * transaction when the store has none.
 */
export async function loadOrCreateKeyRing(
  store: Store,
  kek: Uint8Array,
  clock: Clock,
): Promise<KeyRing> {
  const existing = await store.listKeys();
  if (existing.length > 0) return KeyRing.load(existing, kek);
  const now = clock.now();
  const key = await generateSigningKey(kek, now);
  await store.transaction(async (tx) => {
    if ((await tx.listKeys()).length > 0) return;
    await tx.insertKey(key);
    await tx.appendEvent(
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
  return KeyRing.load(await store.listKeys(), kek);
}
