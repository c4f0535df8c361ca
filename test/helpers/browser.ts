import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's chromium, driven by playwright-core: no browser download, the same binary an
 * operator installs with apt. `.ci/run` installs it under CI; elsewhere the browser tests
 * skip with a clear message when it is absent, like the PostgreSQL ones.
 */
const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export const CHROMIUM_PATH: string | null =
  CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p)) ?? null;

export const BROWSER_UNAVAILABLE: string | null =
  CHROMIUM_PATH !== null || process.env.CI === 'true'
    ? null
    : 'Browser tests skipped: no chromium at /usr/bin/chromium (apt-get install chromium, or ' +
      'set CHROMIUM_PATH); under CI=true its absence fails the run';

if (BROWSER_UNAVAILABLE !== null) process.stderr.write(`${BROWSER_UNAVAILABLE}\n`);

export async function launchChromium(): Promise<Browser> {
  if (CHROMIUM_PATH === null) throw new Error('chromium is required under CI=true');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // The sandbox needs user namespaces, which CI containers running as root lack.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** A fresh browser profile (its own cookie jar) whose page errors fail the test. */
export async function newSession(
  browser: Browser,
  baseURL: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // A CSP refusal shows up only as a console error: count it as a defect.
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  return { context, page, errors };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. The engine is
 * evaluated through the DevTools protocol, which the page's CSP does not govern, so the
 * console's strict policy stays on while it is checked.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: {
        id: string;
        impact: string | null;
        help: string;
        nodes: { target: string[] }[];
      }[];
    }
    const r = await axe.run();
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.join(' ')),
      }));
  });
}
