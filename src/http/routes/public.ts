import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseDuration } from '../../core/duration.js';
import { ClockBody } from '../schemas.js';
import type { RoutesOptions } from './options.js';

export const publicRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (
  app,
  { ctx, devClock },
) => {
  app.get('/.well-known/jwks.json', { schema: { tags: ['keys'] } }, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=60').send(ctx.keys().jwks()),
  );

  app.get('/healthz', { schema: { tags: ['health'] } }, async () => ({
    status: 'ok',
  }));

  if (devClock) {
    // Dev mode only: end-to-end tests move the server's clock instead of sleeping.
    app.post('/v1/dev/clock', { schema: { body: ClockBody, hide: true } }, async (req) => {
      devClock.advance(parseDuration(req.body.advance));
      return { now: devClock.now().toISOString(), offsetMs: devClock.offsetMs };
    });
  }
};
