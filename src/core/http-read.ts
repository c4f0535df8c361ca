/**
 * What every outbound HTTP caller of countersign reads the same way: a body no larger
 * than a bound, and `Retry-After`. Web APIs only, so the browser SDK can use them too.
 */

/**
 * The body as UTF-8, or null when it is (or declares itself) larger than `limit` bytes:
 * reading stops there, so an endless answer costs at most `limit`.
 */
export async function readCapped(
  res: Pick<Response, 'headers' | 'body'>,
  limit: number,
): Promise<string | null> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limit) {
    stop(res.body?.cancel());
    return null;
  }
  if (res.body === null) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      stop(reader.cancel());
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/**
 * Cancels without waiting: a branch of a teed body (a request read from its clone) settles
 * its cancel only once the other branch is cancelled too, which its reader may never do.
 */
const stop = (cancelled: Promise<void> | undefined): void => {
  void cancelled?.catch(() => undefined);
};

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; undefined for anything else. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  // Every HTTP-date form begins with the day's name; anything else is not one.
  if (!/^[A-Za-z]{3}/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
