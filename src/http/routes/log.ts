import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  checkpointNotes,
  consistencyProof,
  inclusionProof,
  latestCheckpoint,
  logVerifierKeys,
  readEntries,
} from '../../service/log-read.js';
import { ringVerifierKeys } from '../../service/log-keys.js';
import { VerifierKeysSchema } from '../../trust/trust-file.js';
import type { RoutesOptions } from './options.js';

const Int = Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' });
const Strict = { additionalProperties: false } as const;

export const logRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { ctx, origin }) => {
  const text = { 'content-type': 'text/plain; charset=utf-8' };

  app.get('/v1/log/checkpoint', { schema: { tags: ['log'] } }, async (_req, reply) =>
    reply.headers(text).send((await latestCheckpoint(ctx.store.read)).note),
  );

  app.get('/v1/log/verifier-key', { schema: { tags: ['log'] } }, async (_req, reply) =>
    reply.headers(text).send(ringVerifierKeys(ctx.keys(), origin).join('\n') + '\n'),
  );

  app.get(
    '/v1/log/verifier-keys',
    { schema: { tags: ['log'], response: { 200: VerifierKeysSchema } } },
    async () => logVerifierKeys(ctx, origin),
  );

  app.get(
    '/v1/log/checkpoints',
    {
      schema: {
        querystring: Type.Object({ start: Int, limit: Type.Optional(Int) }, Strict),
        tags: ['log'],
      },
    },
    async (req) => ({
      checkpoints: await checkpointNotes(
        ctx.store.read,
        Number(req.query.start),
        Number(req.query.limit ?? 1000),
      ),
    }),
  );

  app.get(
    '/v1/log/entries',
    {
      schema: { querystring: Type.Object({ start: Int, end: Int }, Strict), tags: ['log'] },
    },
    async (req) => ({
      entries: await readEntries(ctx.store.read, Number(req.query.start), Number(req.query.end)),
    }),
  );

  app.get(
    '/v1/log/proof/inclusion',
    {
      schema: { querystring: Type.Object({ index: Int, size: Int }, Strict), tags: ['log'] },
    },
    async (req) => inclusionProof(ctx.store.read, Number(req.query.index), Number(req.query.size)),
  );

  app.get(
    '/v1/log/proof/consistency',
    {
      schema: { querystring: Type.Object({ from: Int, to: Int }, Strict), tags: ['log'] },
    },
    async (req) => consistencyProof(ctx.store.read, Number(req.query.from), Number(req.query.to)),
  );
};
