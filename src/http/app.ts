import swagger from '@fastify/swagger';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { isCountersignError } from '../core/errors.js';
import { parseStrictJson } from '../core/json.js';
import type { OffsetClock } from '../core/clock.js';
import type { Authenticator } from '../identity/principal.js';
import type { ServiceContext } from '../service/context.js';
import { installAuth } from './auth.js';
import { bearerChallenge } from './challenge.js';
import { answerClientError } from './client-error.js';
import { isErrorCode, problem, STATUS, type ErrorCode } from './problem.js';
import { chainRoutes } from './routes/chain.js';
import { keyRoutes } from './routes/keys.js';
import { logRoutes } from './routes/log.js';
import { reconcileRoutes } from './routes/reconcile.js';
import { installLoadShedding, type LoadLimits } from './shed.js';
import { redactedRequest } from './log-redact.js';
import { publicRoutes } from './routes/public.js';
import { requestRoutes } from './routes/requests.js';

export interface AppOptions {
  readonly ctx: ServiceContext;
  readonly authenticator: Authenticator;
  readonly logger?: boolean | { level: string };
  readonly bodyLimit?: number;
  readonly devClock?: OffsetClock;
  readonly origin: string;
  readonly flushLog: () => Promise<void>;
  /** Why the node is not ready beyond its database (a stalled log), or null when it is. */
  readonly readiness?: () => Promise<string | null>;
  /** Load-shedding limits; unset fields take the defaults in `shed.ts`. */
  readonly loadLimits?: Partial<LoadLimits>;
}

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_JSON',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
};

/** Builds the Fastify application: strict JSON in, RFC 9457 problems out. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      opts.logger === false
        ? false
        : {
            level: typeof opts.logger === 'object' ? opts.logger.level : 'info',
            redact: {
              paths: ['req.headers.authorization', 'req.headers.cookie'],
              censor: '[redacted]',
            },
            serializers: { req: redactedRequest },
          },
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    return503OnClosing: true,
    clientErrorHandler: answerClientError,
    // Errors raised by the router itself (an undecodable path such as `%C0%AF`) bypass the
    // error handler; answer them as problems too, without echoing the path.
    frameworkErrors: (_err, _req, reply) => {
      void (reply as FastifyReply)
        .code(400)
        .type('application/problem+json')
        .send(problem('VALIDATION_FAILED', 'the request path is not a valid URL'));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // First hook of all: an overloaded server refuses before reading or changing state.
  installLoadShedding(app, opts.loadLimits ?? {});
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseStrictJson(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const instance = req.url.split('?')[0];
    if (isCountersignError(err) && isErrorCode(err.code)) {
      if (STATUS[err.code] >= 500)
        req.log.error({ code: err.code, err: { message: err.message } }, 'server-side failure');
      const challenge = bearerChallenge(err.code, err.details);
      if (challenge !== null) void reply.header('www-authenticate', challenge);
      return reply
        .code(STATUS[err.code])
        .type('application/problem+json')
        .send(problem(err.code, err.message, instance, err.details));
    }
    const mapped = err.validation ? 'VALIDATION_FAILED' : FASTIFY_CODES[err.code];
    if (mapped) {
      const detail = err.validation
        ? `${err.validationContext ?? 'input'}: ${err.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? ''}`).join('; ')}`
        : err.message;
      return reply
        .code(STATUS[mapped])
        .type('application/problem+json')
        .send(problem(mapped, detail, instance));
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return reply
        .code(err.statusCode)
        .type('application/problem+json')
        .send(problem('VALIDATION_FAILED', 'the request could not be processed', instance));
    }
    // Log the failure's type and message only: never the request body or its tokens.
    req.log.error(
      { err: { type: err.name, message: err.message, code: err.code } },
      'unhandled error',
    );
    return reply
      .code(500)
      .type('application/problem+json')
      .send(problem('INTERNAL', 'internal error', instance));
  });

  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(problem('NOT_FOUND', 'no such route', req.url.split('?')[0])),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'countersign',
        version: '0.1.0',
        description: 'Approval integrity for non-human identities.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  installAuth(app, opts.authenticator);
  const routeOpts = {
    ctx: opts.ctx,
    origin: opts.origin,
    flushLog: opts.flushLog,
    ...(opts.readiness ? { readiness: opts.readiness } : {}),
    ...(opts.devClock ? { devClock: opts.devClock } : {}),
  };
  await app.register(publicRoutes, routeOpts);
  await app.register(chainRoutes, routeOpts);
  await app.register(requestRoutes, routeOpts);
  await app.register(logRoutes, routeOpts);
  await app.register(keyRoutes, routeOpts);
  await app.register(reconcileRoutes, routeOpts);
  app.get('/openapi.json', { schema: { hide: true }, config: { roles: 'public' } }, () =>
    app.swagger(),
  );
  return app;
}
