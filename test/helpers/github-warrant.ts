import { expect } from 'vitest';
import { uniqueNhi } from './chain.js';
import { requestCreateArgs } from './cli-args.js';
import type { FederatedServer } from './federated.js';

export interface GithubWarrantOptions {
  readonly maxUses?: number;
  readonly targets?: readonly string[];
  readonly owner?: string;
  /** The glob the job's ref must match; default `refs/heads/*`. */
  readonly ref?: string;
}

/**
 * A prod warrant created through the CLI and approved by bob and carol, whose executor is
 * a claim matcher on GitHub Actions jobs of acme/deploy, environment prod, any branch.
 */
export async function githubBoundWarrant(
  f: FederatedServer,
  o: GithubWarrantOptions = {},
): Promise<{ requestId: string; warrant: string }> {
  const s = f.server;
  const subject = uniqueNhi('svc');
  await s.cli(
    ['nhi', 'add', '--id', subject, '--kind', 'service_account', '--owner', o.owner ?? 'team-data'],
    'admin',
  );
  const created = await s.cli(
    requestCreateArgs(subject, {
      env: 'prod',
      ...(o.targets === undefined ? {} : { target: [...o.targets] }),
      'max-uses': String(o.maxUses ?? 3),
      reason: 'deploy',
      executor: undefined,
      'executor-issuer': f.github.issuer,
      'executor-claim': [
        'repository=acme/deploy',
        'environment=prod',
        `ref~=${o.ref ?? 'refs/heads/*'}`,
      ],
    }),
    'alice',
  );
  expect(created.code, created.stderr).toBe(0);
  const requestId = created.stdout.trim();
  for (const who of ['bob', 'carol'] as const) {
    expect((await s.cli(['approve', requestId], who)).code).toBe(0);
  }
  const w = await s.cli(['warrant', requestId], 'deploy-eu');
  expect(w.code, w.stderr).toBe(0);
  return { requestId, warrant: w.stdout.trim() };
}
