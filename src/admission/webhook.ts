/**
 * `countersign admission`: a Kubernetes validating admission webhook on its own HTTPS
 * listener. Each governed change redeems one use of the warrant annotated on the object,
 * through the client SDK, as this webhook's principal; the API server applies the change
 * only on allow. Everything that goes wrong refuses (`failurePolicy: Fail` in the
 * example), always inside the configured timeout.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { CountersignClient } from '../client/client.js';
import { CountersignError } from '../core/errors.js';
import { parseStrictJsonBytes } from '../core/json.js';
import { CountersignApiError, isRedemptionDenial } from '../client/errors.js';
import type { NamespaceLabels } from './namespaces.js';
import { planAdmission, type AdmissionConfig, type AdmissionRefusalCode } from './plan.js';
import type { AdmissionReports } from './reports.js';
import { answer, parseReview, type AdmissionRequest, type Verdict } from './review.js';
import type { TLSSocket } from 'node:tls';

export interface AdmissionOptions {
  readonly config: AdmissionConfig;
  readonly client: CountersignClient;
  readonly namespaces: NamespaceLabels;
  readonly reports: AdmissionReports;
  /** The most a review may take, countersign's answer included. */
  readonly timeoutMs: number;
  /**
   * `clientCa`: PEM CAs whose certificates alone may send reviews (the API server's client
   * certificate, set in its AdmissionConfiguration). Without it anyone who reaches the
   * port and can read a warrant from an object could spend it with a made-up review.
   * `clientNames`: of those certificates, only one whose subject CN or a DNS name is
   * listed, as kube-apiserver's `--requestheader-allowed-names`: a CA shared with other
   * clients (or with cert-manager's serving certificates) then admits only the API server.
   */
  readonly tls: {
    readonly cert: string;
    readonly key: string;
    readonly clientCa?: string;
    readonly clientNames?: readonly string[];
  };
  readonly logLevel?: string;
}

/** Kubernetes objects go up to ~1.5 MiB; a review carries the object and the old one. */
const BODY_LIMIT = 4 * 1024 * 1024;

const refused = (code: string, status: number, message: string): Verdict => ({
  allowed: false,
  status,
  message: `countersign: ${code}: ${message}`,
  audit: { decision: 'deny', code },
});

/** A refusal by the webhook itself. */
const webhookRefusal = (code: AdmissionRefusalCode, message: string): Verdict =>
  refused(
    code,
    code === 'COUNTERSIGN_UNAVAILABLE' ? 503 : code === 'REVIEW_MALFORMED' ? 400 : 403,
    message,
  );

async function decide(o: AdmissionOptions, req: AdmissionRequest): Promise<Verdict> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  const labels = req.namespace === undefined ? null : await o.namespaces.labels(req.namespace);
  const plan = planAdmission(req, labels, o.config);
  switch (plan.kind) {
    case 'pass':
      return { allowed: true };
    case 'refuse':
      return webhookRefusal(plan.code, plan.message);
    case 'redeem':
      break;
  }
  const input = { warrant: plan.warrant, action: plan.action, idempotencyKey: plan.idempotencyKey };
  try {
    if (plan.dryRun) {
      const r = await o.client.redeem({ ...input, dryRun: true }, { signal });
      return {
        allowed: true,
        audit: { decision: 'allow', dryRun: 'true', 'warrant-id': r.warrantId },
        warning: `countersign: dry run, use ${r.use} of ${r.maxUses} not spent`,
      };
    }
    const r = await o.client.redeem(input, { signal });
    o.reports.admitted(plan.change, r);
    return {
      allowed: true,
      audit: {
        decision: 'allow',
        'receipt-id': r.receiptId,
        'warrant-id': r.warrantId,
        use: `${r.use}/${r.maxUses}`,
      },
    };
  } catch (e) {
    if (isRedemptionDenial(e)) return refused(e.code, 403, e.detail);
    if (e instanceof CountersignApiError && e.status < 500)
      return refused(e.code, e.status, e.detail);
    const why = e instanceof Error ? e.message : String(e);
    return webhookRefusal('COUNTERSIGN_UNAVAILABLE', `no answer from countersign: ${why}`);
  }
}

/** An RFC 9457 answer, for bodies with no review uid to answer in. */
const problem = (
  reply: FastifyReply,
  status: number,
  code: string,
  title: string,
  detail: string,
) =>
  reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, code, detail });

