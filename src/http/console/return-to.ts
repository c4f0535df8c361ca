/** The longest path a sign-in may return to. */
const MAX_RETURN_TO = 2048;

/**
 * Where to send the browser after sign-in: a path on this origin only, else `/`.
 * `//evil.example`, `/\evil.example` and `https://…` all name another origin to a
 * browser, so only a single leading `/` followed by something other than `/` or `\`
 * passes, and the parsed URL must stay on a placeholder origin.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO) return '/';
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (!/^\/(?![/\\])/.test(value) || /[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  const base = 'http://return-to.invalid';
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return '/';
  }
  if (url.origin !== base) return '/';
  // The parser removes dot segments: `/.//evil.example` comes out as `//evil.example`,
  // which a browser reads as another origin. Only a path the parser left as it was passes.
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path === value && !path.startsWith('//') ? path : '/';
}
