import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { redactedPath } from './log-redact.js';
import { problem } from './problem.js';

/** When the server refuses new work. A limit of 0 turns that check off. */
export interface LoadLimits {
  /** Requests being served at once (parsed, checked, committed or answering). */
  readonly maxInFlight: number;
  /** Mean event-loop delay over the last sampling interval, in milliseconds. */
  readonly maxEventLoopDelayMs: number;
  /** V8 heap in use, in bytes. */
  readonly maxHeapUsedBytes: number;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = {
  maxInFlight: 512,
  maxEventLoopDelayMs: 1000,
  maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * 0.9),
};

/** What the server measures about itself; sampled, except `inFlight`. */
export interface LoadState {
  readonly inFlight: number;
  readonly eventLoopDelayMs: number;
  readonly heapUsedBytes: number;
}

/** The limits a request can be refused under, as `Retry-After` and metrics name them. */
export const PRESSURES = ['in-flight', 'event-loop-delay', 'heap'] as const;
export type Pressure = (typeof PRESSURES)[number];

/** Which limit the current load breaks, if any; the first request over a limit is refused. */
export function pressureOf(state: LoadState, limits: LoadLimits): Pressure | null {
  if (limits.maxInFlight > 0 && state.inFlight >= limits.maxInFlight) return 'in-flight';
  if (limits.maxEventLoopDelayMs > 0 && state.eventLoopDelayMs > limits.maxEventLoopDelayMs)
    return 'event-loop-delay';
  if (limits.maxHeapUsedBytes > 0 && state.heapUsedBytes > limits.maxHeapUsedBytes) return 'heap';
  return null;
}

const RETRY_AFTER_S: Readonly<Record<Pressure, number>> = {
  'in-flight': 1,
  'event-loop-delay': 2,
  heap: 5,
};

const SAMPLE_MS = 500;

/**
 * Load shedding: the first `onRequest` hook, so a refused request is answered with
 * 503 `OVERLOADED` and a `Retry-After` header before authentication, body parsing or
 * any read or write of state. Bounded in-flight work keeps memory bounded: an overloaded
 * server answers fast instead of queueing without limit. `onShed` learns of each refusal.
 */
export function installLoadShedding(
  app: FastifyInstance,
  overrides: Partial<LoadLimits>,
  onShed: (pressure: Pressure) => void = () => undefined,
): void {
  const limits: LoadLimits = { ...DEFAULT_LOAD_LIMITS, ...overrides };
  let inFlight = 0;
  let eventLoopDelayMs = 0;
  let heapUsedBytes = 0;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const sampler = setInterval(() => {
    eventLoopDelayMs = Number.isFinite(delay.mean) ? delay.mean / 1e6 : 0;
    delay.reset();
    heapUsedBytes = process.memoryUsage().heapUsed;
  }, SAMPLE_MS);
  sampler.unref();
  app.addHook('onClose', async () => {
    clearInterval(sampler);
    delay.disable();
  });

  app.addHook('onRequest', async (req, reply) => {
    const pressure = pressureOf({ inFlight, eventLoopDelayMs, heapUsedBytes }, limits);
    if (pressure !== null) {
      onShed(pressure);
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_S[pressure]))
        .type('application/problem+json')
        .send(
          problem('OVERLOADED', `the server is overloaded (${pressure})`, redactedPath(req.url)),
        );
    }
    inFlight += 1;
    // 'close' fires once per response, whether it finished or the client went away.
    reply.raw.once('close', () => {
      inFlight -= 1;
    });
    return undefined;
  });
}
