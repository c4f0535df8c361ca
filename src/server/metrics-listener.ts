import Fastify from 'fastify';
import type { ServerMetrics } from '../http/metrics/registry.js';
import { scrapeHandler } from '../http/metrics/route.js';
import { redactedPath } from '../http/log-redact.js';
import { problem } from '../http/problem.js';

/** A listening scrape port. */
export interface ScrapeListener {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The scrape port of `metrics.listen`: `GET /metrics` without credentials, for a
 * Prometheus that holds no token, and nothing else (404 for every other path). It is a
 * server of its own, so the API's routes, auth and body parsing are never reachable on it;
 * bind it where only the scraper can reach it.
 */
export async function listenForScrapes(
  metrics: ServerMetrics,
  at: { readonly host: string; readonly port: number },
): Promise<ScrapeListener> {
  const app = Fastify({ logger: false });
  app.get('/metrics', scrapeHandler(metrics));
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(problem('NOT_FOUND', 'no such route', redactedPath(req.url))),
  );
  try {
    const url = await app.listen(at);
    return { url, close: () => app.close() };
  } catch (e) {
    await app.close();
    throw e;
  }
}
