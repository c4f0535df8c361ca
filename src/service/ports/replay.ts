/** Federated tokens spent at redemption, remembered across nodes until they expire. */
export interface TokenReplayWriter {
  /**
   * Records a token as spent until `expiresAt` (epoch seconds), atomically across
   * nodes: true when this call spent it, false when a record of it is still live at
   * `now` (a replay). A record that expired before `now` is taken over.
   */
  spend(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes the records that expired before `before`; returns how many. */
  forget(before: number): Promise<number>;
}
