import type { TestServer } from './server.js';

export type Fact =
  | { kind: 'secret_version'; fingerprint: string }
  | { kind: 'grant'; resource: string; permission: string; present: boolean };

export const secretVersion = (fingerprint: string): Fact => ({
  kind: 'secret_version',
  fingerprint,
});

export const grantFact = (resource: string, permission: string, present: boolean): Fact => ({
  kind: 'grant',
  resource,
  permission,
  present,
});

/** Observations that a collector saw `fact` on each of `targets` of `subject` at `observedAt`. */
export const sightings = (
  subject: string,
  targets: readonly string[],
  fact: Fact,
  observedAt: string,
) => targets.map((target) => ({ subject, target, observedAt, fact }));

/** Moves the server's clock on by `advance` and returns the new time, as an ISO string. */
export const later = async (s: TestServer, advance = '1s'): Promise<string> =>
  (await s.advanceClock(advance)).toISOString();

export async function observe(
  s: TestServer,
  observations: Array<{
    subject: string;
    target: string;
    observedAt: string;
    fact: Record<string, unknown>;
  }>,
) {
  return s.http('POST', '/v1/observations', {
    as: 'collector',
    body: { observations },
  });
}
