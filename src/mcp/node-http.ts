import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Node's `http` server in front of a web-standard `fetch` handler, which is the face the
 * MCP SDK's HTTP entry points have. The SDK's own bridge (`@modelcontextprotocol/node`)
 * is not a dependency; this is the part of it the gateway needs.
 */
export type FetchHandler = (request: Request) => Promise<Response>;

/** A listening HTTP server. */
export interface HttpListener {
  /** `http://host:port`, with the port the system chose when 0 was asked for. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The web-standard `Request` for a Node request. Its signal aborts when the client goes
 * away before the answer is complete: on the 2026-07-28 revision closing a request's
 * stream is how a client cancels it, so the SDK must see the disconnect.
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse, origin: string): Request {
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new Error('the client closed the connection'));
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : Readable.toWeb(req);
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    signal: gone.signal,
    ...(body === undefined ? {} : { body: body as ReadableStream<Uint8Array>, duplex: 'half' }),
  });
}

/** Writes a web-standard `Response` to Node, streaming its body (SSE answers stay open). */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resume) => {
          res.once('drain', resume);
          res.once('close', resume);
        });
      }
    }
  } finally {
    res.end();
  }
}

/**
 * Listens on `host:port` and answers every request with `handler`. A handler that throws
 * gets a bare 500: the SDK answers protocol errors itself, so this is a bug, and its
 * message stays out of the answer.
 */
export async function listenHttp(
  host: string,
  port: number,
  handler: FetchHandler,
  onError: (error: unknown) => void,
): Promise<HttpListener> {
  const server = createServer((req, res) => {
    const origin = `http://${req.headers.host ?? `${host}:${port}`}`;
    let request: Request;
    try {
      request = toWebRequest(req, res, origin);
    } catch (e) {
      // A Host header that makes no URL: nothing to route.
      onError(e);
      res.writeHead(400).end();
      return;
    }
    handler(request)
      .then((response) => sendWebResponse(res, response))
      .catch((e: unknown) => {
        onError(e);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ready();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        // Open SSE streams and idle keep-alive sockets would hold close() forever.
        server.closeAllConnections();
      }),
  };
}
