// hydrate: one source into one destination, verified and published
// atomically, with progress and a report. The steps, in order:
//   1. a destination already holding this request's artifact is verified
//      locally and left alone: no network I/O at all;
//   2. resolve and list (the only calls before the space check), retried like
//      every request; a destination holding files that are not this artifact's
//      (nor the one it replaces) is refused, as verify would fail it;
//   3. adopt files already in place with the right digest (a crash mid-publish,
//      a pre-populated volume), check free space for the rest;
//   4. fetch into staging (transfer.ts), unpack archives (unpack.ts);
//   5. compute the manifest, check an expected digest and, once more, that
//      nothing foreign is in the way, publish (publish.ts).
// A failed run removes the empty directories it made (and --dest, if it made it).
import { canonicalJson } from "../common/canonical-json.ts";
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { HydrationPhase, PermanentFailure } from "../api/hydration-report.ts";
import { VERSION } from "../version.ts";
import { hashFile, removeQuietly } from "./fsutil.ts";
import { place } from "./layout.ts";
import {
  fileSetDigest,
  MANIFEST_DIR,
  MANIFEST_SCHEMA,
  manifestDigest,
  sortFiles,
  type Layout,
  type Manifest,
  type ManifestFile,
  type RequestFingerprint,
} from "./manifest.ts";
import { globFilter } from "./glob.ts";
import { resolveInside, safeRelativePath } from "./paths.ts";
import { ProgressTracker, type ProgressSink } from "./progress.ts";
import { publish } from "./publish.ts";
import type { Reporter } from "./report.ts";
import { DEFAULT_RETRY, DigestMismatch, isRetryable, withRetries, type RetryPolicy } from "./retry.ts";
import type { CreatedSource } from "./sources/index.ts";
import { SourceError, type Listing, type RemoteObject } from "./sources/types.ts";
import { checkFreeSpace, type StatfsFn } from "./space.ts";
import { Fetched, fetchObjects, objectKey, stagedBytes, TransferError } from "./transfer.ts";
import { extractTar, HostileArchive } from "./unpack.ts";
import { collectBetweenPhases, heapForListing } from "./young-gc.ts";
import { foreignEntries, placedPaths, readManifest, verifyDir, type ArtifactShape } from "./verify.ts";

export const EXIT = { ok: 0, retryable: 1, usage: 2, permanent: 3 } as const;

