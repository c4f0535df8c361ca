import { describe, expect, it } from 'vitest';
import { NotificationRelay } from '../../src/mcp/relay.js';
import type { UpstreamClient } from '../../src/mcp/upstream-client.js';

/** The notifications a relay asks a 2025-era upstream connection to pass it. */
async function relayed(shared: boolean): Promise<string[]> {
  const methods: string[] = [];
  const client = {
    setNotificationHandler: (method: string) => methods.push(method),
    getProtocolEra: () => 'legacy',
  } as unknown as UpstreamClient;
  await new NotificationRelay(() => undefined, shared).listen(client);
  return methods.sort();
}

describe('NotificationRelay', () => {
  it("relays the upstream's log messages and resource updates to one agent's sessions", async () => {
    expect(await relayed(false)).toEqual([
      'notifications/message',
      'notifications/prompts/list_changed',
      'notifications/resources/list_changed',
      'notifications/resources/updated',
      'notifications/tools/list_changed',
    ]);
  });

  it('relays list changes alone when sessions act for different agents', async () => {
    expect(await relayed(true)).toEqual([
      'notifications/prompts/list_changed',
      'notifications/resources/list_changed',
      'notifications/tools/list_changed',
    ]);
  });
});
