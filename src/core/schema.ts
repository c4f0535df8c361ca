/**
 * Small helpers for the TypeBox schemas that signed artefacts and request bodies share.
 * A type is derived from its schema (`Frozen<Static<typeof S>>`) so that the two cannot
 * drift apart, and `Value.Check(S, v)` narrows to that type with no cast.
 */
import {
  Type,
  type StringOptions,
  type TLiteral,
  type TUnion,
  type TUnsafe,
} from '@sinclair/typebox';
import {
  REQUEST_ID_PATTERN,
  type DecisionId,
  type PrincipalId,
  type ReceiptId,
  type RequestId,
  type WarrantId,
} from './ids.js';

/**
 * `T` with every property and array readonly, all the way down. `Static<>` yields
 * mutable types; the records they describe are immutable once hashed or signed.
 * Strings stay as they are, so branded ids and `sha256:${string}` survive.
 */
export type Frozen<T> = unknown extends T
  ? unknown
  : T extends string | number | boolean | bigint | symbol | null | undefined
    ? T
    : T extends readonly (infer E)[]
      ? readonly Frozen<E>[]
      : { readonly [K in keyof T]: Frozen<T[K]> };

/** A string schema whose static type is the branded (or template literal) type `B`. */
export const brandedString = <B extends string>(options: StringOptions): TUnsafe<B> =>
  Type.Unsafe<B>(Type.String(options));

/** A union of string literals, from a `const` list such as `REQUEST_ACTIONS`. */
export const literals = <T extends readonly string[]>(values: T): TUnion<TLiteral<T[number]>[]> =>
  Type.Union(values.map((v) => Type.Literal<T[number]>(v)));

/** Objects in signed artefacts and request bodies refuse members they do not define. */
export const Strict = { additionalProperties: false } as const;

/** A SHA-256 digest in the form `digestOf` writes (policy versions, token digests). */
export const Sha256Schema = brandedString<`sha256:${string}`>({
  pattern: REQUEST_ID_PATTERN.source,
});

/**
 * The ids as signed claims carry them; `Static<>` of each is its branded type. They
 * live here rather than in `ids.ts` so that the offline verifier, which reads ids but
 * no schemas, does not load TypeBox.
 */
export const RequestIdSchema = brandedString<RequestId>({ pattern: REQUEST_ID_PATTERN.source });
/** A random id (`wrt_…`, `dec_…`, `rcp_…`): never empty, and bounded. */
const RANDOM_ID = { minLength: 1, maxLength: 128 } as const;
export const WarrantIdSchema = brandedString<WarrantId>(RANDOM_ID);
export const DecisionIdSchema = brandedString<DecisionId>(RANDOM_ID);
export const ReceiptIdSchema = brandedString<ReceiptId>(RANDOM_ID);
/** API-token names and `<issuerName>:<subject>` of federated callers: any non-empty string. */
export const PrincipalIdSchema = brandedString<PrincipalId>({ minLength: 1 });
