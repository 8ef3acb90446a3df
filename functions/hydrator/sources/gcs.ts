// The gs:// source: every object under gs://<bucket>/<prefix>, or the one
// object the URI names, over the Cloud Storage JSON API with the hydrator's
// own fetch (so --refuse-addresses guards every connection, the token
// exchange's included; ../address-guard.ts).
//
// Identity: the prefix resolves to each object's exact generation. The
// resolved revision is `generations:<newest generation>:sha256:<digest of the
// sorted (name, size, generation) list>`; every read names its generation, so
// a concurrent overwrite can never mix two generations into one file.
// Pinned (--gcs-generations, the fleet's pin): the listing asks for every
// generation (versions=true) and takes, per name, the newest generation no
// newer than the pin's newest that was live then; the result must have the
// pin's digest. Generations are creation times in microseconds, so on a bucket
// with Object Versioning a second cluster reads the very generations the
// first verified however the prefix changed since; without versioning an
// overwritten object is gone and the pin fails, naming it, instead of
// serving other bytes.
// Integrity: crc32c (md5Hash only for an object without one) becomes
// RemoteObject.checks, which the engine checks beside SHA-256.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { AddressClass } from "../../api/address-classes.ts";
import type { Checked } from "../../common/checked.ts";
import { literalRefusal } from "../address-guard.ts";
import { gcsAuthFromEnv, type GcsAuth } from "./gcs-auth.ts";
import { bodyOf, getJson, httpRequest } from "./http-client.ts";
import { SourceError, type ByteRange, type Listing, type RemoteObject, type ServiceDigest, type Source } from "./types.ts";

export const DEFAULT_GCS_ENDPOINT = "https://storage.googleapis.com";

export interface GcsLocation {
  bucket: string;
  /** The object name prefix as given (may be empty, may name one object). */
  prefix: string;
}