export interface HydrateOptions {
  dest: string;
  layout: Layout;
  include: readonly string[];
  exclude: readonly string[];
  /** Digest over the user's own pins (--sha256, --files), part of the request fingerprint. */
  pins?: string;
  expectDigest?: string;
  /** Skip step 1: re-resolve the source (a branch may have moved); step 3 still adopts unchanged files. */
  refresh?: boolean;
  concurrency: number;
  chunkSize: number;
  stallTimeoutMs: number;
  retry?: RetryPolicy;
  signal: AbortSignal;
  sink: ProgressSink;
  reporter: Reporter;
  /** Injected in tests (a file system too small to fill for real). */
  statfs?: StatfsFn;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** What this run moved: bytes over the network (not resumed, not adopted) and the time the fetch took. */
export interface TransferStats {
  bytesFetched: number;
  fetchSeconds: number;
}

export type HydrateOutcome =
  { ok: true; manifest: Manifest; reused: boolean; stats: TransferStats } | { ok: false; exitCode: 1 | 2 | 3; message: string; permanent?: PermanentFailure };

const STAGING_DIR = `${MANIFEST_DIR}/staging`;

export async function hydrate(created: CreatedSource, opts: HydrateOptions): Promise<HydrateOutcome> {
  const tracker = new ProgressTracker();
  let phase: HydrationPhase = "Resolving";
  const tick = (): void => {
    const s = tracker.snapshot();
    opts.sink.progress(phase, s);
    opts.reporter.update({ phase }, s);
  };
  const setPhase = (p: HydrationPhase, message?: string): void => {
    phase = p;
    opts.reporter.update({ phase: p, ...(message ? { message } : {}) }, tracker.snapshot());
  };
  const timer = setInterval(tick, 1000);
  timer.unref();
  // A failed run leaves no empty directories behind, and no --dest it created itself.
  const destExisted = await lstat(opts.dest).then(
    () => true,
    () => false,
  );
  const outcome = await hydrateIn(created, opts, tracker, setPhase).finally(() => {
    clearInterval(timer);
    tick();
  });
  if (!outcome.ok) await tidyAfterFailure(opts.dest, destExisted);
  return outcome;
}

/** What every step of one run reads: the source, the options, progress, the request and what was published before. */
interface Run {
  created: CreatedSource;
  opts: HydrateOptions;
  tracker: ProgressTracker;
  setPhase: (p: HydrationPhase, message?: string) => void;
  request: RequestFingerprint;
  /** The artifact the destination held when the run started (publish replaces it). */
  old: Manifest | undefined;
}

/** A step either hands the next one what it made, or ends the run. */
type Step<T> = { next: T } | { done: HydrateOutcome };
const done = (outcome: HydrateOutcome): { done: HydrateOutcome } => ({ done: outcome });

/** What resolving and listing gave: the objects to place, and the listing they came from. */
interface Listed {
  listing: Listing;
  objects: RemoteObject[];
}

/** Where the bytes are before publishing: the files of the artifact, and the staged path of each (undefined: in place). */
interface Staged {
  files: ManifestFile[];
  /** A fetched file's result (its staged path made when publish asks), an unpacked file's path, or undefined: in place. */
  staged: Map<string, Fetched | string | undefined>;
  stats: TransferStats;
}

async function hydrateIn(
  created: CreatedSource,
  opts: HydrateOptions,
  tracker: ProgressTracker,
  setPhase: (p: HydrationPhase, message?: string) => void,
): Promise<HydrateOutcome> {
  try {
    await mkdir(opts.dest, { recursive: true });
    const request: RequestFingerprint = {
      source: created.reference,
      layout: opts.layout,
      include: [...opts.include],
      exclude: [...opts.exclude],
      ...(opts.pins ? { pins: opts.pins } : {}),
    };
    const existing = await readManifest(opts.dest);
    const run: Run = { created, opts, tracker, setPhase, request, old: existing.ok ? existing.value : undefined };

    const reused = await reusePublished(run);
    if (reused !== undefined) return reused;
    const listed = await resolveAndList(run);
    if ("done" in listed) return listed.done;
    const staged = await fetchIntoStaging(run, listed.next);
    if ("done" in staged) return staged.done;
    return await manifestAndPublish(run, listed.next.listing, staged.next);
  } catch (err) {
    return fromError(err, created.reference, opts.signal);
  }
}

/** 1. Nothing to do if the destination already holds this request's artifact and it verifies. */
async function reusePublished({ opts, tracker, setPhase, request, old }: Run): Promise<HydrateOutcome | undefined> {
  if (old === undefined || opts.refresh === true) return undefined;
  const same = canonicalJson(old.request) === canonicalJson(request) || (opts.expectDigest !== undefined && old.digest === opts.expectDigest);
  if (!same) return undefined;
  setPhase("Verifying", "the destination already holds this artifact: verifying it locally");
  // What the published manifest holds sizes the heap as a listing would (young-gc.ts).
  heapForListing(old.files.length);
  tracker.start(old.totalBytes, old.files.length);
  const v = await verifyDir(opts.dest, { onBytes: (n) => tracker.add(n), ...(opts.expectDigest ? { expectDigest: opts.expectDigest } : {}) });
  if (v.ok) {
    tracker.filesDone = old.files.length;
    opts.reporter.update({ resolvedRevision: old.identity.resolved, manifestDigest: old.digest }, tracker.snapshot());
    return { ok: true, manifest: old, reused: true, stats: { bytesFetched: 0, fetchSeconds: 0 } };
  }
  opts.sink.notice("repair", { message: `the published artifact does not verify (${v.problems.slice(0, 3).join("; ")}): fetching again` });
  return undefined;
}

/**
 * 2. Resolve and list, retried like every other request (a server restarting, a DNS hiccup); keep the objects the
 * globs select, each at a safe path of its own; refuse a destination holding foreign files before fetching a byte.
 */
async function resolveAndList({ created: { source, reference }, opts, setPhase, old }: Run): Promise<Step<Listed>> {
  setPhase("Resolving");
  const listing = await withRetries(() => source.list(opts.signal), {
    policy: opts.retry ?? DEFAULT_RETRY,
    signal: opts.signal,
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    onRetry: (err, delayMs, reason) =>
      opts.sink.notice("retry", { stage: "listing", source: reference, message: err instanceof Error ? err.message : String(err), delayMs, reason }),
  });
  const objects: RemoteObject[] = [];
  const paths = new Set<string>();
  const selected = globFilter(opts.include, opts.exclude);
  for (const o of listing.objects) {
    if (o.unpack.kind === "file") {
      const safe = safeRelativePath(o.unpack.path);
      if (!safe.ok) return done(fail(3, `${reference}: ${safe.error}`));
      if (o.unpack.path === "SHA256SUMS" || o.unpack.path.startsWith(`${MANIFEST_DIR}/`) || o.unpack.path === MANIFEST_DIR) {
        return done(fail(3, `${reference}: the source holds "${o.unpack.path}", a name the hydrator reserves for its own files`));
      }
      if (!selected(o.unpack.path)) continue;
      if (paths.has(o.unpack.path)) return done(fail(3, `${reference}: two objects map to "${o.unpack.path}"`));
      paths.add(o.unpack.path);
    }
    objects.push(o);
  }
  // A few files: V8's heap sized for speed again from here on (young-gc.ts).
  heapForListing(objects.length);
  if (objects.length === 0)
    return done(fail(3, `${reference}: no file to fetch${opts.include.length + opts.exclude.length > 0 ? " (nothing matches --include/--exclude)" : ""}`));
  const identity = listing.identity;
  if (opts.layout === "HuggingFaceCache" && identity.huggingFace === undefined) {
    return done(fail(2, `--layout HuggingFaceCache needs an hf:// source (${identity.kind} sources have no repo id and commit)`));
  }
  opts.reporter.update({ ...(identity.resolved ? { resolvedRevision: identity.resolved } : {}) });

  // Nothing foreign in the destination: what verify would fail, hydrate refuses before fetching a byte
  // (exactly, when every listed path is known now: Flat files; otherwise again before publishing).
  if (opts.layout === "Flat" && objects.every((o) => o.unpack.kind === "file")) {
    const known = objects.map((o) => (o.unpack.kind === "file" ? o.unpack.path : ""));
    const refused = await refuseForeign(opts.dest, { layout: "Flat", identity: {} }, known, old);
    if (refused !== undefined) return done(refused);
  }
  return { next: { listing, objects } };
}

/**
 * 3 and 4. Adopt the files already in place with the right digest (a crash mid-publish, a pre-populated volume),
 * check free space for the rest, fetch it into staging (transfer.ts), unpack archives (unpack.ts).
 */
async function fetchIntoStaging({ created: { source, reference }, opts, tracker, setPhase }: Run, { listing, objects }: Listed): Promise<Step<Staged>> {
  const identity = listing.identity;
  const stagingKey = createHash("sha256")
    .update(`${identity.kind}\0${identity.resolved || reference}`)
    .digest("hex")
    .slice(0, 24);
  const staging = join(opts.dest, STAGING_DIR, stagingKey);
  await mkdir(staging, { recursive: true });

  const totalBytes = objects.reduce((a, o) => a + o.size, 0);
  tracker.start(totalBytes, objects.length);
  const adopted = await adoptInPlace(opts.dest, opts.layout, objects, staging);
  const toFetch = objects.filter((o) => !adopted.has(o.id));
  let needed = 0;
  const onDiskBytes = await stagedBytes(staging, toFetch);
  for (const o of toFetch) {
    const onDisk = onDiskBytes.get(o.id) ?? 0;
    // An archive needs room for itself and for what it unpacks to.
    needed += Math.max(0, o.size - onDisk) + (o.unpack.kind === "tar" ? o.size : 0);
  }
  const space = await checkFreeSpace(opts.dest, needed, opts.statfs);
  if (!space.ok) return done(fail(3, space.error, "Destination"));

  setPhase("Hydrating");
  for (const [, a] of adopted) {
    tracker.resumed(a.size);
    tracker.fileDone();
  }
  let bytesFetched = 0;
  const fetchStart = performance.now();
  const { fetched } = await fetchObjects(source, toFetch, staging, {
    concurrency: opts.concurrency,
    chunkSize: opts.chunkSize,
    stallTimeoutMs: opts.stallTimeoutMs,
    signal: opts.signal,
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.sleep ? { sleep: opts.sleep } : {}),
    events: {
      bytes: (n) => {
        bytesFetched += n;
        tracker.add(n);
      },
      resumed: (n) => tracker.resumed(n),
      fileDone: () => tracker.fileDone(),
      retry: (o, message, delayMs, reason) => opts.sink.notice("retry", { file: o.id, source: reference, message, delayMs, reason }),
    },
  });
  const stats: TransferStats = { bytesFetched: Math.max(0, bytesFetched), fetchSeconds: (performance.now() - fetchStart) / 1000 };
  collectBetweenPhases();

