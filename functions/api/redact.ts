// A URI as it may be shown: status, conditions, events, logs, reports and
// the manifest carry it without userinfo, query or fragment (a presigned
// URL's signature is its credential). The function and the hydrator share
// this one rule.

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
