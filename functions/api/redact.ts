// A URI as it may be shown: status, conditions, events, logs, reports and
// the manifest carry it without userinfo, query or fragment (a presigned
// URL's signature is its credential). The function and the hydrator share
// this one rule, and the shapes of credentials in any text (redactShapes):
// the hydrator scrubs what it reports with them, and the function applies
// them again to an error it puts in status (statusError), which may come from
// a report it cannot vouch for or a Job's condition.

/** The URI with userinfo and query string removed: safe for logs, errors and the manifest. */
export function redactUri(uri: string): string {
  // The authority runs to the first '/': a '?' or '#' typed unencoded in a
  // password must not end it early and leave the userinfo in the output.
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/]*)(.*)$/.exec(uri);
  if (m === null) return uri.replace(/[?#].*$/, "");
  const [, scheme = "", authority = "", rest = ""] = m;
  const host = authority.includes("@") ? authority.slice(authority.lastIndexOf("@") + 1) : authority;
  // A query or fragment that starts in the authority runs on through the rest.
  return /[?#]/.test(host) ? `${scheme}${host.replace(/[?#].*$/, "")}` : `${scheme}${host}${rest.replace(/[?#].*$/, "")}`;
}

export const MASK = "***";

// Shapes of credentials, replaced whatever their value.
const SHAPES: [RegExp, string][] = [
  // Any URL: userinfo and query/fragment go (redactUri), the rest stays readable.
  [/\b[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^\s"'<>]+/g, "\u0000url"],
  // An Authorization (or Proxy-Authorization, Cookie) header echoed as a line: its whole value.
  [/\b((?:proxy-)?authorization|cookie|x-amz-security-token|x-goog-api-key|api-key)(\s*[:=]\s*)("?)[^\r\n"]*/gi, `$1$2$3${MASK}`],
  // AWS SigV4 in a header or a message.
  [/\bAWS4-HMAC-SHA256\s+[^\r\n"]*/g, `AWS4-HMAC-SHA256 ${MASK}`],
  [/\b(Credential|Signature|SignedHeaders)=[^\s,&"]+/g, `$1=${MASK}`],
  // Schemes with a credential after them (8 characters or more, so "Basic auth" stays a phrase).
  [/\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=:-]{8,}/g, `$1 ${MASK}`],
  // Signature and token parameters outside a URL (a query string quoted on its own).
  [
    /\b(X-Amz-[A-Za-z-]+|X-Goog-[A-Za-z-]+|sig|signature|token|access_token|id_token|refresh_token|api_key|apikey|key|password|passwd|secret)=[^\s&"]+/gi,
    `$1=${MASK}`,
  ],
  // Hugging Face user tokens, wherever they stand.
  [/\bhf_[A-Za-z0-9]{20,}\b/g, MASK],
];

/** `text` with every credential-shaped value (a URL's userinfo and query, Authorization, SigV4, tokens) replaced by ***. */
export function redactShapes(text: string): string {
  let out = text;
  for (const [re, to] of SHAPES) out = to === "\u0000url" ? out.replace(re, (u) => redactUri(u)) : out.replace(re, to);
  return out;
}

/** The most characters of an error a status carries (a replica's lastError, a node's): a server's error page must not flood it. */
export const STATUS_ERROR_MAX = 512;

/**
 * An error as a status shows it: credential shapes redacted, on one line, at most `max` characters (whole code
 * points, "…" where it was cut). What the hydrator reports is scrubbed already; this is the function's own net.
 */
export function statusError(text: string, max: number = STATUS_ERROR_MAX): string {
  const line = redactShapes(text).replace(/\s+/g, " ").trim();
  const chars = Array.from(line);
  return chars.length <= max ? line : `${chars.slice(0, max - 1).join("")}…`;
}
