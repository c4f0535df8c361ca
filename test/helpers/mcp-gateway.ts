import { spawn, type ChildProcess } from 'node:child_process';
import {
  Client,
  StreamableHTTPClientTransport,
  type JSONRPCNotification,
  type MessageExtraInfo,
} from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { stopProcess, waitForLine } from './mcp-upstream.js';
import { CLI } from './server.js';

/** The agent's side: the SDK's default (2025 `initialize`) or negotiated (2026-07-28). */
export type AgentEra = 'legacy' | 'modern';

/**
 * The SDK's client, recording every progress notification as it arrives. The SDK runs
 * `onprogress` a microtask late but settles a response at once, so under load (when
 * updates and the result arrive in one read) it drops updates the gateway did relay.
 */
export class AgentClient extends Client {
  readonly progress: Record<string, unknown>[] = [];

  protected override _onnotification(raw: JSONRPCNotification, extra?: MessageExtraInfo): void {
    if (raw.method === 'notifications/progress') this.progress.push({ ...raw.params });
    super._onnotification(raw, extra);
  }
}

function agent(era: AgentEra): AgentClient {
  return new AgentClient(
    { name: 'test-agent', version: '1.0.0' },
    { versionNegotiation: { mode: era === 'modern' ? 'auto' : 'legacy' } },
  );
}

/** An SDK client connected over stdio to a command (the gateway, or an upstream directly). */
export async function stdioAgent(
  era: AgentEra,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ client: AgentClient; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command,
    args,
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const client = agent(era);
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

/** An SDK client connected over Streamable HTTP. */
export async function httpAgent(era: AgentEra, url: string): Promise<AgentClient> {
  const client = agent(era);
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** `countersign mcp-gateway` as an agent's host runs it over stdio: the arguments. */
export function gatewayArgs(...args: string[]): string[] {
  return [CLI, 'mcp-gateway', ...args];
}

/** `countersign mcp-gateway --listen 127.0.0.1:0 …` in its own process. */
export class HttpGateway {
  private constructor(
    readonly proc: ChildProcess,
    /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
    readonly url: string,
    private readonly output: () => string,
  ) {}

  static async start(...args: string[]): Promise<HttpGateway> {
    return HttpGateway.startWith({}, ...args);
  }

  /** As `start`, with these variables (e.g. COUNTERSIGN_TOKEN) in the gateway's environment. */
  static async startWith(env: Record<string, string>, ...args: string[]): Promise<HttpGateway> {
    const proc = spawn(process.execPath, gatewayArgs('--listen', '127.0.0.1:0', ...args), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let output = '';
    proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const url = await waitForLine(proc, /listening on (http:\/\/\S+)/);
    return new HttpGateway(proc, url, () => output);
  }

  /** Everything the gateway wrote to stderr so far. */
  logs(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc);
  }
}

/** A JSON-RPC answer read off a raw connection. */
export interface RawAnswer {
  readonly id?: string | number | null;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: number; readonly message: string };
}

/**
 * The gateway over stdio without an SDK client, for what an SDK client would never
 * send: raw lines in, one parsed answer per line out.
 */
export class RawStdioGateway {
  readonly #answers: RawAnswer[] = [];
  readonly #waiting: ((a: RawAnswer) => void)[] = [];

  private constructor(readonly proc: ChildProcess) {
    let pending = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      for (let at = pending.indexOf('\n'); at !== -1; at = pending.indexOf('\n')) {
        const answer = JSON.parse(pending.slice(0, at)) as RawAnswer;
        pending = pending.slice(at + 1);
        const waiter = this.#waiting.shift();
        if (waiter) waiter(answer);
        else this.#answers.push(answer);
      }
    });
  }

  static start(...args: string[]): RawStdioGateway {
    return new RawStdioGateway(
      spawn(process.execPath, gatewayArgs(...args), { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
  }

  write(text: string | Buffer): void {
    this.proc.stdin?.write(text);
  }

  /** The next answer the gateway wrote. */
  next(): Promise<RawAnswer> {
    const ready = this.#answers.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Sends one request and waits for its answer (notifications in between are skipped). */
  async request(id: number, method: string, params: unknown = {}): Promise<RawAnswer> {
    this.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    for (;;) {
      const answer = await this.next();
      if (answer.id === id) return answer;
    }
  }

  async stop(): Promise<void> {
    await stopProcess(this.proc);
  }
}