  const files: ManifestFile[] = [];
  const staged = new Map<string, Fetched | string | undefined>();
  for (const [path, a] of adopted) {
    files.push({ path, size: a.size, sha256: a.sha256 });
    staged.set(path, undefined);
  }
  setPhase("Verifying");
  for (const f of fetched) {
    if (f.object.unpack.kind === "file") {
      files.push({ path: f.object.unpack.path, size: f.size, sha256: f.sha256 });
      staged.set(f.object.unpack.path, f);
    } else {
      for (const x of await unpackStaged(f, staging)) {
        if (staged.has(x.path)) return done(fail(3, `${reference}: "${x.path}" is provided twice (by ${f.object.id} and another object)`));
        files.push({ path: x.path, size: x.size, sha256: x.sha256 });
        staged.set(x.path, x.stagedPath);
      }
    }
  }
  return { next: { files, staged, stats } };
}

/** 5. The manifest, an expected digest checked, nothing foreign in the way once more, and the atomic publish (publish.ts). */
async function manifestAndPublish(
  { created: { reference }, opts, tracker, request, old }: Run,
  listing: Listing,
  { files, staged, stats }: Staged,
): Promise<HydrateOutcome> {
  const identity = listing.identity;
  const revision = listing.huggingFaceCache?.requestedRevision;
  // Sorted once, shared by the digest, the placement and the manifest (each used to sort a copy of its own).
  const sorted = sortFiles(files);
  const manifestIdentity = {
    kind: identity.kind,
    resolved: identity.resolved || fileSetDigest(sorted),
    ...(identity.huggingFace ? { huggingFace: identity.huggingFace } : {}),
  };
  const digest = manifestDigest(manifestIdentity, sorted);
  if (opts.expectDigest !== undefined && digest !== opts.expectDigest) {
    return fail(
      3,
      `${reference} (${manifestIdentity.resolved}) gives artifact ${digest}, not the expected ${opts.expectDigest}: the source changed since it was pinned`,
    );
  }
  const filtered = opts.include.length > 0 || opts.exclude.length > 0;
  const tree = filtered ? undefined : listing.huggingFaceCache?.tree;
  const placement = place(opts.layout, sorted, manifestIdentity, revision, tree);
  if (!placement.ok) return fail(2, placement.error);
  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    digest,
    source: reference,
    identity: manifestIdentity,
    layout: opts.layout,
    ...(revision !== undefined ? { revision } : {}),
    files: sorted,
    totalBytes: sorted.reduce((a, f) => a + f.size, 0),
    request,
    createdAt: new Date().toISOString(),
    tool: `function-model-cache ${VERSION}`,
  };
  const foreign = await refuseForeign(opts.dest, manifest, placedPaths(placement.value), old);
  if (foreign !== undefined) return foreign;
  const stagedPath = (path: string): string | undefined => {
    const s = staged.get(path);
    return s instanceof Fetched ? s.dataPath : s;
  };
  await publish(opts.dest, placement.value, { get: stagedPath }, manifest, old);
  await removeQuietly(join(opts.dest, STAGING_DIR));
  opts.reporter.update({ resolvedRevision: manifestIdentity.resolved, manifestDigest: digest });
  tracker.filesDone = tracker.filesTotal;
  return { ok: true, manifest, reused: false, stats };
}

