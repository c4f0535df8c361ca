import { Type, type Static } from '@sinclair/typebox';
import {
  PrincipalIdSchema,
  ReceiptIdSchema,
  RequestIdSchema,
  Sha256Schema,
  Strict,
  WarrantIdSchema,
  type Frozen,
} from '../core/schema.js';
import { NameSchema, NhiIdSchema } from '../core/vocabulary.js';
import { IdentityProofSchema } from '../core/vocabulary.js';
import { RedemptionActionSchema } from './redemption.js';

export const RECEIPT_TYP = 'receipt+jwt';

/**
 * The signed claims of a receipt. `executor_identity` is required: every receipt has
 * carried it since fulfilment reports, the receipt's one reader, were introduced.
 */
export const ReceiptSchema = Type.Object(
  {
    iss: Type.String(),
    jti: ReceiptIdSchema,
    iat: Type.Integer(),
    warrant_id: WarrantIdSchema,
    request_id: RequestIdSchema,
    sub: NhiIdSchema,
    use: Type.Integer({ minimum: 1 }),
    max_uses: Type.Integer({ minimum: 1 }),
    action: RedemptionActionSchema,
    executor: PrincipalIdSchema,
    /** How the executor proved who it is: for a workload, its token's issuer, subject and digest. */
    executor_identity: IdentityProofSchema,
    /** A brokered grant: the credential minted, by its fingerprint and handle only. */
    grant: Type.Optional(
      Type.Object(
        {
          connector: NameSchema,
          handle: Type.String({ maxLength: 256 }),
          fingerprint: Sha256Schema,
        },
        Strict,
      ),
    ),
  },
  Strict,
);

/** What the signed receipt of an allowed redemption binds together. */
export type ReceiptClaims = Frozen<Static<typeof ReceiptSchema>>;
