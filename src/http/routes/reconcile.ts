import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { withoutUserinfo } from '../../core/outbound-url.js';
import { FINDING_KINDS, FINDING_STATES } from '../../reconcile/finding.js';
import { exceptionsSince } from '../../service/exceptions.js';
import { decideFinding, listFindingPage } from '../../service/findings.js';
import { reportFulfilment } from '../../service/fulfil.js';
import { recordObservations } from '../../service/observe.js';
import type { ServiceContext } from '../../service/context.js';
import { PassGate } from '../../service/reconcile-gate.js';
import { runReconcile, type ReconcileSummary } from '../../service/reconcile.js';
import type { ServerMetrics } from '../metrics/registry.js';
import { principalOf } from '../auth.js';
import { instantOf } from '../instant.js';
import { FulfilmentBody, IdParam, ObservationsBody, ReasonBody } from '../schemas.js';
import type { RoutesOptions } from './options.js';

const Strict = { additionalProperties: false } as const;
const READERS = ['auditor', 'admin', 'approver', 'requester'] as const;

/** A node's passes, one at a time, each timed and counted (see `PassGate`). */
export const reconcilePasses = (
  ctx: ServiceContext,
  metrics: ServerMetrics,
): PassGate<ReconcileSummary> =>
  new PassGate((request) => metrics.reconcile(() => runReconcile(ctx, request)));

export const reconcileRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (
  app,
  { ctx, passes },
) => {
  app.post(
    '/v1/fulfilments',
    { schema: { body: FulfilmentBody, tags: ['fulfilments'] }, config: { roles: ['executor'] } },
    async (req, reply) => {
      const { receipt, ...input } = req.body;
      return reply.code(201).send(await reportFulfilment(ctx, principalOf(req), receipt, input));
    },
  );

  app.post(
    '/v1/observations',
    { schema: { body: ObservationsBody, tags: ['observations'] }, config: { roles: ['observer'] } },
    async (req) => recordObservations(ctx, principalOf(req), req.body.observations),
  );

  app.get(
    '/v1/findings',
    {
      schema: {
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Union(FINDING_STATES.map((s) => Type.Literal(s)))),
            kind: Type.Optional(Type.Union(FINDING_KINDS.map((k) => Type.Literal(k)))),
            subject: Type.Optional(Type.String({ minLength: 3, maxLength: 233 })),
            limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
          },
          Strict,
        ),
        tags: ['findings'],
      },
      config: { roles: READERS },
    },
    async (req) =>
      listFindingPage(ctx, {
        state: req.query.state,
        kind: req.query.kind,
        subject: req.query.subject,
        cursor: req.query.cursor,
        limit: Number(req.query.limit ?? '1000'),
      }),
  );

  for (const [path, action] of [
    ['acknowledgement', 'acknowledge'],
    ['resolution', 'resolve'],
  ] as const) {
    app.post(
      `/v1/findings/:id/${path}`,
      {
        schema: { params: IdParam, body: ReasonBody, tags: ['findings'] },
        config: { roles: ['admin'] },
      },
      async (req) => decideFinding(ctx, principalOf(req), req.params.id, action, req.body.reason),
    );
  }

  app.post(
    '/v1/reconcile',
    {
      schema: {
        // `full`: plan every subject, not only those changed since the last pass (0029).
        querystring: Type.Object({ full: Type.Optional(Type.Boolean()) }, Strict),
        tags: ['findings'],
      },
      config: { roles: ['admin'] },
    },
    // A pass already running answers no one who asked after it began: see `PassGate`.
    async (req) => passes.run({ full: req.query.full === true }),
  );

  app.get(
    '/v1/reports/exceptions',
    {
      schema: {
        querystring: Type.Object({ since: Type.Optional(Type.String({ maxLength: 40 })) }, Strict),
        tags: ['reports'],
      },
      config: { roles: ['auditor', 'admin'] },
    },
    async (req) => {
      const since = req.query.since === undefined ? null : instantOf(req.query.since, 'since');
      return { exceptions: await exceptionsSince(ctx, since) };
    },
  );

  app.get(
    '/v1/webhooks/dead-letters',
    { schema: { tags: ['webhooks'] }, config: { roles: ['auditor', 'admin'] } },
    async () => ({
      // Rows stored before userinfo was refused at load may still hold a password.
      deadLetters: (await ctx.store.read.webhooks.list('dead', 500)).map(
        ({ payload: _p, endpoint, ...d }) => ({ ...d, endpoint: withoutUserinfo(endpoint) }),
      ),
    }),
  );
};
