import {
  Client,
  type JSONRPCNotification,
  type MessageExtraInfo,
} from '@modelcontextprotocol/client';
import type { ProgressUpdate } from './progress.js';

/**
 * The gateway's client for the upstream, which routes progress itself. The SDK's
 * `onprogress` runs a notification's handler a microtask late while it settles the
 * response at once, so the last update before a result, arriving in the same read, is
 * dropped as "unknown token". The gateway instead sends a token of its own and takes
 * `notifications/progress` in arrival order, before the SDK's dispatch (the override
 * point `_onnotification` is meant for); a token on one upstream connection is also
 * never an agent's, whose tokens may collide across sessions.
 */
export class UpstreamClient extends Client {
  readonly #progress = new Map<string, (update: ProgressUpdate) => void>();
  /** Tokens are this prefix and a counter: an update for one no longer watched is late, not foreign. */
  static readonly #PREFIX = 'countersign-';
  #next = 0;

  /** A fresh token whose updates go to `relay` until `done()`. */
  watchProgress(relay: (update: ProgressUpdate) => void): { token: string; done(): void } {
    const token = `${UpstreamClient.#PREFIX}${++this.#next}`;
    this.#progress.set(token, relay);
    return { token, done: () => this.#progress.delete(token) };
  }

  protected override _onnotification(raw: JSONRPCNotification, extra?: MessageExtraInfo): void {
    if (raw.method === 'notifications/progress') {
      const { progressToken, progress, total, message } = (raw.params ?? {}) as {
        progressToken?: unknown;
        progress?: unknown;
        total?: unknown;
        message?: unknown;
      };
      if (typeof progressToken === 'string' && progressToken.startsWith(UpstreamClient.#PREFIX)) {
        const relay = this.#progress.get(progressToken);
        if (relay !== undefined && typeof progress === 'number') {
          relay({
            progress,
            ...(typeof total === 'number' ? { total } : {}),
            ...(typeof message === 'string' ? { message } : {}),
          });
        }
        return;
      }
    }
    super._onnotification(raw, extra);
  }
}
