import type { KeyState, SigningKeyRecord } from '../../keys/keyring.js';

export interface KeyReader {
  list(): Promise<SigningKeyRecord[]>;
}

export interface KeyWriter extends KeyReader {
  insert(key: SigningKeyRecord): Promise<void>;
  setState(kid: string, state: KeyState, at: string): Promise<void>;
  /** Serialises key-ring changes across nodes until the transaction ends. */
  lock(): Promise<void>;
}
