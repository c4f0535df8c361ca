import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isCountersignError } from '../core/errors.js';
import { bearerChallenge } from './challenge.js';
import { redactedPath, redactedText } from './log-redact.js';
import { isErrorCode, problem, STATUS, type ErrorCode, type Problem } from './problem.js';

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_JSON',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

/** The code of a 4xx that comes with a status alone; any other 4xx is a 400 `VALIDATION_FAILED`. */
const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/** The problem document an error is answered with, and whether it is the server's fault. */
export interface Answer {
  readonly problem: Problem;
  /** A `WWW-Authenticate` challenge for a 401, or null. */
  readonly challenge: string | null;
  /** Set when the failure is the server's: its type and message, for the log only. */
  readonly failure: { readonly type: string; readonly message: string } | null;
}

/**
 * Maps any error to its RFC 9457 answer: a CountersignError keeps its code, Fastify's
 * own refusals get theirs from {@link FASTIFY_CODES}, another 4xx the code of its status
 * ({@link BY_STATUS}) or a 400 `VALIDATION_FAILED`, and anything else is `INTERNAL` with nothing of it shown.
 */
export function answerFor(err: FastifyError, instance: string | undefined): Answer {
  if (isCountersignError(err) && isErrorCode(err.code)) {
    return {
      problem: problem(err.code, err.message, instance, err.details),
      challenge: bearerChallenge(err.code, err.details),
      failure: STATUS[err.code] >= 500 ? { type: err.code, message: err.message } : null,
    };
  }
  const mapped = err.validation ? 'VALIDATION_FAILED' : FASTIFY_CODES[err.code];
  if (mapped) {
    const detail = err.validation
      ? `${err.validationContext ?? 'input'}: ${err.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? ''}`).join('; ')}`
      : err.message;
    return { problem: problem(mapped, detail, instance), challenge: null, failure: null };
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    // A plugin's own refusal (the static files' 403 for a path out of their root): the code
    // its status has in the table, so that a code always comes with its one status.
    const code = BY_STATUS[err.statusCode] ?? 'VALIDATION_FAILED';
    return {
      problem: problem(code, 'the request could not be processed', instance),
      challenge: null,
      failure: null,
    };
  }
  return {
    problem: problem('INTERNAL', 'internal error', instance),
    challenge: null,
    failure: { type: err.name, message: err.message },
  };
}

/** The path of a request without its query, as a problem's `instance`. */
export const instanceOf = (req: FastifyRequest): string => redactedPath(req.url);

/** Sends an answer, logging a server-side failure by its type and message only. */
export function sendAnswer(
  answer: Answer,
  req: FastifyRequest,
  reply: FastifyReply,
  err?: { readonly code?: unknown },
): FastifyReply {
  if (answer.failure) {
    // Never the request body or its tokens.
    req.log.error(
      {
        code: answer.problem.code,
        err: { ...answer.failure, message: redactedText(answer.failure.message), code: err?.code },
      },
      answer.problem.code === 'INTERNAL' ? 'unhandled error' : 'server-side failure',
    );
  }
  if (answer.challenge !== null) void reply.header('www-authenticate', answer.challenge);
  return reply.code(answer.problem.status).type('application/problem+json').send(answer.problem);
}

/** The application's error handler: every error becomes a problem document. */
export function answerError(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  return sendAnswer(answerFor(err, instanceOf(req)), req, reply, err);
}
