import type { KeyState, SigningKeyRecord } from '../../keys/keyring.js';

export interface KeyReader {
  list(): Promise<SigningKeyRecord[]>;
  /**
   * Whether the stored key `kid` is revoked: another node may have revoked it since this
   * one last read its key ring.
   */
  isRevoked(kid: string): Promise<boolean>;
}

export interface KeyWriter extends KeyReader {
  insert(key: SigningKeyRecord): Promise<void>;
  setState(kid: string, state: KeyState, at: string): Promise<void>;
  /** Serialises key-ring changes across nodes until the transaction ends. */
  lock(): Promise<void>;
}
