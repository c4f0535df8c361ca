import type { UpstreamClient } from './upstream-client.js';
import type { Server, ServerNotifier } from '@modelcontextprotocol/server';

/** The upstream notifications every downstream session may receive. */
const CHANGES = {
  'notifications/tools/list_changed': 'toolsChanged',
  'notifications/prompts/list_changed': 'promptsChanged',
  'notifications/resources/list_changed': 'resourcesChanged',
} as const;

type ChangeMethod = keyof typeof CHANGES;

/**
 * Relays the upstream's unsolicited notifications to the downstream sessions. The
 * gateway holds one upstream connection for all of them, so what the upstream says to
 * "its client" it says to every session: list changes, resource updates, and (to 2025-era
 * sessions, the only ones with a session-wide log channel) log messages. Progress and
 * cancellation belong to one request and travel with it instead (`forward.ts`).
 */
export class NotificationRelay {
  readonly #sessions = new Map<Server, 'legacy' | 'modern'>();
  #notifier: ServerNotifier | undefined;

  /**
   * `shared`: sessions act for different agents (agent tokens). Then only list changes are
   * relayed: a log message or a resource update may tell one agent of another's calls.
   */
  constructor(
    private readonly report: (error: Error) => void,
    private readonly shared = false,
  ) {}

  /** A long-lived downstream server (a stdio connection, a 2025-era HTTP session). */
  attach(server: Server, era: 'legacy' | 'modern'): void {
    this.#sessions.set(server, era);
    const previous = server.onclose;
    server.onclose = () => {
      this.#sessions.delete(server);
      previous?.();
    };
  }

  /** Where 2026-era HTTP sessions get change notifications: their `subscriptions/listen` streams. */
  publishTo(notifier: ServerNotifier): void {
    this.#notifier = notifier;
  }

  /** Starts relaying what `client` receives; on a 2026-era connection, asks for it first. */
  async listen(client: UpstreamClient): Promise<void> {
    for (const method of Object.keys(CHANGES) as ChangeMethod[]) {
      client.setNotificationHandler(method, () => this.#change(method));
    }
    if (this.shared) return this.#listenForChanges(client);
    client.setNotificationHandler('notifications/resources/updated', (n) => {
      this.#notifier?.resourceUpdated(n.params.uri);
      this.#send({ method: n.method, params: n.params }, true);
    });
    client.setNotificationHandler('notifications/message', (n) => {
      this.#send({ method: n.method, params: n.params }, false);
    });
    return this.#listenForChanges(client);
  }

  /** On a 2026-era upstream connection, asks for the list changes it will send. */
  async #listenForChanges(client: UpstreamClient): Promise<void> {
    if (client.getProtocolEra() !== 'modern') return;
    const caps = client.getServerCapabilities() ?? {};
    const filter = {
      ...(caps.tools?.listChanged === true ? { toolsListChanged: true } : {}),
      ...(caps.prompts?.listChanged === true ? { promptsListChanged: true } : {}),
      ...(caps.resources?.listChanged === true ? { resourcesListChanged: true } : {}),
    };
    if (Object.keys(filter).length === 0) return;
    try {
      await client.listen(filter);
    } catch (e) {
      // The gateway still serves; the agent just learns of list changes by listing again.
      this.report(new Error(`the upstream refused subscriptions/listen: ${(e as Error).message}`));
    }
  }

  #change(method: ChangeMethod): void {
    this.#notifier?.[CHANGES[method]]();
    this.#send({ method }, true);
  }

  #send(notification: { method: string; params?: Record<string, unknown> }, toModern: boolean) {
    for (const [server, era] of this.#sessions) {
      // A 2026-era stdio connection takes change notifications onto its listen streams
      // (the SDK's entry does the routing); it has no channel for anything else.
      if (era === 'modern' && !toModern) continue;
      server.notification(notification).catch((e: unknown) => this.report(e as Error));
    }
  }
}
