import { describe, expect, it } from 'vitest';
import { advertisedCapabilities } from '../../src/mcp/downstream.js';
import type { UpstreamInfo } from '../../src/mcp/upstream.js';

const upstream = {
  era: 'legacy',
  serverInfo: { name: 'orders-db', version: '1.0.0' },
  capabilities: {
    tools: { listChanged: true },
    resources: { subscribe: true, listChanged: true },
    logging: {},
  },
} as unknown as UpstreamInfo;

describe('advertisedCapabilities', () => {
  it('offers a single agent what the upstream offers', () => {
    expect(advertisedCapabilities(upstream)).toEqual({
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      logging: {},
    });
  });

  it('offers no log level or resource subscription when sessions act for different agents', () => {
    expect(advertisedCapabilities(upstream, true)).toEqual({
      tools: { listChanged: true },
      resources: { listChanged: true },
    });
  });
});