/**
 * Exit 3 when `dest` holds files that are neither `known` (the new artifact's
 * paths) nor the previously published artifact's (`old`, replaced by publish)
 * nor allowed beside it (verify.ts): publishing there would give a directory
 * `verify` fails, and every later run would "repair" it.
 */
async function refuseForeign(dest: string, shape: ArtifactShape, known: readonly string[], old: Manifest | undefined): Promise<HydrateOutcome | undefined> {
  const allowed = new Set(known);
  const shapes: ArtifactShape[] = [shape];
  if (old !== undefined) {
    const prev = place(old.layout, old.files, old.identity, old.revision);
    if (prev.ok) for (const p of placedPaths(prev.value)) allowed.add(p);
    shapes.push(old);
  }
  const foreign = await foreignEntries(dest, shapes, allowed, 6);
  if (foreign.length === 0) return undefined;
  const named = foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? ", …" : "");
  return fail(
    3,
    `${dest} already holds files that are not part of this artifact (${named}); nothing was fetched or published: hydrate into an empty or new directory, or move those files away (verify would fail the directory with them in it)`,
    "Destination",
  );
}

/** After a failure: empty staging directories removed, and --dest itself if this run created it and it is empty. */
async function tidyAfterFailure(dest: string, destExisted: boolean): Promise<void> {
  const prune = async (dir: string): Promise<boolean> => {
    const st = await lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) return false;
    let empty = true;
    for (const name of await readdir(dir).catch(() => ["?"])) if (!(await prune(join(dir, name)))) empty = false;
    return (
      empty &&
      (await rmdir(dir).then(
        () => true,
        () => false,
      ))
    );
  };
  await prune(join(dest, MANIFEST_DIR));
  if (!destExisted) await rmdir(dest).catch(() => undefined);
}

