import { readFileSync } from 'node:fs';
import { issueWarrant, type ChainOptions } from '../helpers/chain.js';
import type { TestServer } from '../helpers/server.js';

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface IssuedWarrant {
  readonly warrantId: string;
  readonly token: string;
  readonly maxUses: number;
}

/** Issues `count` staging warrants for deploy-eu, with maxUses cycling through 1..5. */
export function issueMany(
  s: TestServer,
  count: number,
  o: ChainOptions = {},
): Promise<IssuedWarrant[]> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => (i % 5) + 1),
    32,
    async (maxUses) => {
      const w = await issueWarrant(s, { ...o, maxUses });
      return { warrantId: w.warrantId, token: w.token, maxUses };
    },
  );
}

/** The redemption body every fault test sends: the default staging scope of `issueWarrant`. */
export function redemptionBody(token: string): Record<string, unknown> {
  return {
    warrant: token,
    action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
  };
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Resolves once the server process has exited (after a SIGKILL, for example). */
export function exited(s: TestServer): Promise<void> {
  return new Promise((ok) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) ok();
    else s.proc.once('exit', () => ok());
  });
}

/** Compact JWS shape: any warrant, receipt or ID token printed whole. */
const JWS = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{20,}/;
/** A private JWK's `d`, in any quoting. */
const PRIVATE_D = /\\?"d\\?"\s*:\s*\\?"[\w-]{20,}/;

/**
 * Every `what in where` for a named secret found in a named text, plus any compact JWS
 * or private JWK `d` printed whole.
 */
export function leaksIn(
  secrets: ReadonlyArray<readonly [string, string]>,
  haystacks: ReadonlyArray<readonly [string, string]>,
): string[] {
  const leaks: string[] = [];
  for (const [where, text] of haystacks) {
    for (const [what, value] of secrets)
      if (text.includes(value)) leaks.push(`${what} in ${where}`);
    if (JWS.test(text)) leaks.push(`a compact JWS in ${where}`);
    if (PRIVATE_D.test(text)) leaks.push(`a private JWK "d" in ${where}`);
  }
  return leaks;
}
