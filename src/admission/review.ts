/**
 * The AdmissionReview v1 contract (k8s.io/api/admission/v1), as far as a validating
 * webhook reads and answers it. Only the fields countersign decides on are checked;
 * the API server sends many more (userInfo, options, managedFields), which pass
 * untouched. The `object` of a Secret carries its data: it is hashed, never logged.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const REVIEW_API_VERSION = 'admission.k8s.io/v1';
export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

const Name = Type.String({ maxLength: 253 });

/** The parts of an object's metadata the webhook reads. */
const ObjectSchema = Type.Object({
  metadata: Type.Optional(
    Type.Object({
      name: Type.Optional(Name),
      namespace: Type.Optional(Name),
      annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    }),
  ),
});

export const AdmissionRequestSchema = Type.Object({
  uid: Type.String({ minLength: 1, maxLength: 128 }),
  kind: Type.Object({ group: Type.String(), version: Type.String(), kind: Type.String() }),
  subResource: Type.Optional(Type.String()),
  name: Type.Optional(Type.String({ maxLength: 253 })),
  namespace: Type.Optional(Type.String({ maxLength: 63 })),
  operation: Type.Union(OPERATIONS.map((o) => Type.Literal(o))),
  object: Type.Optional(Type.Union([ObjectSchema, Type.Null()])),
  oldObject: Type.Optional(Type.Union([ObjectSchema, Type.Null()])),
  dryRun: Type.Optional(Type.Boolean()),
});
export type AdmissionRequest = Static<typeof AdmissionRequestSchema>;

const ReviewSchema = Type.Object({
  apiVersion: Type.Literal(REVIEW_API_VERSION),
  kind: Type.Literal('AdmissionReview'),
  request: AdmissionRequestSchema,
});

/** What a review body turned out to be. */
export type ParsedReview =
  | { readonly kind: 'review'; readonly request: AdmissionRequest }
  /** Not a v1 review at all, or one without a uid to answer: refused outright (HTTP 400). */
  | { readonly kind: 'unreadable'; readonly reason: string }
  /** A review with a uid whose request is malformed: answered, and refused, in the review. */
  | { readonly kind: 'malformed'; readonly uid: string; readonly reason: string };

const uidOf = (body: unknown): string | null => {
  const request = (body as { request?: { uid?: unknown } } | null)?.request;
  const uid = request?.uid;
  return typeof uid === 'string' && uid.length > 0 && uid.length <= 128 ? uid : null;
};

/** Sorts a body into a review to decide on, or the way it must be refused. */
export function parseReview(body: unknown): ParsedReview {
  if (Value.Check(ReviewSchema, body)) return { kind: 'review', request: body.request };
  const first = Value.Errors(ReviewSchema, body).First();
  const reason = first ? `${first.path || '/'}: ${first.message}` : 'not an AdmissionReview';
  const uid = uidOf(body);
  const v1 = (body as { apiVersion?: unknown } | null)?.apiVersion === REVIEW_API_VERSION;
  return uid === null || !v1 ? { kind: 'unreadable', reason } : { kind: 'malformed', uid, reason };
}

/** The verdict the webhook gives on one review. */
export type Verdict =
  | {
      readonly allowed: true;
      readonly audit?: Readonly<Record<string, string>>;
      readonly warning?: string;
    }
  | {
      readonly allowed: false;
      /** The HTTP-style status the API server reports to the client (403, 400, 503). */
      readonly status: number;
      readonly message: string;
      readonly audit?: Readonly<Record<string, string>>;
    };

/** The AdmissionReview v1 answer to `uid`. */
export function answer(uid: string, v: Verdict) {
  const response = v.allowed
    ? {
        uid,
        allowed: true,
        ...(v.audit ? { auditAnnotations: v.audit } : {}),
        ...(v.warning ? { warnings: [v.warning] } : {}),
      }
    : {
        uid,
        allowed: false,
        status: { code: v.status, message: v.message },
        ...(v.audit ? { auditAnnotations: v.audit } : {}),
      };
  return { apiVersion: REVIEW_API_VERSION, kind: 'AdmissionReview', response };
}