const LOCAL_FS_CODES = new Set(["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EISDIR", "ENOTDIR"]);

/** A local file-system error that retrying does not heal (what isRetryable refuses by its code): the volume's, not the source's. */
function localFsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && LOCAL_FS_CODES.has(code);
}

/** A failure; exit codes 2 and 3 are permanent, the source's (or the request's) unless `of` says the destination's. */
function fail(exitCode: 1 | 2 | 3, message: string, of: PermanentFailure = "Source"): HydrateOutcome {
  return exitCode === 1 ? { ok: false, exitCode, message } : { ok: false, exitCode, message, permanent: of };
}

/** Exit code and message for a failure: retryable (1) or not (3), naming file, source and cause. */
export function fromError(err: unknown, reference: string, signal?: AbortSignal): HydrateOutcome {
  if (signal?.aborted)
    return fail(
      1,
      `${reference}: interrupted (${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}); the staging area is kept for a resume`,
    );
  const full = volumeFull(err);
  if (full !== undefined) {
    // Say it plainly: the cause is the volume, not the source, and retrying will not help until someone frees space.
    const file = err instanceof TransferError ? ` while writing ${err.object.id}` : "";
    return fail(
      3,
      `${reference}: the destination volume is full${file} (${full}); no artifact was published; free space or use a larger volume, then re-run: the staging area is kept for a resume`,
      "Destination",
    );
  }
  if (err instanceof TransferError) {
    // One URL: the reference is the file, said once. Otherwise the file and where it comes from, then the cause.
    const single = err.object.description === reference;
    return fail(err.retryable ? 1 : 3, `${reference}: ${single ? err.detail : err.message}`, localFsError(err.cause) ? "Destination" : "Source");
  }
  if (err instanceof SourceError) return fail(err.retryable ? 1 : 3, err.message.includes(reference) ? err.message : `${reference}: ${err.message}`);
  if (err instanceof HostileArchive || err instanceof DigestMismatch) return fail(3, `${reference}: ${err.message}`);
  const msg = err instanceof Error ? err.message : String(err);
  return fail(isRetryable(err) ? 1 : 3, `${reference}: ${msg}`, localFsError(err) ? "Destination" : "Source");
}

