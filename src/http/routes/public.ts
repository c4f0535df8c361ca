import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseDuration } from '../../core/duration.js';
import { brokerReadiness } from '../../service/connector-observe.js';
import { problem, STATUS } from '../problem.js';
import { CountersignError, type CoreErrorCode } from '../../core/errors.js';
import { instantOf } from '../instant.js';
import { ClockBody } from '../schemas.js';
import { redactedPath } from '../log-redact.js';
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
  { ctx, devClock, readiness },
) => {
  app.get('/.well-known/jwks.json', { schema: { tags: ['keys'] } }, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=60').send(ctx.keys().jwks()),
  );

  // Liveness: the process answers. It never touches the database, so a database outage
  // does not get every node restarted.
  app.get('/healthz', { schema: { tags: ['health'] } }, async () => ({
    status: 'ok',
  }));

  // Readiness: the database answers a `select 1` in time, and the log keeps up (no event
  // waits longer than the bound outside a signed checkpoint). A load balancer takes a
  // node that fails either out of rotation (503 NOT_READY) until it recovers.
  app.get('/readyz', { schema: { tags: ['health'] } }, async (req, reply) => {
    const notReady = (detail: string) =>
      reply
        .code(STATUS.NOT_READY)
        .type('application/problem+json')
        .send(problem('NOT_READY', detail, redactedPath(req.url)));
    try {
      await withTimeout(ctx.store.ping(), READY_TIMEOUT_MS);
    } catch {
      return notReady('the database is unreachable');
    }
    const stalled = readiness ? await readiness() : null;
    if (stalled !== null) return notReady(stalled);
    const broker = await brokerReadiness(ctx);
    return broker === null ? { status: 'ready' } : { status: 'ready', broker };
  });

  if (devClock) {
    // Dev mode only: end-to-end tests move the server's clock instead of sleeping.
    app.post('/v1/dev/clock', { schema: { body: ClockBody, hide: true } }, async (req) => {
      // Checked before it moves: an instant no Date can hold would break every later call.
      const to =
        'advance' in req.body
          ? new Date(devClock.now().getTime() + parseDuration(req.body.advance))
          : instantOf(req.body.to, 'to');
      if (Number.isNaN(to.getTime()) || to.getUTCFullYear() > 9999) {
        throw new CountersignError<CoreErrorCode>(
          'VALIDATION_FAILED',
          'the clock would move beyond the year 9999',
        );
      }
      devClock.set(to);
      return { now: devClock.now().toISOString(), offsetMs: devClock.offsetMs };
    });
  }
};
