import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineTransport } from '../../src/mcp/stdio-transport.js';

/** A transport over in-memory pipes: what it delivers, and the lines it writes back. */
class Pipe {
  readonly input = new PassThrough();
  readonly output = new PassThrough();
  readonly delivered: JSONRPCMessage[] = [];
  readonly transport: LineTransport;
  #written = '';

  constructor(maxMessageBytes?: number) {
    this.transport = new LineTransport(this.input, this.output, maxMessageBytes);
    this.transport.onmessage = (m) => this.delivered.push(m);
    this.output.on('data', (c: Buffer) => (this.#written += c.toString()));
  }

  /** The answers written so far, parsed. */
  answers(): unknown[] {
    return this.#written
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown);
  }

  /** Lets queued stream events run. */
  async settle(): Promise<void> {
    await new Promise((done) => setImmediate(done));
  }
}

const PING = '{"jsonrpc":"2.0","id":1,"method":"ping"}';

describe('LineTransport', () => {
  let pipe: Pipe;
  beforeEach(async () => {
    pipe = new Pipe(64);
    await pipe.transport.start();
  });
  afterEach(() => pipe.transport.close());

  describe('when messages arrive whole, split or several to a chunk', () => {
    it('delivers each message once, in order', async () => {
      pipe.input.write(PING.slice(0, 10));
      pipe.input.write(
        PING.slice(10) + '\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n',
      );
      pipe.input.write('\r\n' + PING.replace('1', '2') + '\n');
      await pipe.settle();
      expect(
        pipe.delivered.map((m) => ('id' in m ? m.id : 'method' in m ? m.method : '?')),
      ).toEqual([1, 'notifications/initialized', 2]);
      expect(pipe.answers()).toEqual([]);
    });
  });

  describe('when a line is not a message', () => {
    it('answers a parse error or an invalid request, and delivers the next line', async () => {
      pipe.input.write('nope\n{"id":"x","jsonrpc":"2.0"}\n{"id":1.5}\n' + PING + '\n');
      await pipe.settle();
      expect(pipe.answers()).toEqual([
        { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } },
        { jsonrpc: '2.0', id: 'x', error: { code: -32600, message: 'Invalid Request' } },
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } },
      ]);
      expect(pipe.delivered).toHaveLength(1);
    });
  });

  describe('when a line is longer than the limit', () => {
    it('answers once, drops the whole line, and delivers the next', async () => {
      pipe.input.write('x'.repeat(50));
      pipe.input.write('y'.repeat(50));
      pipe.input.write('z'.repeat(50) + '\n' + PING + '\n');
      await pipe.settle();
      expect(pipe.answers()).toEqual([
        {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32600, message: 'Invalid Request: a message is at most 64 bytes' },
        },
      ]);
      expect(pipe.delivered).toHaveLength(1);
    });
  });

  describe('when the host closes stdin', () => {
    it('closes, once', async () => {
      let closes = 0;
      pipe.transport.onclose = () => (closes += 1);
      pipe.input.end();
      await pipe.transport.whenClosed;
      await pipe.transport.close();
      expect(closes).toBe(1);
    });
  });
});
