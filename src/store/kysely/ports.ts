import type { Kysely } from 'kysely';
import type { EncodedEvent } from '../../log/event.js';
import type { NewNode } from '../../log/tree.js';
import type { TxPorts } from '../../service/ports/store.js';
import type { Database } from '../schema.js';
import { KyselyAudit } from './audit.js';
import type { DialectSql } from './dialect.js';
import { KyselyFindings } from './findings.js';
import { KyselyFulfilments } from './fulfilments.js';
import { KyselyGrants } from './grants.js';
import { KyselyKeys } from './keys.js';
import { KyselyLog } from './log.js';
import { KyselyNhis } from './nhis.js';
import { KyselyObservations, type HistoryForRules } from './observations.js';
import { KyselyReconciliation } from './reconciliation.js';
import { KyselyTokenReplays } from './replay.js';
import { KyselyRequests } from './requests.js';
import { KyselyWarrants } from './warrants.js';
import { KyselyWebhooks } from './webhooks.js';

/** What a dialect runs as statements of its own rather than through Kysely's builders. */
export interface NativeStatements {
  /** A log append through a statement prepared once. */
  readonly insertEvent?: (e: EncodedEvent) => number;
  /** A subtree hash stored through a statement prepared once. */
  readonly insertNode?: (n: NewNode) => void;
  readonly history?: HistoryForRules;
}

/**
 * Every port over one database handle (the database itself, or an open transaction):
 * one small repository per aggregate, composed, none extending another.
 */
export function kyselyPorts(
  db: Kysely<Database>,
  sql: DialectSql,
  native: NativeStatements = {},
): TxPorts {
  return {
    nhis: new KyselyNhis(db),
    requests: new KyselyRequests(db, sql),
    warrants: new KyselyWarrants(db, sql),
    log: new KyselyLog(db, sql, native),
    keys: new KyselyKeys(db, sql),
    fulfilments: new KyselyFulfilments(db),
    observations: new KyselyObservations(db, sql.name, native.history),
    findings: new KyselyFindings(db),
    reconciliation: new KyselyReconciliation(db),
    webhooks: new KyselyWebhooks(db),
    grants: new KyselyGrants(db),
    replay: new KyselyTokenReplays(db),
    audit: new KyselyAudit(db),
  };
}
