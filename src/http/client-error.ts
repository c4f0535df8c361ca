import type { Socket } from 'node:net';
import { problem, type ErrorCode } from './problem.js';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (headers over
 * the limit, malformed request lines, a client too slow to send its headers) as a
 * problem document too, instead of Fastify's default `application/json` body. The
 * socket is closed afterwards: the parser cannot tell where the next request starts.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'HEADERS_TOO_LARGE'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'REQUEST_TIMEOUT'
        : 'MALFORMED_HTTP';
  const doc = problem(code, 'the HTTP request could not be read; the connection is closed');
  const body = JSON.stringify(doc);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${doc.status} ${REASONS[doc.status] ?? 'Client Error'}\r\n` +
        `Content-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
