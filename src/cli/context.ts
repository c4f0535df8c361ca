import type { Client } from './client.js';

/** What every command reads from the global options and the environment. */
export interface CommandContext {
  client(): Client;
  json(): boolean;
}
