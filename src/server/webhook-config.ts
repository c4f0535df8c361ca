import { CountersignError } from '../core/errors.js';
import { OUTBOUND_URL_PROBLEM_TEXT, outboundUrlProblem } from '../core/outbound-url.js';

/**
 * Refuses webhook entries that could never be delivered as written:
 *
 * - a URL with userinfo: fetch refuses credentials in a URL, and the dead-letter list
 *   would show the password to every auditor;
 * - one URL given twice: deliveries are keyed by URL, so the second entry's events would
 *   be signed with the first entry's secret. One entry per endpoint, with every event it
 *   wants, says the same without the ambiguity;
 * - a fragment, or anything but http(s).
 *
 * Plain http stays allowed: a delivery carries an HMAC over the body, never the secret.
 * Messages name the entry by its index, never quote the URL.
 */
export function assertWebhookEntries(
  webhooks: readonly { readonly url: string }[],
  where: string,
): void {
  const seen = new Map<string, number>();
  webhooks.forEach(({ url }, i) => {
    const problem = outboundUrlProblem(url, 'anywhere');
    if (problem !== null) {
      throw invalid(`${where}/${i}/url ${OUTBOUND_URL_PROBLEM_TEXT[problem]}`);
    }
    const first = seen.get(url);
    if (first !== undefined) {
      throw invalid(
        `${where}/${i}/url is also the url of entry ${first}; configure each endpoint once, listing all its events`,
      );
    }
    seen.set(url, i);
  });
}

// Not `ConfigErrorCode` by name: config.ts imports this module, and a cycle is refused.
const invalid = (message: string) => new CountersignError('CONFIG_INVALID', message);
