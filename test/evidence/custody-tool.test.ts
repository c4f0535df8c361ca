import { describe, expect, it } from 'vitest';
import { constraintsText, toolOf } from '../../src/evidence/custody-tool.js';
import { renderCustody } from '../../src/evidence/render.js';
import { verifyBundle } from '../../src/evidence/verify.js';
import { buildFixture, T0 } from './fixture.js';

const DIGEST = `sha256:${'d'.repeat(64)}`;

describe('the tool call in a chain of custody', () => {
  it('reads what a redemption presented: agent, server, tool, digest and constrained values', () => {
    expect(
      toolOf({
        agent: 'agent:ops-bot',
        server: 'orders-db',
        name: 'query',
        argumentsDigest: DIGEST,
        arguments: { table: 'orders' },
      }),
    ).toEqual({
      agent: 'agent:ops-bot',
      server: 'orders-db',
      name: 'query',
      argumentsDigest: DIGEST,
      arguments: '{"table":"orders"}',
    });
  });

  it('reads nothing from what is not an object, and null for missing members', () => {
    expect(toolOf('query')).toBeNull();
    expect(toolOf({ name: 7 })).toEqual({
      agent: null,
      server: null,
      name: null,
      argumentsDigest: null,
      arguments: null,
    });
  });

  it('writes argument constraints as set membership', () => {
    expect(
      constraintsText({
        resource: 'db/orders',
        constraints: { table: { in: ['invoices', 'orders'] }, limit: { in: [10] } },
      }),
    ).toBe('table ∈ {"invoices","orders"} and limit ∈ {10}');
    expect(constraintsText({ resource: 'db/orders' })).toBeNull();
  });

  it('renders the tool call a redemption made, escaping what the bundle says', async () => {
    const fx = await buildFixture({
      extra: (ids) => [
        {
          v: 1,
          type: 'redemption.allowed',
          at: new Date(Date.parse(T0) + 60_000).toISOString(),
          actor: 'mcp-gateway',
          links: { request: ids.requestId, warrant: ids.warrantId },
          data: {
            receipt: {
              use: 1,
              max_uses: 2,
              executor: 'mcp-gateway',
              action: {
                resource: 'db/orders',
                permission: 'write',
                environment: 'prod',
                target: 'db-eu-1',
                tool: {
                  agent: 'agent:ops-bot',
                  server: 'orders-db',
                  name: 'query\u001b[31m',
                  argumentsDigest: DIGEST,
                },
              },
            },
          },
        },
      ],
    });
    const text = renderCustody(await verifyBundle(fx.text));
    expect(text).toContain(
      `calling query\\u001b[31m on orders-db for agent:ops-bot with arguments ${DIGEST}`,
    );
    expect(text).not.toContain('\u001b');
  });
});
