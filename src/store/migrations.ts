import type { MigrationProvider } from 'kysely';
import { approvalChain } from './migrations/001-approval-chain.js';
import { merkleLog } from './migrations/002-merkle-log.js';
import { reconciliation } from './migrations/003-reconciliation.js';
import { federatedIdentity } from './migrations/004-identity.js';
import { tokenReplaysAndOneSuccess } from './migrations/005-token-replays-and-one-success.js';
import { signedAuthority } from './migrations/006-signed-authority.js';
import { nhiKeyColumn } from './migrations/007-nhi-key.js';
import { redemptionEvents } from './migrations/008-redemption-events.js';
import { idempotentRedemptions } from './migrations/009-idempotent-redemptions.js';
import { grants } from './migrations/010-grants.js';
import { requestPages } from './migrations/011-request-pages.js';
import { reconcileStreaming } from './migrations/012-reconcile-streaming.js';
import { warrantIssuedEvents } from './migrations/013-warrant-issued-events.js';
import { observationFacts } from './migrations/014-observation-facts.js';
import { expiriesDue } from './migrations/015-expiries-due.js';
import { reconcileWatermark } from './migrations/016-reconcile-watermark.js';
import { redemptionIndex } from './migrations/017-redemption-index.js';
import { findingEvents } from './migrations/018-finding-events.js';
import type { Dialect } from '../service/ports/store.js';

/**
 * Migrations are code, not files read at run time, so the package works from any
 * install path. One file per migration; column types stay within what both dialects
 * accept, and only auto-increment keys and big integers differ.
 */
export function migrations(dialect: Dialect): MigrationProvider {
  return {
    getMigrations: () =>
      Promise.resolve({
        '001_approval_chain': approvalChain(dialect),
        '002_merkle_log': merkleLog(dialect),
        '003_reconciliation': reconciliation(dialect),
        '004_identity': federatedIdentity(dialect),
        // Named before the single-use guarantee had a home (warrants' consumeUse); the
        // name is what databases recorded, so it stays.
        '005_single_use': tokenReplaysAndOneSuccess(dialect),
        '006_signed_authority': signedAuthority(dialect),
        '007_nhi_key': nhiKeyColumn(dialect),
        '008_redemption_events': redemptionEvents(dialect),
        '009_idempotent_redemptions': idempotentRedemptions(),
        '010_grants': grants(),
        '011_request_pages': requestPages(),
        '012_reconcile_streaming': reconcileStreaming(dialect),
        '013_warrant_issued_events': warrantIssuedEvents(),
        '014_observation_facts': observationFacts(dialect),
        '015_expiries_due': expiriesDue(),
        '016_reconcile_watermark': reconcileWatermark(),
        '017_redemption_index': redemptionIndex(),
        '018_finding_events': findingEvents(dialect),
      }),
  };
}
