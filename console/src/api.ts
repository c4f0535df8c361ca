/**
 * The one way the console talks to the server: same-origin fetches with the session
 * cookie and the `X-Countersign-Console: 1` header the server's CSRF check requires
 * (docs: /work/notes/console-contract.md). No token is ever read or stored here.
 * Answers are typed from the server's own definitions, imported as types only.
 */
import type { Static } from '@sinclair/typebox';
import type { Decision } from '../../src/approval/decision.js';
import type { SessionView, SignInOptions } from '../../src/http/console/views.js';
import type { CreateRequestBody, DecisionBody } from '../../src/http/schemas.js';
import type { Nhi } from '../../src/nhi/nhi.js';
import type { Finding } from '../../src/reconcile/finding.js';
import type { RequestBody, RequestState } from '../../src/request/request.js';
import type { ExceptionView } from '../../src/service/exceptions.js';
import type { EvidenceBundle as ServerBundle } from '../../src/evidence/bundle.js';
import type { RiskFlag } from '../../src/request/risk.js';
import type { RequestPreview } from '../../src/service/create-request.js';
import type { FindingPage } from '../../src/service/findings.js';
import type { RequestListItem, RequestPage } from '../../src/service/request-list.js';
import type { RequestReview, ReviewedDecision } from '../../src/service/review.js';
import type { VerifierKeys } from '../../src/trust/trust-file.js';
import { ProblemError, toProblem } from './lib/problem.js';

export type { Decision, ExceptionView, Finding, RequestBody, RequestState, VerifierKeys };
export type CreateRequestInput = Static<typeof CreateRequestBody>;
export type DecisionInput = Static<typeof DecisionBody>;

export type AuthOptions = SignInOptions;
export type Session = SessionView;

export type InboxRow = RequestListItem;
export type { RequestPage, FindingPage, RiskFlag };
export type EligibleApprover = RequestReview['eligibleApprovers'][number];
export type ReviewDecision = ReviewedDecision;

/**
 * `GET /v1/requests/:id/review`, as the server types it, except that `body` (and the
 * previous request's) stays `unknown` on purpose: it is checked against the id in the
 * browser before anything reads it as a {@link RequestBody}.
 */
export type Review = Omit<RequestReview, 'body' | 'previous'> & {
  readonly body: unknown;
  readonly previous: { readonly id: string; readonly body: unknown } | null;
};

export type Preview = RequestPreview;

/** The bundle as the console reads it: the parts the timeline and inclusion checks use. */
export type EvidenceBundle = Pick<
  ServerBundle,
  'mediaType' | 'requestId' | 'checkpoint' | 'logVerifierKey' | 'warrant' | 'entries'
>;

export const CONSOLE_HEADER = { 'x-countersign-console': '1' } as const;

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: {
        ...CONSOLE_HEADER,
        accept: 'application/json, application/problem+json, text/plain',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new ProblemError(
      toProblem(0, { detail: err instanceof Error ? err.message : String(err) }),
    );
  }
  if (!res.ok) {
    let problem: unknown = null;
    try {
      problem = await res.json();
    } catch {
      /* not a JSON problem */
    }
    throw new ProblemError(toProblem(res.status, problem));
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await call('GET', path)).json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await call('GET', path)).text();
}

export async function send<T>(
  method: 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<T | null> {
  const res = await call(method, path, body ?? {});
  if (res.status === 204) return null;
  const text = await res.text();
  return text === '' ? null : (JSON.parse(text) as T);
}

/** A query string of the defined values only. */
export function qs(params: Readonly<Record<string, string | number | null | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}

export const api = {
  options: () => getJson<AuthOptions>('/auth/options'),
  session: () => getJson<Session>('/auth/session'),
  devSignIn: (principal: string) => send<null>('POST', '/auth/dev/sign-in', { principal }),
  signOut: () => send<null>('POST', '/auth/sign-out'),
  requests: (p: Readonly<Record<string, string | number | null | undefined>>) =>
    getJson<RequestPage>(`/v1/requests${qs(p)}`),
  nhi: (id: string) => getJson<Nhi>(`/v1/nhis/${encodeURIComponent(id)}`),
  review: (id: string) => getJson<Review>(`/v1/requests/${encodeURIComponent(id)}/review`),
  decide: (id: string, input: DecisionInput) =>
    send<unknown>('POST', `/v1/requests/${encodeURIComponent(id)}/decisions`, input),
  preview: (input: CreateRequestInput) => send<Preview>('POST', '/v1/requests/preview', input),
  create: (input: CreateRequestInput) => send<{ id: string }>('POST', '/v1/requests', input),
  evidence: (id: string) =>
    getJson<EvidenceBundle>(`/v1/requests/${encodeURIComponent(id)}/evidence`),
  findings: (p: Readonly<Record<string, string | number | null | undefined>>) =>
    getJson<FindingPage>(`/v1/findings${qs(p)}`),
  acknowledge: (id: string, reason: string) =>
    send<unknown>('POST', `/v1/findings/${encodeURIComponent(id)}/acknowledgement`, { reason }),
  exceptions: () => getJson<{ exceptions: readonly ExceptionView[] }>('/v1/reports/exceptions'),
  checkpoint: () => getText('/v1/log/checkpoint'),
  verifierKeys: () => getJson<VerifierKeys>('/v1/log/verifier-keys'),
  inclusionProof: (index: number, size: number) =>
    getJson<unknown>(`/v1/log/proof/inclusion${qs({ index, size })}`),
};
