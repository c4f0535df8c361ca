import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listSigningKeys } from '../../service/keys.js';
import { revokeSigningKey, rotateSigningKey } from '../../service/rotate-key.js';
import { principalOf } from '../auth.js';
import { ReasonBody } from '../schemas.js';
import type { RoutesOptions } from './options.js';

const Strict = { additionalProperties: false } as const;
const RotationBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) },
  Strict,
);
const KidParam = Type.Object({ kid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) }, Strict);

/** Signing-key administration: list, rotate, revoke. Roles come from `ROUTE_ROLES`. */
export const keyRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx }) => {
  app.get('/v1/keys', { schema: { tags: ['keys'] } }, async () => ({
    keys: await listSigningKeys(ctx.store),
  }));

  app.post(
    '/v1/keys/rotation',
    { schema: { body: RotationBody, tags: ['keys'] } },
    async (req, reply) =>
      reply.code(201).send(await rotateSigningKey(ctx, principalOf(req), req.body.reason ?? null)),
  );

  app.post(
    '/v1/keys/:kid/revocation',
    { schema: { params: KidParam, body: ReasonBody, tags: ['keys'] } },
    async (req) => revokeSigningKey(ctx, principalOf(req), req.params.kid, req.body.reason),
  );
};
