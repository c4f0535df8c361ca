import type { CountersignClient } from '../client/index.js';

/** What every command reads from the global options and the environment. */
export interface CommandContext {
  /** The SDK client for the server address in effect, with COUNTERSIGN_TOKEN. */
  client(): CountersignClient;
  json(): boolean;
  /** The same context against another server address. */
  withAddr(addr: string): CommandContext;
}
