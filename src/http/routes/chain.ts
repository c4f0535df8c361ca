import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { changeNhiOwner, getNhi, registerNhi } from '../../service/nhis.js';
import { redeem } from '../../service/redeem.js';
import { revokeWarrant } from '../../service/revoke.js';
import { principalOf } from '../auth.js';
import { IdParam, NhiBody, NhiOwnerBody, ReasonBody, RedemptionBody } from '../schemas.js';
import type { RoutesOptions } from './options.js';

export const chainRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  app.post('/v1/nhis', { schema: { body: NhiBody, tags: ['nhis'] } }, async (req, reply) =>
    reply.code(201).send(await registerNhi(ctx, principalOf(req), req.body)),
  );

  app.get(
    '/v1/nhis/:id',
    {
      schema: { params: IdParam, tags: ['nhis'] },
    },
    async (req) => getNhi(ctx, req.params.id),
  );

  app.put(
    '/v1/nhis/:id/owner',
    { schema: { params: IdParam, body: NhiOwnerBody, tags: ['nhis'] } },
    async (req) => changeNhiOwner(ctx, principalOf(req), req.params.id, req.body),
  );

  app.post(
    '/v1/redemptions',
    { schema: { body: RedemptionBody, tags: ['redemptions'] } },
    async (req) => {
      const { warrant, action } = req.body;
      return redeem(ctx, principalOf(req), warrant, action);
    },
  );

  app.post(
    '/v1/warrants/:id/revocation',
    {
      schema: { params: IdParam, body: ReasonBody, tags: ['warrants'] },
    },
    async (req) => revokeWarrant(ctx, principalOf(req), req.params.id, req.body.reason),
  );
};
