import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { changeNhiOwner, getNhi, registerNhi } from '../../service/nhis.js';
import { dryRunRedemption } from '../../service/redeem-dry-run.js';
import { redeem } from '../../service/redeem.js';
import { recordRefusedRedemption } from '../../service/redeem-refused.js';
import { revokeWarrant } from '../../service/revoke.js';
import { principalOf } from '../auth.js';
import { rawBodyOf } from '../body.js';
import { answerFor, instanceOf, sendAnswer } from '../errors.js';
import { IdParam, NhiBody, NhiOwnerBody, ReasonBody, RedemptionBody } from '../schemas.js';
import type { RoutesOptions } from './options.js';
import type { ServiceContext } from '../../service/context.js';

/** Redemptions whose body passed the edge: `redeem` records their outcome itself. */
const checked = new WeakSet<FastifyRequest>();

/**
 * The redemption route's error handler. A redemption refused after the caller was
 * authenticated, but before `redeem` saw it (its body not UTF-8, not strict JSON, not
 * the schema, not `application/json`, or sent with a content coding), is recorded as a
 * `REDEMPTION_MALFORMED` denial before the problem is answered, so such probes reach the
 * log. Not recorded: an unauthenticated or forbidden caller, and a body over the limit,
 * which is refused without being read.
 */
function refusedRedemptionHandler(ctx: ServiceContext) {
  const answer = async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const refusal = answerFor(err, instanceOf(req));
    const { code, status } = refusal.problem;
    if (req.principal && !checked.has(req) && status < 500 && code !== 'BODY_TOO_LARGE') {
      try {
        await recordRefusedRedemption(ctx, req.principal, { body: rawBodyOf(req), problem: code });
      } catch (e) {
        // A replayed token, or the store failing: that is the answer instead.
        const failed = e as FastifyError;
        sendAnswer(answerFor(failed, instanceOf(req)), req, reply, failed);
        return;
      }
    }
    sendAnswer(refusal, req, reply, err);
  };
  // Fastify waits for the reply; `answer` settles by sending one and never rejects.
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    void answer(err, req, reply);
  };
}

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
    {
      schema: { body: RedemptionBody, tags: ['redemptions'] },
      errorHandler: refusedRedemptionHandler(ctx),
    },
    async (req, reply) => {
      checked.add(req);
      const { warrant, action, dryRun, idempotencyKey } = req.body;
      if (dryRun === true) return dryRunRedemption(ctx, principalOf(req), warrant, action);
      const out = await redeem(ctx, principalOf(req), { warrant, action, idempotencyKey });
      // A brokered credential must not linger in any cache on the way back.
      if (out.credential !== undefined) void reply.header('cache-control', 'no-store');
      return out;
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
