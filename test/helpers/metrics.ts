import type { DevPrincipal, TestServer } from './server.js';

/** One line of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments skipped); throws on a line it cannot read. */
export function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const m = LINE.exec(l);
      if (!m) throw new Error(`not an exposition line: ${l}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(LABEL)].map((x) => [x[1], x[2]]));
      return { name: m[1] as string, labels, value: Number(m[3]) };
    });
}

/** The sum of the samples named `name` whose labels include `labels` (0 when none match). */
export function total(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Scrapes `GET /metrics` of a test server's API port as a dev principal; throws unless 200. */
export async function scrape(s: TestServer, as: DevPrincipal = 'audra'): Promise<Sample[]> {
  const r = await s.http('GET', '/metrics', { as });
  if (r.status !== 200) throw new Error(`scrape: ${r.status} ${r.text}`);
  return parseExposition(r.text);
}

/** The scrape URL of a server started with `metrics.listen`, as its log announced it. */
export function scrapePortUrl(s: TestServer): string {
  const m = /"url":"(http:\/\/[^"]+\/metrics)"[^\n]*metrics scrape port open/.exec(s.logs());
  if (!m) throw new Error(`no scrape port in the server's log:\n${s.logs()}`);
  return m[1] as string;
}
