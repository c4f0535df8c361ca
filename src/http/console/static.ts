import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { redactedPath } from '../log-redact.js';
import { problem } from '../problem.js';

/** The console's client-side routes: each answers index.html and the console routes it. */
export const SPA_ROUTES = [
  '/',
  '/inbox',
  '/sign-in',
  '/requests/new',
  '/requests/:id',
  '/requests/:id/timeline',
  '/findings',
  '/exceptions',
  '/log',
] as const;

/**
 * `<package root>/dist/console`, the package root being the nearest folder above this
 * module whose package.json is countersign's: the same from `src/` under the tests and
 * from `dist/` once built or installed.
 */
export function defaultConsoleDir(from: string = fileURLToPath(import.meta.url)): string | null {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
        if (name === 'countersign') return join(dir, 'dist', 'console');
      } catch {
        // Not ours or unreadable: keep climbing.
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

function notBuilt(reply: FastifyReply, url: string): FastifyReply {
  return reply
    .code(404)
    .type('application/problem+json')
    .send(
      problem(
        'CONSOLE_NOT_BUILT',
        'the console is not built: run `npm run build`',
        redactedPath(url),
      ),
    );
}

/**
 * Serves the built console: hashed assets cached for a year (`immutable`, their names
 * change with their content), and index.html for every client-side route, never
 * cached, so a new build is picked up on the next load. Without a build, those routes
 * answer the problem `CONSOLE_NOT_BUILT` and the API works as before.
 */
export async function installConsoleFiles(app: FastifyInstance, dir: string | null): Promise<void> {
  const built = dir !== null && existsSync(join(dir, 'index.html'));
  if (built) {
    // Its own scope, so a missing asset says so instead of "no such route": the route
    // exists, the file does not (an old page asking for a replaced build's asset).
    await app.register(
      async (assets) => {
        assets.setNotFoundHandler((req, reply) =>
          reply
            .code(404)
            .type('application/problem+json')
            .send(problem('NOT_FOUND', 'no such console file', redactedPath(req.url))),
        );
        await assets.register(fastifyStatic, {
          root: join(dir, 'assets'),
          prefix: '/',
          maxAge: '365d',
          immutable: true,
          index: false,
          decorateReply: false,
        });
      },
      { prefix: '/assets' },
    );
    // reply.sendFile for index.html on the client-side routes; serves nothing itself.
    await app.register(fastifyStatic, { root: dir, serve: false, decorateReply: true });
  } else {
    app.get('/assets/*', { schema: { hide: true } }, (req, reply) => notBuilt(reply, req.url));
  }
  for (const route of SPA_ROUTES) {
    app.get(route, { schema: { hide: true } }, (req, reply) =>
      built
        ? reply.header('cache-control', 'no-cache').sendFile('index.html', dir, {
            cacheControl: false,
          })
        : notBuilt(reply, req.url),
    );
  }
}
