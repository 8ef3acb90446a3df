// Field rules shared by the source kinds' schemas (functions/sources/): digests,
// globs, safe relative paths, and URLs that may not carry credentials. Each
// rule is written once and enforced twice, by zod in the function and by the
// XRD (a pattern or a CEL rule) in the API server.
import { z } from "zod";
import { RELATIVE_PATH_CHARS, RELATIVE_PATH_GUARDS } from "../common/relative-path.ts";

export const SHA256 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");
export const GLOB = z.string().min(1).max(256);
/**
 * A relative POSIX path that stays inside the destination: the one rule the
 * hydrator applies too (common/relative-path.ts), plus the names it reserves
 * for SHA256SUMS and its manifest. A path refused here is a Fatal result
 * naming the field instead of a Job that fails on the cluster.
 */
export const SAFE_PATH = new RegExp(`^${RELATIVE_PATH_GUARDS}${String.raw`(?!SHA256SUMS$)(?!\.model-cache(\/|$))`}${RELATIVE_PATH_CHARS}$`);
export const SAFE_PATH_MESSAGE =
  "must be a relative path without '.' or '..' segments, empty segments, backslashes or control characters, and not SHA256SUMS or under .model-cache/";
/**
 * Inline files reach the Job through a ConfigMap volume, whose writer (the
 * kubelet) keeps names starting with '..' for itself: the API server refuses
 * such a first segment and the hydrator skips such names, so one would
 * silently go missing.
 */
export const INLINE_PATH = new RegExp(`^(?!(.*/)?\\.\\.)${SAFE_PATH.source.slice(1)}`);

/**
 * Credentials by reference only. A URL's authority holds '@' only when it
 * carries userinfo (user:password@), which would then sit in the spec, the
 * replica contract and the Job's arguments: refused, by the XRD and by the
 * function, pointing to the Secret reference to use instead. (RE2 syntax, so
 * the XRD's CEL rule runs the same pattern.)
 */
const USERINFO = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@";
/** An endpoint is a base URL: a query or fragment there could only be a credential or a mistake. */
const QUERY_OR_FRAGMENT = "[?#]";
/** Long enough for a presigned URL with an STS session token; bounded so the XRD's CEL cost stays small. */
const URL_MAX = 4096;

/** The same rule as USERINFO, as a pattern the URL must match: no '@' before the path. */
const NO_USERINFO_PATTERN = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*([/?#].*)?$";

/**
 * `inList`: the URL sits in a list of up to 10,000 items. The API server
 * estimates a CEL rule's cost as if every item were as long as allowed, and
 * refused the XRD on a live control plane (a `matches` on 10,000 URLs of
 * 4,096 characters is 15x the per-rule budget), so there the XRD checks the
 * same rule as an OpenAPI pattern, which costs no CEL budget; the function's
 * Fatal still names the field and the Secret to use.
 */
export function credentialFreeUrl(secretField: string, opts: { endpoint?: boolean; inList?: boolean } = {}) {
  const userinfo = `must not carry credentials (user:password@): put them in a Secret and name it in ${secretField}`;
  const query = `must not carry a query or fragment (an endpoint is a base URL; credentials go in a Secret named in ${secretField})`;
  const rules = [
    { rule: `!self.matches('${USERINFO}')`, message: userinfo },
    ...(opts.endpoint ? [{ rule: `!self.matches('${QUERY_OR_FRAGMENT}')`, message: query }] : []),
  ];
  return z
    .url({ protocol: /^https?$/ })
    .max(URL_MAX)
    .refine((u) => !new RegExp(USERINFO).test(u), userinfo)
    .refine((u) => !opts.endpoint || !new RegExp(QUERY_OR_FRAGMENT).test(u), query)
    .meta(opts.inList ? { pattern: NO_USERINFO_PATTERN } : { "x-kubernetes-validations": rules });
}
