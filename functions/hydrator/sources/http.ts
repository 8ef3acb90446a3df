// The http(s):// source: one URL (optionally pinned with --sha256) or a list
// of files each with its URL, path and sha256 (--files). The listing HEADs
// every file for its size, range support and ETag; reads are ranged GETs that
// carry If-Match with that ETag, so a file replaced mid-download fails loudly
// instead of mixing two versions.
import { createHash } from "node:crypto";
import { z } from "zod";
import { redactUri, safeRelativePath } from "../paths.ts";
import type { Checked } from "../../common/checked.ts";
import { rememberSecret, rememberUrl } from "../scrub.ts";
import { httpRequest, httpStream } from "./http-client.ts";
import { SourceError, type ByteRange, type ByteStream, type Listing, type RemoteObject, type Source } from "./types.ts";
import { mapLimit } from "../../common/concurrency.ts";

export const HttpFileSpec = z.object({
  url: z.string().regex(/^https?:\/\//, "must be an http(s):// URL"),
  /** Where the file lands, relative; defaults to the URL's last path segment. */
  path: z.string().optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex digits")
    .optional(),
});
export type HttpFileSpec = z.infer<typeof HttpFileSpec>;
export const HttpFileList = z.array(HttpFileSpec).min(1, "the file list is empty");

interface Entry {
  url: string;
  display: string;
  path: string;
  sha256?: string;
  authorization?: string;
}

interface Probed {
  size: number;
  ranges: boolean;
  etag?: string;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/**
 * fetch refuses URLs carrying userinfo: move it to a Basic Authorization
 * header, never into logs. (On a laptop only: the function's API refuses a
 * URL with userinfo and passes credentials from a Secret, see below.)
 */
function splitUserinfo(url: string): { url: string; authorization?: string } {
  const u = new URL(url);
  if (u.username === "" && u.password === "") return { url };
  const auth = basic(decodeURIComponent(u.username), decodeURIComponent(u.password));
  u.username = "";
  u.password = "";
  return { url: u.toString(), authorization: auth };
}

/**
 * The credential a Job gets from the cache's Secret (http.authSecretRef):
 * MODELCACHE_HTTP_TOKEN as a bearer token, else MODELCACHE_HTTP_USERNAME and
 * MODELCACHE_HTTP_PASSWORD (a kubernetes.io/basic-auth Secret) as Basic. Sent
 * to the listed URLs' origins only: a redirect elsewhere drops it.
 */
export function envAuthorization(env: Record<string, string | undefined>): string | undefined {
  const token = env["MODELCACHE_HTTP_TOKEN"];
  if (token) return `Bearer ${token}`;
  const user = env["MODELCACHE_HTTP_USERNAME"] ?? "";
  const password = env["MODELCACHE_HTTP_PASSWORD"] ?? "";
  return user !== "" || password !== "" ? basic(user, password) : undefined;
}

function defaultPath(url: string): string {
  const segs = new URL(url).pathname.split("/").filter((s) => s !== "");
  const last = segs.at(-1);
  return last === undefined ? "index" : decodeURIComponent(last);
}

/** Why a URL names a directory, not a file (it ends in "/"), with the fix; undefined for a file URL. */
export function directoryUrl(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return undefined;
  }
  if (!path.endsWith("/")) return undefined;
  return `${redactUri(url)} names a directory (it ends in "/"), not a file: the hydrator does not read HTML directory listings; list the files with their paths (and sha256) in a JSON file and pass it with --files, e.g. [{"url": "${redactUri(url)}config.json", "path": "config.json"}]`;
}

/**
 * `pinFlag` names where the entries' sha256 came from (--sha256 for one URL,
 * --files for a list), for the message when the bytes do not match it.
 */
export function createHttpSource(specs: readonly HttpFileSpec[], env: Record<string, string | undefined> = {}, pinFlag = "--files"): Checked<HttpSource> {
  const fromEnv = envAuthorization(env);
  rememberSecret(fromEnv);
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for (const s of specs) {
    let path: string;
    try {
      path = s.path ?? defaultPath(s.url);
    } catch {
      return { ok: false, error: `invalid URL "${redactUri(s.url)}"` };
    }
    const safe = safeRelativePath(path);
    if (!safe.ok) return { ok: false, error: `${redactUri(s.url)}: ${safe.error}` };
    if (seen.has(path)) return { ok: false, error: `two files map to the same path "${path}"` };
    seen.add(path);
    rememberUrl(s.url);
    const split = splitUserinfo(s.url);
    const url = split.url;
    const authorization = split.authorization ?? fromEnv;
    rememberSecret(authorization);
    entries.push({
      url,
      display: redactUri(s.url),
      path,
      ...(s.sha256 ? { sha256: s.sha256.toLowerCase() } : {}),
      ...(authorization ? { authorization } : {}),
    });
  }
  return { ok: true, value: new HttpSource(entries, pinFlag) };
}

export class HttpSource implements Source {
  readonly #entries: Entry[];
  readonly #probed = new Map<string, Probed & Entry>();
  readonly #pinFlag: string;
  constructor(entries: Entry[], pinFlag = "--files") {
    this.#entries = entries;
    this.#pinFlag = pinFlag;
  }

  reference(): string {
    return this.#entries.length === 1 && this.#entries[0] ? this.#entries[0].display : `${this.#entries.length} http files`;
  }

  async list(signal: AbortSignal): Promise<Listing> {
    const objects: RemoteObject[] = [];
    const lines: string[] = [];
    // A handful of HEADs at a time: a list of thousands must not open thousands of sockets.
    const probes = await mapLimit(this.#entries, 8, (e) => this.#probe(e, signal));
    this.#entries.forEach((e, i) => {
      const p = probes[i] as Probed;
      this.#probed.set(e.path, { ...e, ...p });
      objects.push({
        id: e.path,
        size: p.size,
        ...(e.sha256 ? { expected: { algorithm: "sha256" as const, hex: e.sha256, pinnedBy: this.#pinFlag } } : {}),
        unpack: { kind: "file", path: e.path },
        description: e.display,
      });
      lines.push(`${e.path}\0${p.size}\0${e.sha256 ?? `etag:${p.etag ?? ""}`}`);
    });
    const resolved = `sha256:${createHash("sha256").update(lines.sort().join("\n")).digest("hex")}`;
    return { identity: { kind: "http", reference: this.reference(), resolved }, objects };
  }

  async #probe(e: Entry, signal: AbortSignal): Promise<Probed> {
    const headers = e.authorization ? { authorization: e.authorization } : undefined;
    const res = await httpRequest({ url: e.url, what: e.display, method: "HEAD", signal, ...(headers ? { headers } : {}) });
    // A directory answers with an HTML listing (often after a redirect to ".../"): refused, not published as a file.
    const landed = directoryUrl(res.url || e.url);
    if (landed !== undefined) throw new SourceError(`${e.display}: the server redirects to a directory; ${landed}`, { status: res.status, retryable: false });
    const type = (res.headers.get("content-type") ?? "").toLowerCase();
    if (type.startsWith("text/html") && e.sha256 === undefined && !/\.html?$/i.test(e.path)) {
      throw new SourceError(
        `${e.display}: the server answers with an HTML page (Content-Type: ${type}), as for a directory listing or a login page, not a model file; if it is a directory, list its files in a JSON file and pass it with --files; if the HTML is the file you want, pin it with its sha256`,
        { status: res.status, retryable: false },
      );
    }
    const len = res.headers.get("content-length");
    if (len === null || !/^\d+$/.test(len)) {
      throw new SourceError(`${e.display}: the server does not say the file's size (no Content-Length)`, { retryable: false });
    }
    const etag = res.headers.get("etag") ?? undefined;
    return {
      size: Number(len),
      ranges: (res.headers.get("accept-ranges") ?? "").toLowerCase().includes("bytes"),
      // A weak ETag cannot guard byte ranges (RFC 9110 13.1.1): only strong ones are pinned.
      ...(etag !== undefined && !etag.startsWith("W/") ? { etag } : {}),
    };
  }

  #entry(object: RemoteObject): Probed & Entry {
    const e = this.#probed.get(object.id);
    if (e === undefined) throw new SourceError(`${object.id}: not in the listing`, { retryable: false });
    return e;
  }

  async read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ByteStream> {
    const e = this.#entry(object);
    const headers: Record<string, string> = {};
    if (e.authorization) headers["authorization"] = e.authorization;
    if (e.etag) headers["if-match"] = e.etag;
    try {
      return await httpStream({ url: e.url, what: e.display, headers, signal, ...(range ? { range } : {}) });
    } catch (err) {
      if (err instanceof SourceError && err.status === 412) {
        throw new SourceError(`${e.display}: the file changed on the server during the download (ETag no longer ${e.etag})`, { status: 412, retryable: false });
      }
      throw err;
    }
  }

  supportsRanges(object: RemoteObject): boolean {
    return this.#probed.get(object.id)?.ranges ?? false;
  }
}
