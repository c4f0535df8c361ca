import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * The methods the app's routes take at a concrete path, so that a path the API has but
 * a method it does not take is told apart from a path it does not have: RFC 9110
 * §15.5.6 answers the first with 405 and an `Allow` header. Collected as routes are
 * added (call before registering them).
 */
export function routeMethods(app: FastifyInstance): (path: string) => readonly string[] {
  const routes: { readonly pattern: RegExp; readonly methods: Set<string> }[] = [];
  const byUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route: RouteOptions) => {
    let methods = byUrl.get(route.url);
    if (methods === undefined) {
      methods = new Set();
      byUrl.set(route.url, methods);
      routes.push({ pattern: patternOf(route.url), methods });
    }
    for (const m of [route.method].flat()) methods.add(m);
  });
  return (path) => {
    const allowed = new Set<string>();
    for (const r of routes) if (r.pattern.test(path)) r.methods.forEach((m) => allowed.add(m));
    if (allowed.has('GET')) allowed.add('HEAD');
    return [...allowed].sort();
  };
}

/** `/v1/requests/:id/decisions` as a pattern over raw paths; `*` takes the rest. */
function patternOf(url: string): RegExp {
  const segments = url.split('/').map((s) => {
    if (s === '*') return '.*';
    if (s.includes(':')) return '[^/]+';
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}