// Bucket names per Cloud Storage's rules: 3-63 characters (up to 222 with dots), lowercase letters, digits, '-',
// '_' and '.', starting and ending with a letter or digit.
const BUCKET_RE = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export function parseGcsUri(uri: string): Checked<GcsLocation> {
  const m = /^gs:\/\/([^/?#]+)(?:\/(.*))?$/.exec(uri);
  if (m === null || m[1] === undefined) return { ok: false, error: `not a gs:// URI: "${uri}" (expected gs://<bucket>/<prefix>)` };
  const bucket = m[1];
  if (!BUCKET_RE.test(bucket) || (!bucket.includes(".") && bucket.length > 63)) {
    return { ok: false, error: `invalid Cloud Storage bucket name "${bucket}" in "${uri}"` };
  }
  return { ok: true, value: { bucket, prefix: m[2] ?? "" } };
}

/** A pin: the newest generation of the set and the digest of the whole (name, size, generation) list. */
export interface GenerationPin {
  newest: bigint;
  digest: string;
}

const PIN_RE = /^generations:([0-9]{1,20}):(sha256:[0-9a-f]{64})$/;

export function parseGenerationPin(s: string): Checked<GenerationPin> {
  const m = PIN_RE.exec(s);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    return { ok: false, error: `--gcs-generations must be generations:<generation>:sha256:<64 hex digits>, not "${s}"` };
  }
  return { ok: true, value: { newest: BigInt(m[1]), digest: m[2] } };
}

export function formatGenerationPin(p: GenerationPin): string {
  return `generations:${p.newest}:${p.digest}`;
}

/** One object generation as the JSON API lists it (only the fields the source reads). */
const GcsObject = z.object({
  name: z.string(),
  size: z.string().regex(/^[0-9]+$/),
  generation: z.string().regex(/^[0-9]+$/),
  md5Hash: z.string().optional(),
  crc32c: z.string().optional(),
  contentEncoding: z.string().optional(),
  componentCount: z.number().optional(),
  timeDeleted: z.string().optional(),
});
type GcsObject = z.infer<typeof GcsObject>;
const ObjectList = z.object({ items: z.array(GcsObject).optional(), nextPageToken: z.string().optional() });

/** What a listed object is pinned to; kept inside the source, keyed by RemoteObject.id. */
export interface Pinned {
  name: string;
  size: number;
  generation: string;
}

/** Digest over the sorted (name, size, generation) list: what the prefix resolved to. */
export function generationsDigest(pins: readonly Pinned[]): string {
  const h = createHash("sha256");
  for (const p of [...pins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.update(`${p.name}\0${p.size}\0${p.generation}\n`);
  return `sha256:${h.digest("hex")}`;
}

/** The pin of a set of generations (the resolved revision's form). */
export function pinOf(pins: readonly Pinned[]): GenerationPin {
  const newest = pins.reduce((m, p) => (BigInt(p.generation) > m ? BigInt(p.generation) : m), 0n);
  return { newest, digest: generationsDigest(pins) };
}

/**
 * Per name, the generation that was live when the pin was made: the newest one no newer than the pin's newest,
 * unless it had already been replaced or deleted by then (timeDeleted, in milliseconds; generations are
 * microseconds). Whatever this picks is checked against the pin's digest: a guess that is wrong fails, never
 * serves other bytes.
 */
export function generationsAt(all: readonly GcsObject[], newest: bigint): GcsObject[] {
  const byName = new Map<string, GcsObject>();
  for (const o of all) {
    const g = BigInt(o.generation);
    if (g > newest) continue;
    if (o.timeDeleted !== undefined) {
      const deletedUs = BigInt(Date.parse(o.timeDeleted)) * 1000n;
      if (deletedUs <= newest) continue;
    }
    const prev = byName.get(o.name);
    if (prev === undefined || BigInt(prev.generation) < g) byName.set(o.name, o);
  }
  return [...byName.values()];
}

/**
 * The object's own digest the engine checks: crc32c, which GCS keeps for every object (what gcloud checks), else
 * md5Hash where it vouches for one. Not both: they catch the same thing (bytes that are not what the service
 * stored), SHA-256 is the check that matters, and MD5 costs about a sixth of a download's CPU
 * (docs/benchmarks.md, "Cloud Storage and Azure Blob").
 */
export function serviceChecks(o: GcsObject): ServiceDigest[] {
  if (o.crc32c !== undefined && o.crc32c !== "") return [{ algorithm: "crc32c", base64: o.crc32c }];
  // A composite object (compose) has no MD5; GCS omits md5Hash then, and so does this.
  if (o.md5Hash !== undefined && o.md5Hash !== "" && o.componentCount === undefined) return [{ algorithm: "md5", base64: o.md5Hash }];
  return [];
}

/** A relative POSIX path for the name under the prefix, or an error: the destination is never escaped. */
export function relativePathForName(name: string, dirPrefix: string): Checked<string> {
  const rel = name.slice(dirPrefix.length);
  if (rel === "") return { ok: false, error: `object "${name}" has an empty name under the prefix` };
  const segments = rel.split("/");
  if (rel.startsWith("/") || rel.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..")) {
    return { ok: false, error: `object "${name}" does not map to a safe relative path ("${rel}")` };
  }
  return { ok: true, value: rel };
}

export interface GcsSourceOptions {
  uri: string;
  /** The JSON API's base URL: an emulator or a private endpoint; default https://storage.googleapis.com. */
  endpoint?: string;
  /** Where GOOGLE_APPLICATION_CREDENTIALS (a service-account key file) is read from. */
  env?: Record<string, string | undefined>;
  /** The fleet's pin (--gcs-generations): read exactly these generations, or fail. */
  generations?: string;
  /** Objects per listing page (maxResults); the service's default (1000) unless set. */
  listPageSize?: number;
  /** Address classes the endpoint may not be written as (names are checked at connect time: address-guard.ts). */
  refusedAddresses?: readonly AddressClass[];
}

export class GcsSource implements Source {
  readonly #loc: GcsLocation;
  readonly #endpoint: string;
  readonly #auth: GcsAuth;
  readonly #pin: GenerationPin | undefined;
  readonly #pageSize: number | undefined;
  readonly #pins = new Map<string, Pinned>();

  constructor(loc: GcsLocation, endpoint: string, auth: GcsAuth, opts: { pin?: GenerationPin; listPageSize?: number } = {}) {
    this.#loc = loc;
    this.#endpoint = endpoint.replace(/\/+$/, "");
    this.#auth = auth;
    this.#pin = opts.pin;
    this.#pageSize = opts.listPageSize;
  }

  #where(name: string, generation?: string): string {
    return `gs://${this.#loc.bucket}/${name}${generation ? ` (generation ${generation})` : ""}`;
  }

  #objectUrl(name: string): string {
    return `${this.#endpoint}/storage/v1/b/${encodeURIComponent(this.#loc.bucket)}/o/${encodeURIComponent(name)}`;
  }

  async #get(url: string, what: string, signal: AbortSignal): Promise<unknown> {
    const headers = await this.#auth.headers(signal);
    try {
      return (await getJson(url, what, headers, signal)).json;
    } catch (err) {
      throw this.#explain(err);
    }
  }

  /** A status with what it means here: whose credentials, which permission. */
  #explain(err: unknown): unknown {
    if (!(err instanceof SourceError) || (err.status !== 401 && err.status !== 403)) return err;
    const who = this.#auth.principal === "anonymous" ? "without credentials (no GOOGLE_APPLICATION_CREDENTIALS)" : `as ${this.#auth.principal}`;
    const need = "storage.objects.list and storage.objects.get, e.g. roles/storage.objectViewer";
    return new SourceError(`${err.message} (reading ${who}; the service account needs ${need})`, {
      status: err.status,
      retryable: false,
      cause: err,
    });
  }

  /** Every object generation under `prefix` (every one with `versions`, else the live ones), all pages. */
  async #listAll(prefix: string, versions: boolean, signal: AbortSignal): Promise<GcsObject[]> {
    const out: GcsObject[] = [];
    let token: string | undefined;
    for (let page = 0; ; page++) {
      const q = new URLSearchParams({ prefix, projection: "noAcl" });
      if (versions) q.set("versions", "true");
      if (this.#pageSize !== undefined) q.set("maxResults", String(this.#pageSize));
      if (token !== undefined) q.set("pageToken", token);
      const url = `${this.#endpoint}/storage/v1/b/${encodeURIComponent(this.#loc.bucket)}/o?${q}`;
      const json = await this.#get(url, `gs://${this.#loc.bucket}/${prefix}: listing`, signal);
      const parsed = ObjectList.safeParse(json);
      if (!parsed.success) throw new SourceError(`gs://${this.#loc.bucket}/${prefix}: the listing is not the JSON API's`, { retryable: false });
      // Folder placeholders ("dir/") are not files.
      for (const o of parsed.data.items ?? []) if (!o.name.endsWith("/")) out.push(o);
      const next = parsed.data.nextPageToken;
      if (next === undefined || next === "") return out;
      if (next === token) throw new SourceError(`gs://${this.#loc.bucket}/${prefix}: the listing does not advance`, { retryable: false });
      token = next;
    }
  }

  async list(signal: AbortSignal): Promise<Listing> {
    const { bucket, prefix } = this.#loc;
    const pin = this.#pin;
    const dirPrefix = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    let entries = await this.#listAll(dirPrefix, pin !== undefined, signal);
    let base = dirPrefix;
    if (entries.length === 0 && prefix !== "" && !prefix.endsWith("/")) {
      // gs://bucket/path/file.bin names one object: fetched as its basename.
      entries = (await this.#listAll(prefix, pin !== undefined, signal)).filter((o) => o.name === prefix);
      base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    }
    if (pin !== undefined) entries = this.#atPin(entries, pin);
    if (entries.length === 0) throw new SourceError(`gs://${bucket}/${dirPrefix}: no objects under this prefix`, { retryable: false });

    this.#pins.clear();
    const objects: RemoteObject[] = entries.map((o) => {
      const rel = relativePathForName(o.name, base);
      if (!rel.ok) throw new SourceError(`gs://${bucket}: ${rel.error}`, { retryable: false });
      if (o.contentEncoding !== undefined && /gzip/i.test(o.contentEncoding)) {
        // GCS serves such an object decompressed and ignores ranges (decompressive transcoding): its stored size and
        // checksums would not match what arrives.
        throw new SourceError(
          `${this.#where(o.name, o.generation)}: stored with Content-Encoding ${o.contentEncoding}, which Cloud Storage decompresses on download and reads whole; store it without Content-Encoding`,
          { retryable: false },
        );
      }
      const p: Pinned = { name: o.name, size: Number(o.size), generation: o.generation };
      // The id changes with the generation, so resume never splices two generations of one object.
      const id = `${o.name}#${o.generation}`;
      this.#pins.set(id, p);
      const checks = serviceChecks(o);
      return {
        id,
        size: p.size,
        unpack: { kind: "file", path: rel.value },
        description: this.#where(o.name, o.generation),
        ...(checks.length > 0 ? { checks } : {}),
      };
    });
    return {
      identity: { kind: "gcs", reference: `gs://${bucket}/${prefix}`, resolved: formatGenerationPin(pinOf([...this.#pins.values()])) },
      objects,
    };
  }

  /** The generations the pin names, found among every generation listed, or a clear failure. */
  #atPin(all: readonly GcsObject[], pin: GenerationPin): GcsObject[] {
    const chosen = generationsAt(all, pin.newest);
    const got = pinOf(chosen.map((o) => ({ name: o.name, size: Number(o.size), generation: o.generation })));
    if (chosen.length > 0 && got.digest === pin.digest) return chosen;
    const live = all.filter((o) => o.timeDeleted === undefined);
    const newer = live.filter((o) => BigInt(o.generation) > pin.newest).map((o) => this.#where(o.name, o.generation));
    const example = newer.length > 0 ? ` (now, e.g., ${newer.slice(0, 3).join(", ")}${newer.length > 3 ? ` and ${newer.length - 3} more` : ""})` : "";
    throw new SourceError(
      `gs://${this.#loc.bucket}/${this.#loc.prefix}: the generations pinned for this cache (${formatGenerationPin(pin)}) are no longer all in the bucket${example}: ` +
        "an object was overwritten or deleted since the first cluster verified it, on a bucket without Object Versioning (or whose lifecycle removed the old generation). " +
        "Enable Object Versioning to keep the pinned bytes readable, or change the source to pin anew",
      { retryable: false },
    );
  }

  async read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const p = this.#pins.get(object.id);
    if (p === undefined) throw new SourceError(`gs://${this.#loc.bucket}: object "${object.id}" was not in this source's listing`, { retryable: false });
    const what = this.#where(p.name, p.generation);
    const headers = await this.#auth.headers(signal);
    let res: Response;
    try {
      res = await httpRequest({ url: `${this.#objectUrl(p.name)}?alt=media&generation=${p.generation}`, what, headers, signal, ...(range ? { range } : {}) });
    } catch (err) {
      if (err instanceof SourceError && err.status === 404) {
        throw new SourceError(`${what}: no longer exists (overwritten or deleted since it was listed, on a bucket without Object Versioning)`, {
          status: 404,
          retryable: false,
          cause: err,
        });
      }
      throw this.#explain(err);
    }
    const want = range === undefined ? p.size : range.end - range.start + 1;
    const length = res.headers.get("content-length");
    if (length !== null && Number(length) !== want) {
      // A server that changed the object under us, or transcoded it, would otherwise corrupt the file silently.
      await res.body?.cancel().catch(() => undefined);
      throw new SourceError(`${what}: expected ${want} bytes${range ? ` for bytes=${range.start}-${range.end}` : ""}, the server sent ${length}`, {
        retryable: false,
      });
    }
    return bodyOf(res, what);
  }

  supportsRanges(_object: RemoteObject): boolean {
    return true;
  }
}

/** Builds a gs:// source; errors are values (a bad URI, endpoint or pin). The key is read by the first request. */
export function createGcsSource(opts: GcsSourceOptions): Checked<GcsSource> {
  const loc = parseGcsUri(opts.uri);
  if (!loc.ok) return loc;
  const endpoint = opts.endpoint ?? DEFAULT_GCS_ENDPOINT;
  let host: string;
  try {
    const u = new URL(endpoint);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
    host = u.hostname;
  } catch {
    return { ok: false, error: `--endpoint: invalid Cloud Storage endpoint URL "${endpoint}"` };
  }
  // An endpoint written as an IP address is never looked up: checked here too, with the flag in the message.
  const literal = literalRefusal(host, opts.refusedAddresses ?? []);
  if (literal !== undefined) return { ok: false, error: `--endpoint: ${literal.message}` };
  let pin: GenerationPin | undefined;
  if (opts.generations !== undefined) {
    const p = parseGenerationPin(opts.generations);
    if (!p.ok) return p;
    pin = p.value;
  }
  const auth = gcsAuthFromEnv(opts.env ?? process.env);
  return {
    ok: true,
    value: new GcsSource(loc.value, endpoint, auth, {
      ...(pin ? { pin } : {}),
      ...(opts.listPageSize === undefined ? {} : { listPageSize: opts.listPageSize }),
    }),
  };
}
