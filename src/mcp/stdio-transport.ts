import type { Readable, Writable } from 'node:stream';
import {
  parseJSONRPCMessage,
  ProtocolErrorCode,
  type JSONRPCMessage,
  type Transport,
} from '@modelcontextprotocol/server';
import { DuplicateKeyError, parseMessageText } from './message-text.js';

/** 4 MiB, the SDK's bound on an HTTP request body, so both transports admit the same. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const NEWLINE = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The stdio binding (newline-delimited JSON-RPC on stdin and stdout) for the gateway's
 * downstream side. The SDK's `StdioServerTransport` drops a line it cannot parse without
 * a word and closes the connection on an over-long one; an agent's host then waits
 * forever, or loses the gateway. This one answers as JSON-RPC 2.0 §5.1 asks (-32700 for
 * text that is not JSON, -32600 for JSON that is not a message) and skips an over-long
 * line, answering -32600 for it, so one bad message costs one error and nothing else.
 */
export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Inside a line already over the limit: its bytes are dropped up to its newline. */
  #skipping = false;
  #closed = false;
  readonly #whenClosed: Promise<void>;
  #markClosed!: () => void;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
  ) {
    this.#whenClosed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  /** Resolves when the connection has closed (the host closed stdin, or `close()`). */
  get whenClosed(): Promise<void> {
    return this.#whenClosed;
  }

  async start(): Promise<void> {
    this.input.on('data', this.#ondata);
    this.input.on('end', this.#onend);
    this.input.on('close', this.#onend);
    this.input.on('error', this.#onerror);
    this.output.on('error', this.#onerror);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error('the stdio connection is closed');
    const line = JSON.stringify(message) + '\n';
    if (this.output.write(line)) return;
    await new Promise<void>((drained, failed) => {
      this.output.once('drain', drained);
      this.output.once('error', failed);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.input.off('data', this.#ondata);
    this.input.off('end', this.#onend);
    this.input.off('close', this.#onend);
    this.input.off('error', this.#onerror);
    this.input.pause();
    this.#chunks = [];
    this.onclose?.();
    this.#markClosed();
  }

  readonly #onend = (): void => void this.close();

  readonly #onerror = (error: Error): void => this.onerror?.(error);

  readonly #ondata = (chunk: Buffer): void => {
    let rest = chunk;
    for (let at = rest.indexOf(NEWLINE); at !== -1; at = rest.indexOf(NEWLINE)) {
      const tail = rest.subarray(0, at);
      rest = rest.subarray(at + 1);
      if (this.#skipping) {
        this.#skipping = false;
        this.#reject(ProtocolErrorCode.InvalidRequest, this.#tooLarge());
        continue;
      }
      if (this.#buffered + tail.length > this.maxMessageBytes) {
        this.#drop();
        this.#reject(ProtocolErrorCode.InvalidRequest, this.#tooLarge());
        continue;
      }
      const line = Buffer.concat([...this.#chunks, tail]);
      this.#drop();
      this.#deliver(line);
    }
    if (this.#skipping) return;
    if (this.#buffered + rest.length > this.maxMessageBytes) {
      this.#drop();
      this.#skipping = true;
      return;
    }
    if (rest.length > 0) {
      this.#chunks.push(rest);
      this.#buffered += rest.length;
    }
  };

  #drop(): void {
    this.#chunks = [];
    this.#buffered = 0;
  }

  #tooLarge(): string {
    return `Invalid Request: a message is at most ${this.maxMessageBytes} bytes`;
  }

  #deliver(line: Buffer): void {
    let text: string;
    let value: unknown;
    try {
      text = utf8.decode(line);
      if (text.trim() === '') return;
      value = parseMessageText(text);
    } catch (e) {
      const message = e instanceof DuplicateKeyError ? e.message : 'Parse error';
      this.#reject(ProtocolErrorCode.ParseError, message);
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      this.#reject(ProtocolErrorCode.InvalidRequest, 'Invalid Request', idOf(value));
      return;
    }
    this.onmessage?.(message);
  }

  #reject(code: number, message: string, id: string | number | null = null): void {
    const answer = { jsonrpc: '2.0', id, error: { code, message } };
    // The SDK's message type has no error with a null id, which JSON-RPC requires here.
    this.send(answer as unknown as JSONRPCMessage).catch((e: unknown) =>
      this.onerror?.(e as Error),
    );
  }
}

/** The id of a request that failed validation, when it has a usable one (§5: else null). */
function idOf(value: unknown): string | number | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}
