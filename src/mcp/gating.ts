import type { CountersignClient } from '../client/index.js';
import { ToolCallAuthority } from './authority.js';
import type { ToolCallGate } from './gate.js';
import { readGatingConfig } from './gating-config.js';
import { warrantGate } from './warrant-gate.js';

/** The gate a gating config file describes, asking countersign through `client`. */
export function gatingGate(
  configFile: string,
  client: CountersignClient,
  waitMs: number | undefined,
): ToolCallGate {
  const config = readGatingConfig(configFile);
  return warrantGate(new ToolCallAuthority(client, config, waitMs === undefined ? {} : { waitMs }));
}
