import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseDuration } from '../../core/duration.js';
import type { PrincipalId } from '../../core/ids.js';
import type { Static } from '@sinclair/typebox';
import type { RequestInput } from '../../request/build.js';
import { createRequest, previewRequest } from '../../service/create-request.js';
import { listRequestPage } from '../../service/request-list.js';
import { reviewRequest } from '../../service/review.js';
import { decide } from '../../service/decide.js';
import { getRequest, getWarrantForRequest } from '../../service/queries.js';
import { withdrawRequest } from '../../service/revoke.js';
import { exportEvidence } from '../../service/evidence.js';
import { principalOf } from '../auth.js';
import {
  CreateRequestBody,
  DecisionBody,
  ListRequestsQuery,
  ReasonBody,
  RequestIdParam,
} from '../schemas.js';
import { CountersignError } from '../../core/errors.js';
import type { CoreErrorCode } from '../../core/errors.js';
import type { RoutesOptions } from './options.js';

/** The service's input from a create (or preview) body. */
function requestInput(b: Static<typeof CreateRequestBody>): RequestInput {
  return {
    subject: b.subject,
    action: b.action,
    ...(b.tool ? { tool: b.tool } : {}),
    ...(b.connector ? { connector: b.connector } : {}),
    scope: b.scope,
    environment: b.environment,
    ...(b.targets ? { targets: b.targets } : {}),
    executor:
      'principal' in b.executor
        ? { kind: 'principal', principal: b.executor.principal as PrincipalId }
        : { kind: 'claims', matcher: b.executor },
    ...(b.notBefore ? { notBefore: b.notBefore } : {}),
    ...(b.notAfter ? { notAfter: b.notAfter } : {}),
    ...(b.duration ? { durationMs: parseDuration(b.duration) } : {}),
    ...(b.maxUses ? { maxUses: b.maxUses } : {}),
    reason: b.reason,
    ...(b.ticket ? { ticket: b.ticket } : {}),
  };
}

export const requestRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (
  app,
  { ctx, origin },
) => {
  app.post(
    '/v1/requests',
    { schema: { body: CreateRequestBody, tags: ['requests'] } },
    async (req, reply) => {
      const created = await createRequest(ctx, principalOf(req), requestInput(req.body));
      return reply.code(201).send(await getRequest(ctx, created.id));
    },
  );

  app.post(
    '/v1/requests/preview',
    { schema: { body: CreateRequestBody, tags: ['requests'] } },
    async (req) => previewRequest(ctx, principalOf(req), requestInput(req.body)),
  );

  app.get(
    '/v1/requests',
    { schema: { querystring: ListRequestsQuery, tags: ['requests'] } },
    async (req) => {
      const q = req.query;
      return listRequestPage(ctx, principalOf(req), {
        state: q.state,
        subject: q.subject,
        action: q.action,
        awaitingMe: q.awaiting === 'me',
        requestedByMe: q.requestedBy === 'me',
        order: q.order,
        cursor: q.cursor,
        limit: Number(q.limit ?? '100'),
      });
    },
  );

  app.get(
    '/v1/requests/:id/review',
    { schema: { params: RequestIdParam, tags: ['requests'] } },
    async (req) => reviewRequest(ctx, principalOf(req), req.params.id),
  );

  app.get(
    '/v1/requests/:id',
    { schema: { params: RequestIdParam, tags: ['requests'] } },
    async (req) => getRequest(ctx, req.params.id),
  );

  app.post(
    '/v1/requests/:id/decisions',
    {
      schema: { params: RequestIdParam, body: DecisionBody, tags: ['requests'] },
    },
    async (req, reply) => {
      const { decision, reason } = req.body;
      if (decision === 'deny' && !reason) {
        throw new CountersignError<CoreErrorCode>('VALIDATION_FAILED', 'a denial needs a reason');
      }
      const out = await decide(ctx, principalOf(req), req.params.id, decision, reason ?? '');
      return reply.code(201).send(out);
    },
  );

  app.post(
    '/v1/requests/:id/withdrawal',
    {
      schema: { params: RequestIdParam, body: ReasonBody, tags: ['requests'] },
    },
    async (req) => {
      await withdrawRequest(ctx, principalOf(req), req.params.id, req.body.reason);
      return getRequest(ctx, req.params.id);
    },
  );

  app.get(
    '/v1/requests/:id/warrant',
    {
      schema: { params: RequestIdParam, tags: ['warrants'] },
    },
    async (req) => getWarrantForRequest(ctx, req.params.id),
  );

  app.get(
    '/v1/requests/:id/evidence',
    {
      schema: { params: RequestIdParam, tags: ['evidence'] },
    },
    async (req) => exportEvidence(ctx, req.params.id, origin),
  );
};
