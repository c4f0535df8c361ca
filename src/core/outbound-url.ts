import { isLoopbackHost } from './loopback.js';

/**
 * What a URL countersign sends requests to may look like. A configured URL is echoed in
 * errors and API answers (dead letters), so credentials never ride in its userinfo, and
 * a secret sent over plain http is readable on every network it crosses.
 */

/** Where plain `http:` is allowed: anywhere, or only to this machine. */
export type PlainHttp = 'anywhere' | 'loopback';

export type OutboundUrlProblem = 'not_url' | 'not_http' | 'userinfo' | 'fragment' | 'plain_http';

/** Each problem as the tail of a sentence naming the field: `url ${text}`. */
export const OUTBOUND_URL_PROBLEM_TEXT: Readonly<Record<OutboundUrlProblem, string>> = {
  not_url: 'is not a URL',
  not_http: 'is not http(s)',
  userinfo: 'carries userinfo (user:password@)',
  // A fragment is never sent: whoever wrote one meant another URL.
  fragment: 'carries a fragment',
  plain_http: 'is plain http to a host that is not loopback; use https',
};

/** Why `text` cannot be a URL countersign sends to, or null when it can. */
export function outboundUrlProblem(text: string, plainHttp: PlainHttp): OutboundUrlProblem | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'not_url';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'not_http';
  if (u.username !== '' || u.password !== '') return 'userinfo';
  if (u.hash !== '') return 'fragment';
  // `hostname` is already normalised: `127.1` and `0x7f.0.0.1` read as 127.0.0.1.
  if (u.protocol === 'http:' && plainHttp === 'loopback' && !isLoopbackHost(u.hostname)) {
    return 'plain_http';
  }
  return null;
}

/** Stands in for a URL that does not parse: what it holds cannot be told apart. */
export const UNPARSEABLE_URL = '(not a URL; withheld)';

/**
 * `text` with any userinfo replaced by `***`, for URLs stored before userinfo was
 * refused. A URL that does not parse is withheld whole: where its userinfo ends is
 * not knowable, so no part of it is safe to show.
 */
export function withoutUserinfo(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return UNPARSEABLE_URL;
  }
  if (u.username === '' && u.password === '') return text;
  u.username = '***';
  u.password = '';
  return u.href;
}