const unreadable = (reply: FastifyReply, status: number, detail: string) =>
  problem(reply, status, 'REVIEW_MALFORMED', 'Unreadable admission review', detail);

/** The subject CNs and DNS names of the peer's verified certificate. */
function certificateNames(socket: TLSSocket): string[] {
  const cert = socket.getPeerCertificate();
  const cn: unknown = cert.subject?.CN;
  const cns: unknown[] = Array.isArray(cn) ? (cn as unknown[]) : [cn];
  const dns = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return [...cns, ...dns].filter((n): n is string => typeof n === 'string');
}

export function admissionApp(o: AdmissionOptions): FastifyInstance {
  const app = Fastify({
    https: {
      cert: o.tls.cert,
      key: o.tls.key,
      // Asked for, not required by the handshake: the kubelet's probes of /healthz bring none.
      ...(o.tls.clientCa === undefined
        ? {}
        : { ca: o.tls.clientCa, requestCert: true, rejectUnauthorized: false }),
    },
    bodyLimit: BODY_LIMIT,
    logger: {
      level: o.logLevel ?? 'info',
      // A review carries the object, a Secret's data included: never log bodies.
      serializers: {
        req: (r: { method: string; url: string }) => ({ method: r.method, url: r.url }),
      },
    },
  });
  // A Secret's data is hashed into the version reported for reconciliation, and the uid
  // keys the use a retry may not spend again: a review read two ways (duplicate keys,
  // bytes that are not UTF-8) is refused, as the API's own bodies are.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseStrictJsonBytes(body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // Fastify's own refusals (a body that is not JSON, too large) come here: they are the
  // unreadable reviews of the contract, answered as problems like the route's own.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _req, reply) => {
    // The strict parser's code says what is wrong without quoting the body.
    if (error instanceof CountersignError) {
      return unreadable(reply, 400, `the body is not strict JSON (${error.code})`);
    }
    const status =
      error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500;
    // A JSON parser's message may quote the body (a Secret's data, a warrant): never echo it.
    return status < 500
      ? unreadable(
          reply,
          status,
          status === 413 ? 'the review is too large' : 'the body is not JSON',
        )
      : problem(reply, 500, 'INTERNAL', 'Internal error', 'the webhook failed; see its log');
  });
  // The path is not echoed: the API server only ever calls /validate, and anything else
  // sent here is not for a reader of the answer to see again.
  app.setNotFoundHandler((req, reply) =>
    problem(
      reply,
      404,
      'NOT_FOUND',
      'Not found',
      `no route ${req.method}; reviews go to /validate`,
    ),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  // The API server may append `?timeout=10s`; the route matches on the path alone.
  // Before the body is read: a caller without the certificate learns nothing of the route.
  const callerCheck = async (req: FastifyRequest, reply: FastifyReply) => {
    if (o.tls.clientCa === undefined) return;
    const socket = req.raw.socket as TLSSocket;
    if (!socket.authorized) {
      return problem(
        reply,
        401,
        'CLIENT_CERTIFICATE_REQUIRED',
        'Client certificate required',
        'reviews are taken only from a caller with a certificate from --client-ca',
      );
    }
    const allowed = o.tls.clientNames;
    if (allowed === undefined || certificateNames(socket).some((n) => allowed.includes(n))) return;
    return problem(
      reply,
      403,
      'CLIENT_CERTIFICATE_NOT_ALLOWED',
      'Client certificate not allowed',
      'the client certificate names none of --client-name',
    );
  };
  app.post('/validate', { onRequest: callerCheck }, async (req, reply) => {
    const parsed = parseReview(req.body);
    switch (parsed.kind) {
      case 'unreadable':
        return unreadable(reply, 400, parsed.reason);
      case 'malformed':
        return answer(parsed.uid, webhookRefusal('REVIEW_MALFORMED', parsed.reason));
      case 'review': {
        const verdict = await decide(o, parsed.request);
        const r = parsed.request;
        req.log.info(
          {
            uid: r.uid,
            operation: r.operation,
            kind: r.kind.kind,
            namespace: r.namespace,
            name: r.name,
            allowed: verdict.allowed,
            code: verdict.audit?.code,
          },
          'admission review',
        );
        return answer(r.uid, verdict);
      }
    }
  });
  return app;
}
