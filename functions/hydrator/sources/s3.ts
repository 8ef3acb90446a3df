// The s3:// source: every object under s3://<bucket>/<prefix> on any
// S3-compatible endpoint (AWS, MinIO, versitygw, Ceph RGW, ...).
//
// Identity: the mutable prefix resolves to the exact object versions it held
// when listed (VersionIds on a versioned bucket, else ETags); the resolved
// identity is a digest over the sorted (key, size, version-or-etag) list, and
// every read pins that version (VersionId, or If-Match on the ETag) so a
// concurrent overwrite fails loudly instead of mixing generations.
// Integrity: an object's full-object SHA256 checksum, where the store holds
// one, becomes the digest the engine checks after download.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from "@aws-sdk/client-s3";
import type { AddressClass } from "../../api/address-classes.ts";
import { guardedLookup, literalRefusal } from "../address-guard.ts";
import { toSourceError } from "./s3-errors.ts";
import { SourceError, type ByteRange, type ByteStream, type Listing, type RemoteObject, type Source } from "./types.ts";
import { mapLimit } from "../../common/concurrency.ts";
import type { Checked } from "../../common/checked.ts";

export interface S3Location {
  bucket: string;
  /** The key prefix as given (may be empty, may name a single object). */
  prefix: string;
}

// Bucket names per the S3 rules (3-63 chars, lowercase, digits, dots, hyphens).
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Uri(uri: string): Checked<S3Location> {
  const m = /^s3:\/\/([^/?#]+)(?:\/(.*))?$/.exec(uri);
  if (m === null || m[1] === undefined) {
    return { ok: false, error: `not an s3:// URI: "${uri}" (expected s3://<bucket>/<prefix>)` };
  }
  const bucket = m[1];
  if (!BUCKET_RE.test(bucket)) return { ok: false, error: `invalid S3 bucket name "${bucket}" in "${uri}"` };
  return { ok: true, value: { bucket, prefix: m[2] ?? "" } };
}

export interface S3SourceOptions {
  uri: string;
  /** Endpoint URL of an S3-compatible store; defaults to AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Defaults to AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. */
  region?: string;
  /** Path-style addressing (http://host/bucket/key); defaults to true when an endpoint is set. */
  forcePathStyle?: boolean;
  /** Where credentials and defaults are read from; only AWS_* variables are used. */
  env?: Record<string, string | undefined>;
  /** Parallel HEAD requests while collecting checksums. */
  headConcurrency?: number;
  /** Keys per listing page (MaxKeys); the store's default (1000) unless set. */
  listPageSize?: number;
  /** Address classes its connections may not reach (--refuse-addresses). */
  refusedAddresses?: readonly AddressClass[];
}

/** What a listed object is pinned to; kept inside the source, keyed by RemoteObject.id. */
interface Pinned {
  key: string;
  size: number;
  /** A real VersionId (never the literal "null" of unversioned buckets). */
  versionId?: string;
  etag: string;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function credentialsFromEnv(env: Record<string, string | undefined>): Checked<Credentials | undefined> {
  const id = env["AWS_ACCESS_KEY_ID"];
  const secret = env["AWS_SECRET_ACCESS_KEY"];
  if ((id === undefined || id === "") && (secret === undefined || secret === "")) return { ok: true, value: undefined };
  if (id === undefined || id === "" || secret === undefined || secret === "") {
    return { ok: false, error: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together" };
  }
  const token = env["AWS_SESSION_TOKEN"];
  return {
    ok: true,
    value: { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) },
  };
}

/**
 * A relative POSIX path for the key under the prefix, or an error: the
 * destination must never be escaped, whatever a bucket holds.
 */
export function relativePathForKey(key: string, dirPrefix: string): Checked<string> {
  const rel = key.slice(dirPrefix.length);
  if (rel === "") return { ok: false, error: `key "${key}" has an empty name under the prefix` };
  const segments = rel.split("/");
  if (rel.startsWith("/") || rel.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..")) {
    return { ok: false, error: `key "${key}" does not map to a safe relative path ("${rel}")` };
  }
  return { ok: true, value: rel };
}

/** Hex of a base64 checksum when it is a full-object SHA256 (not a composite of multipart parts). */
export function fullObjectSha256(checksum: string | undefined, checksumType: string | undefined): string | undefined {
  if (checksum === undefined || checksum === "") return undefined;
  if (checksumType !== undefined && checksumType !== "FULL_OBJECT") return undefined;
  // Without ChecksumType (older stores), a composite checksum is marked by its "-<parts>" suffix.
  if (/-\d+$/.test(checksum)) return undefined;
  const bytes = Buffer.from(checksum, "base64");
  return bytes.length === 32 ? bytes.toString("hex") : undefined;
}

/** Digest over the sorted (key, size, version-or-etag) list: what the prefix resolved to. */
export function identityDigest(pins: readonly Pinned[]): string {
  const h = createHash("sha256");
  for (const p of [...pins].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    h.update(`${p.key}\0${p.size}\0${p.versionId ?? p.etag}\n`);
  }
  return `sha256:${h.digest("hex")}`;
}

interface ListedEntry {
  key: string;
  size: number;
  versionId?: string;
  etag: string;
  /** Algorithms the listing says the object has checksums for; undefined when the store does not say. */
  checksumAlgorithms?: readonly string[];
}

export class S3Source implements Source {
  readonly #loc: S3Location;
  readonly #client: S3Client;
  readonly #secrets: string[];
  readonly #headConcurrency: number;
  readonly #maxKeys: { MaxKeys?: number };
  readonly #pins = new Map<string, Pinned>();

  constructor(loc: S3Location, client: S3Client, secrets: string[], tuning: { headConcurrency?: number; listPageSize?: number } = {}) {
    this.#loc = loc;
    this.#client = client;
    this.#secrets = secrets;
    this.#headConcurrency = tuning.headConcurrency ?? 16;
    this.#maxKeys = tuning.listPageSize === undefined ? {} : { MaxKeys: tuning.listPageSize };
  }

  #where(key: string, versionId?: string): string {
    return `s3://${this.#loc.bucket}/${key}${versionId ? ` (version ${versionId})` : ""}`;
  }

  #err(err: unknown, key: string, versionId?: string): Error {
    return toSourceError(err, this.#where(key, versionId), this.#secrets);
  }

  async list(signal: AbortSignal): Promise<Listing> {
    const { bucket, prefix } = this.#loc;
    const dirPrefix = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    let entries = await this.#listEntries(dirPrefix, signal);
    let base = dirPrefix;
    if (entries.length === 0 && prefix !== "" && !prefix.endsWith("/")) {
      // s3://bucket/path/file.bin names one object: fetch it as its basename.
      const single = await this.#headSingle(prefix, signal);
      if (single !== undefined) {
        entries = [single];
        base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
      }
    }
    if (entries.length === 0) {
      throw new SourceError(`s3://${bucket}/${dirPrefix}: no objects under this prefix`, { retryable: false });
    }

    const located = entries.map((e) => {
      const rel = relativePathForKey(e.key, base);
      if (!rel.ok) throw new SourceError(`s3://${bucket}: ${rel.error}`, { retryable: false });
      return { entry: e, path: rel.value };
    });

    const digests = await mapLimit(located, this.#headConcurrency, async ({ entry }) => this.#sha256Of(entry, signal));

    this.#pins.clear();
    const objects: RemoteObject[] = located.map(({ entry, path }, i) => {
      const pin: Pinned = {
        key: entry.key,
        size: entry.size,
        etag: entry.etag,
        ...(entry.versionId === undefined ? {} : { versionId: entry.versionId }),
      };
      // The id changes with the version, so resume never splices two generations of one object.
      const id = `${entry.key}@${entry.versionId ?? entry.etag}`;
      this.#pins.set(id, pin);
      const hex = digests[i];
      return {
        id,
        size: entry.size,
        unpack: { kind: "file", path },
        description: this.#where(entry.key, entry.versionId),
        ...(hex === undefined ? {} : { expected: { algorithm: "sha256", hex } }),
      };
    });
    const pins = [...this.#pins.values()];
    const versioned = pins.every((p) => p.versionId !== undefined);
    return {
      identity: {
        kind: "s3",
        reference: `s3://${bucket}/${prefix}`,
        // The prefix says which pin kind it is: versions are immutable, ETags only detect change.
        resolved: `${versioned ? "versions" : "etags"}:${identityDigest(pins)}`,
      },
      objects,
    };
  }

  /** Every current object under the prefix, with versions when the bucket keeps them. */
  async #listEntries(dirPrefix: string, signal: AbortSignal): Promise<ListedEntry[]> {
    try {
      return await this.#listVersions(dirPrefix, signal);
    } catch (err) {
      // ListBucketVersions is a separate permission (and not every store has it);
      // without it the listing falls back to ETags.
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      const name = (err as { name?: string }).name;
      if (status === 403 || status === 501 || status === 405 || name === "NotImplemented") {
        return this.#listCurrent(dirPrefix, signal);
      }
      throw this.#err(err, dirPrefix);
    }
  }

  async #listVersions(dirPrefix: string, signal: AbortSignal): Promise<ListedEntry[]> {
    const out: ListedEntry[] = [];
    // Some stores (versitygw with VersionIdMarker "null") repeat the marker's entry on the next page.
    const seen = new Set<string>();
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.#client.send(
        new ListObjectVersionsCommand({
          Bucket: this.#loc.bucket,
          Prefix: dirPrefix,
          ...this.#maxKeys,
          ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
          ...(versionIdMarker === undefined ? {} : { VersionIdMarker: versionIdMarker }),
        }),
        { abortSignal: signal },
      );
      for (const v of page.Versions ?? []) {
        // Older versions and keys whose latest version is a delete marker are not part of the artifact.
        if (v.IsLatest !== true || v.Key === undefined || v.Key.endsWith("/")) continue;
        const seenKey = `${v.Key}\0${v.VersionId ?? ""}`;
        if (seen.has(seenKey)) continue;
        seen.add(seenKey);
        out.push({
          key: v.Key,
          size: v.Size ?? 0,
          etag: v.ETag ?? "",
          ...(v.VersionId && v.VersionId !== "null" ? { versionId: v.VersionId } : {}),
          ...(v.ChecksumAlgorithm ? { checksumAlgorithms: v.ChecksumAlgorithm } : {}),
        });
      }
      if (page.IsTruncated !== true) return out;
      if (page.NextKeyMarker === undefined || (page.NextKeyMarker === keyMarker && page.NextVersionIdMarker === versionIdMarker)) {
        throw new SourceError(`s3://${this.#loc.bucket}/${dirPrefix}: the version listing does not advance`, {
          retryable: false,
        });
      }
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
  }

  async #listCurrent(dirPrefix: string, signal: AbortSignal): Promise<ListedEntry[]> {
    const out: ListedEntry[] = [];
    let token: string | undefined;
    try {
      for (;;) {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#loc.bucket,
            Prefix: dirPrefix,
            ...this.#maxKeys,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          { abortSignal: signal },
        );
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined || o.Key.endsWith("/")) continue;
          out.push({
            key: o.Key,
            size: o.Size ?? 0,
            etag: o.ETag ?? "",
            ...(o.ChecksumAlgorithm ? { checksumAlgorithms: o.ChecksumAlgorithm } : {}),
          });
        }
        if (page.IsTruncated !== true) return out;
        token = page.NextContinuationToken;
        if (token === undefined) {
          throw new SourceError(`s3://${this.#loc.bucket}/${dirPrefix}: truncated listing without a token`, {
            retryable: false,
          });
        }
      }
    } catch (err) {
      throw this.#err(err, dirPrefix);
    }
  }

  async #headSingle(key: string, signal: AbortSignal): Promise<ListedEntry | undefined> {
    let head: HeadObjectCommandOutput;
    try {
      head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#loc.bucket, Key: key }), {
        abortSignal: signal,
      });
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw this.#err(err, key);
    }
    return {
      key,
      size: head.ContentLength ?? 0,
      etag: head.ETag ?? "",
      ...(head.VersionId && head.VersionId !== "null" ? { versionId: head.VersionId } : {}),
    };
  }

  /** The object's full-object SHA256 checksum in hex, when the store holds one. */
  async #sha256Of(entry: ListedEntry, signal: AbortSignal): Promise<string | undefined> {
    // A listing that names the object's checksum algorithms saves a HEAD when SHA256 is not among them.
    if (entry.checksumAlgorithms !== undefined && !entry.checksumAlgorithms.includes("SHA256")) return undefined;
    try {
      const head = await this.#client.send(
        new HeadObjectCommand({
          Bucket: this.#loc.bucket,
          Key: entry.key,
          ChecksumMode: "ENABLED",
          ...(entry.versionId === undefined ? { IfMatch: entry.etag } : { VersionId: entry.versionId }),
        }),
        { abortSignal: signal },
      );
      return fullObjectSha256(head.ChecksumSHA256, head.ChecksumType);
    } catch (err) {
      throw this.#err(err, entry.key, entry.versionId);
    }
  }

  async read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ByteStream> {
    const pin = this.#pins.get(object.id);
    if (pin === undefined) {
      throw new SourceError(`s3://${this.#loc.bucket}: object "${object.id}" was not in this source's listing`, {
        retryable: false,
      });
    }
    let body;
    let contentLength: number | undefined;
    try {
      const res = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#loc.bucket,
          Key: pin.key,
          ...(pin.versionId === undefined ? { IfMatch: pin.etag } : { VersionId: pin.versionId }),
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
        { abortSignal: signal },
      );
      body = res.Body;
      contentLength = res.ContentLength;
    } catch (err) {
      throw this.#err(err, pin.key, pin.versionId);
    }
    if (body === undefined) {
      throw new SourceError(`${this.#where(pin.key, pin.versionId)}: response had no body`, { retryable: true });
    }
    const want = range === undefined ? pin.size : range.end - range.start + 1;
    if (contentLength !== undefined && contentLength !== want) {
      // A store that ignored the range (or changed the object) would otherwise corrupt the file silently.
      if (body instanceof Readable) body.destroy();
      else await body.transformToWebStream().cancel();
      throw new SourceError(
        `${this.#where(pin.key, pin.versionId)}: expected ${want} bytes${range ? ` for bytes=${range.start}-${range.end}` : ""}, the store sent ${contentLength}`,
        { retryable: false },
      );
    }
    // In Node the SDK's body is the response itself, a Readable: iterated as it is, without a web stream around it.
    return body instanceof Readable ? (body as Readable) : body.transformToWebStream();
  }

  supportsRanges(_object: RemoteObject): boolean {
    return true;
  }
}

