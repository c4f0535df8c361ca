import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerMetrics } from './registry.js';

/** Answers a scrape: the exposition, never cached on the way. */
export function scrapeHandler(metrics: ServerMetrics) {
  return async (_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { contentType, text } = await metrics.exposition();
    return reply.type(contentType).header('cache-control', 'no-store').send(text);
  };
}

/**
 * `GET /metrics` on the API port, for the roles its row of the authorization matrix
 * grants. Kept out of the OpenAPI document: it answers Prometheus text, not the API's JSON.
 */
export const metricsRoutes: FastifyPluginAsync<{ readonly metrics: ServerMetrics }> = async (
  app,
  { metrics },
) => {
  app.get('/metrics', { schema: { hide: true } }, scrapeHandler(metrics));
};
