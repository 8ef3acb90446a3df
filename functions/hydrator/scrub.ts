// Every text that leaves the hydrator (the report and its ConfigMap, the
// termination log, stderr, progress notices) passes scrub() first. A server
// may echo whatever it received into an error body (an HTTP 401 page that
// prints the Authorization header, a proxy's debug page), and that body
// becomes the failure message, which travels to the replica's and the
// ModelCache's status. Two nets:
// - every credential this process holds is remembered when it is read or
//   made (the environment's tokens and keys, a URL's userinfo and query, a
//   registry password, a Basic header, a registry's bearer token) and
//   replaced wherever it appears, in any encoding we sent it in;
// - Authorization-shaped text is replaced whatever its value: `Bearer …`,
//   `Basic …`, AWS SigV4 `Credential=…`/`Signature=…`, `Authorization: …`
//   header lines, userinfo and query strings of any URL, and signature or
//   token parameters of a query (X-Amz-*, X-Goog-*, Azure `sig=`, …)
//   (redactShapes, functions/api/redact.ts: the function applies it too).
import { MASK, redactShapes } from "../api/redact.ts";

/** Shorter values would mask ordinary words and digits (a 3-letter password is not worth a garbled message). */
const MIN_SECRET = 4;

const remembered = new Set<string>();

/** Environment variables whose values are credentials, read by some source. */
export const CREDENTIAL_ENV = [
  "HF_TOKEN",
  "HUGGING_FACE_HUB_TOKEN",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "MODELCACHE_HTTP_TOKEN",
  "MODELCACHE_HTTP_USERNAME",
  "MODELCACHE_HTTP_PASSWORD",
] as const;

/** Remember a credential (and the forms it is sent in) so no output can carry it. */
export function rememberSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET) return;
  remembered.add(value);
  remembered.add(encodeURIComponent(value));
  remembered.add(Buffer.from(value).toString("base64"));
}

/** The credentials of the environment, remembered at start-up before any source runs. */
export function rememberEnvironment(env: Record<string, string | undefined>): void {
  for (const name of CREDENTIAL_ENV) rememberSecret(env[name]);
}

/** A URL's userinfo and every query value: a presigned URL's signature is its credential. */
export function rememberUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return;
  }
  rememberSecret(decodeURIComponent(u.username));
  rememberSecret(decodeURIComponent(u.password));
  rememberSecret(u.username);
  rememberSecret(u.password);
  for (const [, v] of u.searchParams) rememberSecret(v);
}

/** `text` with every remembered credential and every Authorization-shaped value replaced by ***. */
export function scrub(text: string): string {
  let out = text;
  // Longest first: a secret that contains another must go whole.
  for (const s of [...remembered].sort((a, b) => b.length - a.length)) if (out.includes(s)) out = out.split(s).join(MASK);
  return redactShapes(out);
}

/** Every string in a flat record scrubbed (progress notices). */
export function scrubFields(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === "string" ? scrub(v) : v]));
}
