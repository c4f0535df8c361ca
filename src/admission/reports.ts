/**
 * What the webhook tells countersign after it admitted a change, so reconciliation
 * closes the loop with no glue: a fulfilment against the receipt (the admission is the
 * point of execution) with the fingerprint of what it admitted, and for a Secret an
 * observation of that version. Both say what was admitted, not what was stored: a later
 * webhook or a write conflict may still stop the change, which a collector watching the
 * cluster then shows. A collector that later sees another version, one no admission
 * claims (a change made before the webhook was installed, or by a path that skips it),
 * makes reconciliation raise `UNAPPROVED_CHANGE`.
 *
 * Reports are sent after the API server has its answer, never before: the admission
 * must answer inside the API server's timeout, and a report that fails is logged
 * (its receipt and the log already prove the redemption).
 */
import type { CountersignClient } from '../client/client.js';
import { CountersignApiError } from '../client/errors.js';
import type { RedeemAllowed } from '../client/types.js';
import type { AdmittedChange } from './plan.js';

export interface ReportLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export class AdmissionReports {
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly client: CountersignClient,
    private readonly cluster: string,
    private readonly log: ReportLog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Queues the reports of one admitted change. */
  admitted(change: AdmittedChange, allowed: RedeemAllowed): void {
    const p = this.#send(change, allowed).catch((e: unknown) => {
      this.log.warn(
        { receiptId: allowed.receiptId, error: e instanceof Error ? e.message : String(e) },
        'admission report failed',
      );
    });
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Resolves once every queued report has been sent or has failed. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #send(change: AdmittedChange, allowed: RedeemAllowed): Promise<void> {
    try {
      await this.client.fulfil({
        receipt: allowed.receipt,
        target: this.cluster,
        outcome: 'success',
        phase: change.phase,
        ...(change.fingerprint === null ? {} : { fingerprint: change.fingerprint }),
        detail: change.detail,
      });
    } catch (e) {
      // The API server retried a review this webhook already reported, observation and all.
      if (e instanceof CountersignApiError && e.code === 'FULFILMENT_DUPLICATE') return;
      throw e;
    }
    if (!change.secret || change.fingerprint === null) return;
    const claims = await this.client.verifyReceipt(allowed.receipt);
    await this.client.observe({
      observations: [
        {
          subject: claims.sub,
          target: this.cluster,
          observedAt: this.now().toISOString(),
          fact: { kind: 'secret_version', fingerprint: change.fingerprint },
        },
      ],
    });
  }
}
