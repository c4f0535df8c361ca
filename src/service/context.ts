import type { Connector } from '../connectors/connector.js';
import type { Clock } from '../core/clock.js';
import type { PrincipalId } from '../core/ids.js';
import type { Role } from '../identity/roles.js';
import type { IssuerKind } from '../identity/oidc/config.js';
import type { ReplayGuard } from '../identity/oidc/replay.js';
import type { KeyRingHolder } from '../keys/holder.js';
import type { KeyRing } from '../keys/keyring.js';
import { encodeEvent, type EventType } from '../log/event.js';
import type { Policy } from '../policy/policy.js';
import type { LogWriter } from './ports/log.js';
import type { Store } from './ports/store.js';
import type { ObserveTracker } from './connector-observe.js';
import type { ReconcilePlanner } from './reconcile-plan.js';
import type { WebhookTarget } from './webhooks.js';

/** Everything a use case needs, injected once at start. */
export interface ServiceContext {
  readonly store: Store;
  readonly clock: Clock;
  /** Read through a getter: key rotation swaps the ring without restarting. */
  readonly keys: () => KeyRing;
  /** Mints sealed keys and swaps the ring, for rotation and revocation. */
  readonly keyAdmin: Pick<KeyRingHolder, 'newKey' | 'refresh'>;
  readonly policy: Policy;
  /** The `iss` of warrants and receipts. */
  readonly issuer: string;
  readonly identity: IdentitySettings;
  /** Webhook endpoints notified of pending approvals and new findings. */
  readonly webhooks?: readonly WebhookTarget[];
  /**
   * Puts every event committed before the call into the signed log. Services that read
   * the log (proofs, evidence, findings' indices) call it first, so what they cite exists.
   */
  readonly integrateLog: () => Promise<void>;
  /** Reconciliation settings; unset fields take the reconciler's defaults. */
  readonly reconcile?: ReconcileSettings;
  /** The credential brokers, by name: a brokered grant's warrant names one. */
  readonly connectors?: ReadonlyMap<string, Connector>;
  /** How long before a window's end its brokered grants fall due for revocation. */
  readonly revocationLeadMs?: number;
  /** How this node's observation of the connectors' targets is going. */
  readonly brokerHealth?: ObserveTracker;
  /** The principals known by configuration (API tokens, dev principals): who may approve. */
  readonly directory?: readonly KnownPrincipal[];
}

/** A principal the server knows by configuration, without its credential. */
export interface KnownPrincipal {
  readonly id: PrincipalId;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

export interface ReconcileSettings {
  /** `driftGrace`: how long a target may lag behind a rotation confirmed elsewhere. */
  readonly driftGraceMs?: number;
  /** Who makes a pass's plan; by default this thread, from a snapshot (`planSlices`). */
  readonly planner?: ReconcilePlanner;
}

/** What the use cases need to know about federated identities. */
export interface IdentitySettings {
  /** Remembers every federated token spent at redemption, so none redeems twice. */
  readonly replayGuard: ReplayGuard;
  /** How recent a person's sign-in (`auth_time`) must be to approve or deny. */
  readonly approvalAuthMaxAgeSeconds: number;
  /** Issuer URL → kind, of the issuers trusted for workloads: what a claim binding may name. */
  readonly workloadIssuers: ReadonlyMap<string, Exclude<IssuerKind, 'human'>>;
}

export type ServiceErrorCode = 'FORBIDDEN';

/** Appends one event inside the caller's transaction. */
export async function record(
  tx: { readonly log: Pick<LogWriter, 'append'> },
  type: EventType,
  at: Date,
  actor: string,
  links: { request?: string; warrant?: string; nhi?: string },
  data: Record<string, unknown>,
): Promise<number> {
  return tx.log.append(encodeEvent({ v: 1, type, at: at.toISOString(), actor, links, data }));
}
