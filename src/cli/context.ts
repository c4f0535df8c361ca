import type { Client } from './client.js';

/** What every command reads from the global options and the environment. */
export interface CommandContext {
  client(): Client;
  json(): boolean;
  /** The same context against another server address. */
  withAddr(addr: string): CommandContext;
}