/** Builds an S3 source from options and the AWS_* environment; errors are values (bad URI, half-set credentials). */
export function createS3Source(opts: S3SourceOptions): Checked<S3Source> {
  const loc = parseS3Uri(opts.uri);
  if (!loc.ok) return loc;
  const env = opts.env ?? process.env;
  const creds = credentialsFromEnv(env);
  if (!creds.ok) return creds;
  const endpoint = opts.endpoint ?? env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"];
  if (endpoint !== undefined) {
    try {
      const u = new URL(endpoint);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
    } catch {
      return { ok: false, error: `invalid S3 endpoint URL "${endpoint}"` };
    }
  }
  const region = opts.region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1";
  // An endpoint written as an IP address is never looked up: checked here.
  const refused = opts.refusedAddresses ?? [];
  const literal = endpoint === undefined ? undefined : literalRefusal(new URL(endpoint).hostname, refused);
  if (literal !== undefined) return { ok: false, error: `--endpoint: ${literal.message}` };
  const guarded = refused.length > 0 ? { lookup: guardedLookup(refused) } : undefined;
  const client = new S3Client({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    forcePathStyle: opts.forcePathStyle ?? endpoint !== undefined,
    // The engine owns retries (backoff honouring Retry-After); SDK retries would multiply them.
    maxAttempts: 1,
    // The engine hashes every byte itself; the SDK's own CRC pass would be a second full read of the CPU.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // A stalled socket must fail (and be retried) rather than hang the Job.
    // --refuse-addresses: names resolve through the same check as fetch's (address-guard.ts).
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000, ...(guarded ? { httpAgent: guarded, httpsAgent: guarded } : {}) },
    // Only the AWS_* variables: the SDK's default chain would also probe the instance metadata service.
    credentials: creds.value ?? (async () => ({ accessKeyId: "", secretAccessKey: "" })),
    ...(creds.value === undefined ? { signer: { sign: async <T>(req: T): Promise<T> => req } } : {}),
  });
  const secrets = creds.value ? [creds.value.secretAccessKey, creds.value.sessionToken ?? ""] : [];
  return {
    ok: true,
    value: new S3Source(loc.value, client, secrets, {
      ...(opts.headConcurrency === undefined ? {} : { headConcurrency: opts.headConcurrency }),
      ...(opts.listPageSize === undefined ? {} : { listPageSize: opts.listPageSize }),
    }),
  };
}
