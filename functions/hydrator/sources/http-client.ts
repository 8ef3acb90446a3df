// The one HTTP reader the http(s):// and hf:// sources share: ranged GETs and
// HEADs over Node's fetch, every failure turned into a SourceError that says
// whether a retry can help and carries Retry-After.
import { STATUS_CODES } from "node:http";
import { request as undiciRequest } from "undici";
import { networkFailure } from "../network-errors.ts";
import { parseRetryAfter } from "./retry-after.ts";
import { redactUri } from "../paths.ts";
import { SourceError, type ByteRange, type ByteStream } from "./types.ts";

export interface HttpRequest {
  url: string;
  /** What is being fetched, safe to print (credentials removed). */
  what: string;
  headers?: Record<string, string>;
  range?: ByteRange;
  method?: "GET" | "HEAD";
  signal: AbortSignal;
}

/** 408, 425, 429 and 5xx are worth retrying; other statuses will not change by asking again. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** As many as fetch follows by default (the Fetch standard's limit). */
export const MAX_REDIRECTS = 20;
const REDIRECT = new Set([301, 302, 303, 307, 308]);
/** Headers that carry a credential: never sent to another origin than the one they were given for. */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];

/** One request, redirects not followed; network failures already mapped by the caller's send. */
export type SendOnce = (url: string, init: { method: string; headers: Record<string, string>; redirect: "manual" }) => Promise<Response>;

/**
 * Follows redirects itself instead of leaving it to fetch, so that a
 * redirect the hydrator will never follow (file:, data:, ftp:, a Location
 * that is not a URL, a loop) is a permanent failure naming where it pointed,
 * not a "fetch failed" retried until the attempts run out; and so that a
 * credential header never reaches another origin (as fetch does too).
 */
export async function followRedirects(url: string, method: string, headers: Record<string, string>, what: string, send: SendOnce): Promise<Response> {
  let current = url;
  let verb = method;
  let sent = { ...headers };
  for (let hop = 0; ; hop++) {
    const res = await send(current, { method: verb, headers: sent, redirect: "manual" });
    const location = res.headers.get("location");
    if (!REDIRECT.has(res.status) || location === null) return res;
    await res.body?.cancel().catch(() => undefined);
    const permanent = (why: string): SourceError => new SourceError(`${what}: ${why}`, { status: res.status, retryable: false });
    if (hop >= MAX_REDIRECTS) throw permanent(`more than ${MAX_REDIRECTS} redirects`);
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw permanent(`HTTP ${res.status} redirects to ${JSON.stringify(redactUri(location))}, which is not a URL`);
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw permanent(`HTTP ${res.status} redirects to ${redactUri(next.href)}: only http(s) redirects are followed`);
    }
    if (next.origin !== new URL(current).origin) sent = Object.fromEntries(Object.entries(sent).filter(([h]) => !CREDENTIAL_HEADERS.includes(h.toLowerCase())));
    // A 303 turns the request into a GET (the hydrator sends only GET and HEAD).
    if (res.status === 303 && verb !== "HEAD") verb = "GET";
    current = next.href;
  }
}

/** A request that failed without an HTTP answer, as a SourceError in words (or the abort's reason). */
function sendFailure(err: unknown, req: HttpRequest, url: string): Error {
  if (req.signal.aborted)
    return req.signal.reason instanceof Error ? req.signal.reason : new SourceError(`${req.what}: aborted`, { retryable: true, cause: err });
  // In words with the fix; an untrusted certificate or a refused address (address-guard.ts) is permanent.
  const f = networkFailure(err, url);
  const cause = (err as { cause?: { message?: string } }).cause;
  if (f !== undefined) return new SourceError(`${req.what}: ${f.text}`, { retryable: f.retryable, cause: err });
  return new SourceError(`${req.what}: ${cause?.message ?? (err as Error).message}`, { retryable: true, cause: err });
}

function requestHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = { "accept-encoding": "identity", ...(req.headers ?? {}) };
  if (req.range !== undefined) headers["range"] = `bytes=${req.range.start}-${req.range.end}`;
  return headers;
}

export async function httpRequest(req: HttpRequest): Promise<Response> {
  const res = await followRedirects(req.url, req.method ?? "GET", requestHeaders(req), req.what, async (url, init) => {
    try {
      return await fetch(url, { ...init, signal: req.signal });
    } catch (err) {
      throw sendFailure(err, req, url);
    }
  });
  const expected = req.range !== undefined ? 206 : 200;
  if (res.status === expected || (req.method === "HEAD" && res.status === 200)) return res;
  throw statusFailure(req, res, await res.text().catch(() => ""));
}

/**
 * A GET whose body is the bytes of a file: the same request, redirects and errors as `httpRequest`, sent with
 * undici's `request` (through the same global dispatcher, so the address guard and the CA settings apply), whose
 * body is a Node stream of the socket's buffers. fetch wraps every read in a web stream and a promise: on a
 * fast link that alone cost about one CPU-second per GiB (docs/benchmarks.md).
 */
export async function httpStream(req: HttpRequest): Promise<ByteStream> {
  let body: { destroy(): void; text(): Promise<string> } | undefined;
  const res = await followRedirects(req.url, "GET", requestHeaders(req), req.what, async (url, init) => {
    try {
      body?.destroy();
      const r = await undiciRequest(url, { method: "GET", headers: init.headers, signal: req.signal });
      body = r.body;
      const headers = new Headers();
      for (const [k, v] of Object.entries(r.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, x);
      return new Response(null, { status: r.statusCode, statusText: STATUS_CODES[r.statusCode] ?? "", headers });
    } catch (err) {
      throw sendFailure(err, req, url);
    }
  });
  const stream = body as unknown as ByteStream & { destroy(): void; text(): Promise<string> };
  const expected = req.range !== undefined ? 206 : 200;
  if (res.status === expected) return stream;
  throw statusFailure(req, res, await stream.text().catch(() => ""));
}

/** The SourceError for an answer that is not the one asked for, with a short body as detail. */
function statusFailure(req: HttpRequest, res: Response, body: string): SourceError {
  const detail = body.length > 0 && body.length < 300 ? `: ${body.trim()}` : "";
  // A server that ignores Range answers 200 with the whole body: refuse it rather than write it at an offset.
  if (req.range !== undefined && res.status === 200) {
    return new SourceError(`${req.what}: the server ignored the byte range (200 instead of 206)`, { status: 200, retryable: false });
  }
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  return new SourceError(`${req.what}: HTTP ${res.status} ${res.statusText}${detail}`, {
    status: res.status,
    retryable: retryableStatus(res.status),
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  });
}

/** The body of a successful response as a stream, or an error if it has none. */
export function bodyOf(res: Response, what: string): ReadableStream<Uint8Array> {
  if (res.body === null) throw new SourceError(`${what}: empty response body`, { retryable: true });
  return res.body;
}

/** JSON from a GET, with the status mapped like any other read. */
export async function getJson(url: string, what: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ json: unknown; res: Response }> {
  const res = await httpRequest({ url, what, headers: { accept: "application/json", ...headers }, signal });
  const text = await res.text();
  try {
    return { json: JSON.parse(text) as unknown, res };
  } catch (err) {
    throw new SourceError(`${what}: the response is not JSON`, { retryable: false, cause: err });
  }
}
