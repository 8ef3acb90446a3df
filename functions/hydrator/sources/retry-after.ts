// A server's Retry-After header (429, 503), which every HTTP-speaking source
// hands the transfer engine in its SourceError.

/** Parses Retry-After (delta-seconds or an HTTP date) into seconds, or undefined. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  // An HTTP-date (IMF-fixdate, RFC 850 or asctime) starts with a day name.
  // Anything else ("-1", "1.5", ISO 8601) is invalid and ignored: V8's lenient
  // Date.parse would read some of those as dates in 2001 (a wait of 0).
  if (!/^[A-Za-z]{3}/.test(v)) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, Math.ceil((t - now) / 1000));
}
