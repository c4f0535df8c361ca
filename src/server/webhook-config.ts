import { CountersignError } from '../core/errors.js';
import { OUTBOUND_URL_PROBLEM_TEXT, outboundUrlProblem } from '../core/outbound-url.js';

/**
 * Refuses webhook entries that could never be delivered as written: a URL with userinfo
 * (fetch refuses credentials in a URL, and the dead-letter list would show the password
 * to every auditor), a fragment, or anything but http(s).
 *
 * Plain http stays allowed: a delivery carries an HMAC over the body, never the secret.
 * Messages name the entry by its index, never quote the URL.
 */
export function assertWebhookEntries(
  webhooks: readonly { readonly url: string }[],
  where: string,
): void {
  webhooks.forEach(({ url }, i) => {
    const problem = outboundUrlProblem(url, 'anywhere');
    if (problem !== null) {
      throw invalid(`${where}/${i}/url ${OUTBOUND_URL_PROBLEM_TEXT[problem]}`);
    }
  });
}

// Not `ConfigErrorCode` by name: config.ts imports this module, and a cycle is refused.
const invalid = (message: string) => new CountersignError('CONFIG_INVALID', message);
