// The contract every source kind implements. The transfer engine (parallel,
// ranged, resumable, retried, verified) is shared; a source only says what
// the artifact is and how to read a byte range of one of its objects.
import type { HfTreeInfo } from "../layout.ts";

/** How a fetched object becomes files in the destination. */
export type Unpack =
  | { kind: "file"; path: string } // the object is one file at `path` (relative, POSIX)
  | { kind: "tar"; compression: "none" | "gzip" | "zstd" }; // an archive unpacked safely at the root

/** A digest a storage service reports for an object, base64 of the digest's bytes as the service prints it. */
export interface ServiceDigest {
  algorithm: "md5" | "crc32c";
  base64: string;
}

/** One object to fetch, as the source lists it. */
export interface RemoteObject {
  /** Stable id within the listing, used for staging and resume (e.g. the path, a blob digest). */
  id: string;
  size: number;
  /**
   * The digest the source itself vouches for, checked after download. The hub
   * vouches for small (non-LFS) files only by their git blob id, the SHA-1 of
   * "blob <size>\0" + content; the engine checks that too.
   */
  expected?: {
    algorithm: "sha256" | "git-blob-sha1";
    hex: string;
    /** Set when the digest is the user's own pin, not the source's word: the flag that pinned it, for the message. */
    pinnedBy?: string;
  };
  /**
   * Digests the storage service itself vouches for (GCS crc32c and md5Hash, Azure Content-MD5), checked in addition
   * to SHA-256 on the same bytes as they arrive (../service-digests.ts).
   */
  checks?: readonly ServiceDigest[];
  unpack: Unpack;
  /** Free-form, safe to print (never credentials). */
  description?: string;
}

/** The immutable identity a mutable reference resolved to. */
export interface ResolvedIdentity {
  /** Source kind: huggingFace | s3 | http | oci | file | inline. */
  kind: string;
  /** The reference as the user gave it, credentials removed. */
  reference: string;
  /**
   * The immutable form: a commit SHA, an OCI manifest digest, object versions/ETags digest, ...
   * Empty when only the bytes identify the artifact (file://, inline): the
   * engine then fills in the digest of the file set it read.
   */
  resolved: string;
  /** For the HuggingFaceCache layout: the repo id ("org/name") and commit. */
  huggingFace?: { repo: string; commit: string };
}

export interface Listing {
  identity: ResolvedIdentity;
  objects: RemoteObject[];
  /**
   * What the HuggingFaceCache layout needs beyond the identity (a hub source only): the revision asked for, which
   * becomes refs/<name>, and the repo's files with their blob ids. Not part of the manifest's identity.
   */
  huggingFaceCache?: { requestedRevision: string; tree: readonly HfTreeInfo[] };
}

export interface ByteRange {
  start: number; // inclusive
  end: number; // inclusive
}

/**
 * The bytes of one read: a web `ReadableStream` (what `fetch` gives) or a Node `Readable` (undici's `request`, the
 * AWS SDK), both async iterables of byte buffers. The engine iterates it and may hold the buffers it yields (they
 * must not be reused by the source), and stops it by ending the iteration.
 */
export type ByteStream = AsyncIterable<Uint8Array>;

export interface Source {
  /** Resolve the reference and list every object with its size. Network I/O happens here. */
  list(signal: AbortSignal): Promise<Listing>;
  /**
   * Read `object` (or one range of it) as a stream. Implementations throw a
   * `SourceError` carrying the HTTP status and any Retry-After so the engine
   * can decide to retry.
   */
  read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ByteStream>;
  /** Whether `read` honours ranges for this object (parallel chunks and resume need it). */
  supportsRanges(object: RemoteObject): boolean;
}

export class SourceError extends Error {
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, opts: { status?: number; retryAfterSeconds?: number; retryable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "SourceError";
    this.status = opts.status;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.retryable = opts.retryable;
  }
}