/** The file-system message when `err` (or the error it wraps) is ENOSPC or EDQUOT. */
function volumeFull(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "EDQUOT") return e instanceof Error ? e.message : String(code);
  }
  return undefined;
}

interface Adopted {
  size: number;
  sha256: string;
}

/**
 * Files already at their destination path with the digest the source vouches
 * for: left in place, not fetched. Only for objects the source gives a sha256
 * for, and only Flat (HuggingFaceCache blobs are named by that sha256 and
 * found the same way).
 */
async function adoptInPlace(dest: string, layout: Layout, objects: readonly RemoteObject[], staging: string): Promise<Map<string, Adopted>> {
  const out = new Map<string, Adopted>();
  for (const o of objects) {
    if (o.unpack.kind !== "file" || o.expected?.algorithm !== "sha256") continue;
    const rel = layout === "Flat" ? o.unpack.path : undefined;
    const candidates = rel !== undefined ? [rel] : await hfBlobCandidates(dest, o.expected.hex);
    for (const c of candidates) {
      const inside = await resolveInside(dest, c);
      if (!inside.ok) continue;
      const full = inside.value;
      const st = await lstat(full).catch(() => undefined);
      if (!st?.isFile() || st.size !== o.size) continue;
      const h = await hashFile(full);
      if (h.sha256 === o.expected.hex.toLowerCase()) {
        out.set(o.unpack.path, { size: o.size, sha256: h.sha256 });
        await removeQuietly(join(staging, "objects", `${objectKey(o.id)}.data`));
        await removeQuietly(join(staging, "objects", `${objectKey(o.id)}.state.json`));
        break;
      }
    }
  }
  return out;
}

async function hfBlobCandidates(dest: string, sha256: string): Promise<string[]> {
  const hub = join(dest, "hub");
  const repos = await readdir(hub).catch(() => [] as string[]);
  return repos.filter((r) => r.startsWith("models--")).map((r) => `hub/${r}/blobs/${sha256.toLowerCase()}`);
}

interface Unpacked {
  path: string;
  size: number;
  sha256: string;
  stagedPath: string;
}

async function unpackStaged(f: Fetched, staging: string): Promise<Unpacked[]> {
  if (f.object.unpack.kind !== "tar") return [];
  const dir = join(staging, "unpacked", objectKey(f.object.id));
  // Extraction is cheap next to the transfer and not resumable mid-archive: start clean.
  await removeQuietly(dir);
  await mkdir(dir, { recursive: true });
  const files = await extractTar(f.dataPath, dir, f.object.unpack.compression).catch((err: unknown) => {
    throw err instanceof HostileArchive ? new TransferError(f.object, err, false) : err;
  });
  return files.map((x) => ({ ...x, stagedPath: join(dir, x.path) }));
}
