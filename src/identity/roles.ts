/** What a principal may do; the HTTP edge's one table (`ROUTE_ROLES`) grants routes by role. */
export const ROLES = ['requester', 'approver', 'executor', 'observer', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];
