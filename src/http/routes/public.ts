import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseDuration } from '../../core/duration.js';
import { problem, STATUS } from '../problem.js';
import { ClockBody } from '../schemas.js';
import type { RoutesOptions } from './options.js';

/** How long a readiness probe waits for the database before answering 503. */
const READY_TIMEOUT_MS = 2000;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error('timed out')), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export const publicRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (
  app,
  { ctx, devClock },
) => {
  app.get('/.well-known/jwks.json', { schema: { tags: ['keys'] } }, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=60').send(ctx.keys().jwks()),
  );

  // Liveness: the process answers. It never touches the database, so a database outage
  // does not get every node restarted.
  app.get('/healthz', { schema: { tags: ['health'] } }, async () => ({
    status: 'ok',
  }));

  // Readiness: the database answers a `select 1` in time. A load balancer takes a node
  // that cannot reach it out of rotation (503 NOT_READY) until it can again.
  app.get('/readyz', { schema: { tags: ['health'] } }, async (req, reply) => {
    try {
      await withTimeout(ctx.store.ping(), READY_TIMEOUT_MS);
      return { status: 'ready' };
    } catch {
      return reply
        .code(STATUS.NOT_READY)
        .type('application/problem+json')
        .send(problem('NOT_READY', 'the database is unreachable', req.url.split('?')[0]));
    }
  });

  if (devClock) {
    // Dev mode only: end-to-end tests move the server's clock instead of sleeping.
    app.post('/v1/dev/clock', { schema: { body: ClockBody, hide: true } }, async (req) => {
      devClock.advance(parseDuration(req.body.advance));
      return { now: devClock.now().toISOString(), offsetMs: devClock.offsetMs };
    });
  }
};
