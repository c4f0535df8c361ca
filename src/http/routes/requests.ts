import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseDuration } from '../../core/duration.js';
import type { PrincipalId } from '../../core/ids.js';
import { createRequest } from '../../service/create-request.js';
import { decide } from '../../service/decide.js';
import { getRequest, getWarrantForRequest, listRequests } from '../../service/queries.js';
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

export const requestRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (
  app,
  { ctx, origin },
) => {
  app.post(
    '/v1/requests',
    { schema: { body: CreateRequestBody, tags: ['requests'] } },
    async (req, reply) => {
      const b = req.body;
      const created = await createRequest(ctx, principalOf(req), {
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
      });
      return reply.code(201).send(await getRequest(ctx, created.id));
    },
  );

  app.get(
    '/v1/requests',
    { schema: { querystring: ListRequestsQuery, tags: ['requests'] } },
    async (req) => ({
      requests: await listRequests(ctx, {
        state: req.query.state,
        subject: req.query.subject,
        action: req.query.action,
        limit: Number(req.query.limit ?? '100'),
      }),
    }),
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
