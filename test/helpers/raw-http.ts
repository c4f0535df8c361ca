import type { Agent } from 'node:http';
import { request as httpRequest } from 'node:http';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** The server closed the connection while the body was still being written. */
export const CLOSED_WHILE_SENDING = 0;

/**
 * One HTTP exchange whose path, headers and body bytes go out exactly as given (no
 * URL normalisation, no UTF-8 re-encoding of the body). A body is framed by its
 * Content-Length, so it is never read as the next request on a kept-alive socket.
 *
 * A server may answer an over-limit body at once and close the connection (Fastify sends
 * 413 with `Connection: close`); a client still writing the body then sees EPIPE or a
 * reset, often before it has read the answer. With `closedIsAnswer`, that outcome comes
 * back as status CLOSED_WHILE_SENDING instead of an error.
 */
export function sendRaw(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | Buffer | undefined,
  agent?: Agent,
  closedIsAnswer = false,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const framed =
    body === undefined
      ? headers
      : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((ok, fail) => {
    const req = httpRequest(
      { agent, hostname, port, method, path, headers: framed, timeout: 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          ok({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', fail);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (closedIsAnswer && (e.code === 'EPIPE' || e.code === 'ECONNRESET'))
        ok({ status: CLOSED_WHILE_SENDING, headers: {}, text: '' });
      else fail(e);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}
