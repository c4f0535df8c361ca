import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onResponseHookHandler,
  onSendHookHandler,
  RouteOptions,
} from 'fastify';
import { REDEMPTION_DENIAL_CODES } from '../../core/denials.js';
import { isErrorCode } from '../problem.js';
import type { RedemptionOutcome, ServerMetrics } from './registry.js';

const REDEMPTION_ROUTE = '/v1/redemptions';
const DENIALS: ReadonlySet<string> = new Set(REDEMPTION_DENIAL_CODES);

/** The problem code of an error answer, if its body is a problem document. */
function problemCode(payload: unknown): string | null {
  if (typeof payload !== 'string') return null;
  try {
    const code = (JSON.parse(payload) as { code?: unknown }).code;
    // Only the API's closed list of codes becomes a label value.
    return typeof code === 'string' && isErrorCode(code) ? code : null;
  } catch {
    return null;
  }
}

/** How one answer to `POST /v1/redemptions` is counted. */
export function outcomeOf(
  status: number,
  code: string | null,
  dryRun: boolean,
): { readonly outcome: RedemptionOutcome; readonly code: string | null } {
  if (dryRun) return { outcome: 'dry_run', code };
  if (status < 300) return { outcome: 'allowed', code: null };
  if (code !== null && DENIALS.has(code)) return { outcome: 'denied', code };
  // A load-shed 503 is a refusal like a 401, not a failure of the server.
  const failed = status >= 500 && code !== 'OVERLOADED';
  return { outcome: failed ? 'error' : 'rejected', code };
}

const isDryRun = (req: FastifyRequest): boolean =>
  (req.body as { dryRun?: unknown } | undefined)?.dryRun === true;

/**
 * Counts every answer of the redemption route, by the code it was answered with, and
 * times it. The hooks are the route's own (added as it is registered, so call this
 * before the routes are), which keeps every other route's path free of them. They run
 * for answers given before the handler too: a load-shed 503 or a 401.
 */
export function installRedemptionMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  const codes = new WeakMap<FastifyRequest, string>();
  const onSend: onSendHookHandler = (req, reply, payload, done) => {
    if (reply.statusCode >= 400) {
      const code = problemCode(payload);
      if (code !== null) codes.set(req, code);
    }
    done(null, payload);
  };
  const onResponse: onResponseHookHandler = (req, reply: FastifyReply, done) => {
    const { outcome, code } = outcomeOf(reply.statusCode, codes.get(req) ?? null, isDryRun(req));
    metrics.redemption(outcome, code, reply.elapsedTime / 1000);
    done();
  };
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.url !== REDEMPTION_ROUTE || [route.method].flat().join() !== 'POST') return;
    route.onSend = [route.onSend ?? []].flat().concat(onSend);
    route.onResponse = [route.onResponse ?? []].flat().concat(onResponse);
  });
}
