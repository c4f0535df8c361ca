/**
 * Which state-changing controls a role is shown: a copy of the rows of the server's
 * role matrix (src/http/authz.ts ROUTE_ROLES) the console calls, checked against it
 * by the compiler (`satisfies`), so a change there fails the typecheck here until the
 * copy follows. The server still decides; this only hides buttons a role cannot use.
 */
import type { ROUTE_ROLES } from '../../../src/http/authz.js';

type Matrix = typeof ROUTE_ROLES;
type Used =
  | 'POST /v1/requests'
  | 'POST /v1/requests/:id/decisions'
  | 'POST /v1/requests/:id/withdrawal'
  | 'GET /v1/requests/:id/evidence'
  | 'GET /v1/findings'
  | 'POST /v1/findings/:id/acknowledgement'
  | 'GET /v1/reports/exceptions';

/** Each row must equal the server's, element for element. */
type Exact<T> = {
  readonly [K in keyof T]: T[K] extends readonly string[] ? readonly [...T[K]] : T[K];
};

export const GRANTS = {
  'POST /v1/requests': ['requester'],
  'POST /v1/requests/:id/decisions': ['approver'],
  'POST /v1/requests/:id/withdrawal': ['requester'],
  'GET /v1/requests/:id/evidence': ['requester', 'approver', 'auditor', 'admin'],
  'GET /v1/findings': ['requester', 'approver', 'auditor', 'admin'],
  'POST /v1/findings/:id/acknowledgement': ['admin'],
  'GET /v1/reports/exceptions': ['auditor', 'admin'],
} as const satisfies Exact<Pick<Matrix, Used>>;

export type Action = keyof typeof GRANTS;

/** Whether any of `roles` is granted `action`. */
export function may(roles: readonly string[], action: Action): boolean {
  const grant: readonly string[] = GRANTS[action];
  return roles.some((r) => grant.includes(r));
}
