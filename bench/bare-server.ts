import Fastify from 'fastify';

// The baseline: a Fastify route returning a constant, in a process of its own like the
// countersign server, so that both compete with autocannon for the same cores.
const app = Fastify({ logger: false });
app.get('/bare', () => ({ ok: true }));
const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening on ${url}`);
