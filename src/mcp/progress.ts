import type { ServerContext } from '@modelcontextprotocol/server';

/** One progress update as the SDK reports it (the token is added on the way out). */
export interface ProgressUpdate {
  readonly progress: number;
  readonly total?: number | undefined;
  readonly message?: string | undefined;
}

/**
 * The agent's progress token for one request, shared by the gate (which may hold a call
 * while approvers decide) and the upstream (whose updates are relayed as they come).
 * The protocol wants `progress` to increase with every notification on one token, so
 * upstream updates are shifted past whatever the gate already sent; when the gate sent
 * nothing they pass unchanged.
 */
export class ProgressRelay {
  readonly #token: string | number | undefined;
  #gateSteps = 0;
  #last = 0;

  constructor(
    private readonly ctx: ServerContext,
    private readonly report: (error: Error) => void,
  ) {
    this.#token = ctx.mcpReq._meta?.progressToken;
  }

  /** Whether the agent asked for progress at all. */
  get wanted(): boolean {
    return this.#token !== undefined;
  }

  /** A step of the gate's own, with a message for the agent. */
  async fromGate(message: string): Promise<void> {
    this.#gateSteps += 1;
    await this.#send({ progress: this.#gateSteps, message });
  }

  /** An update the upstream sent for the forwarded request. */
  fromUpstream(update: ProgressUpdate): void {
    const shift = this.#gateSteps;
    const shifted: ProgressUpdate = {
      progress: update.progress + shift,
      ...(update.total === undefined ? {} : { total: update.total + shift }),
      ...(update.message === undefined ? {} : { message: update.message }),
    };
    this.#send(shifted).catch((e: unknown) => this.report(e as Error));
  }

  async #send(update: ProgressUpdate): Promise<void> {
    if (this.#token === undefined || update.progress <= this.#last) return;
    this.#last = update.progress;
    await this.ctx.mcpReq.notify({
      method: 'notifications/progress',
      params: { ...update, progressToken: this.#token },
    });
  }
}
