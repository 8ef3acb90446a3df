// hydrate: one source into one destination, verified and published
// atomically, with progress and a report. The steps, in order:
//   1. a destination already holding this request's artifact is verified
//      locally and left alone: no network I/O at all;
//   2. resolve and list (the only calls before the space check);
//   3. adopt files already in place with the right digest (a crash mid-publish,
//      a pre-populated volume), check free space for the rest;
//   4. fetch into staging (transfer.ts), unpack archives (unpack.ts);
//   5. compute the manifest, check an expected digest, publish (publish.ts).
import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { HydrationPhase } from "../api/hydration-report.ts";
import { VERSION } from "../version.ts";
import { hashFile, removeQuietly } from "./fsutil.ts";
import { place } from "./layout.ts";
import {
  canonicalJson,
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
import { DigestMismatch, isRetryable, type RetryPolicy } from "./retry.ts";
import type { CreatedSource } from "./sources/index.ts";
import { SourceError, type RemoteObject } from "./sources/types.ts";
import { checkFreeSpace, type StatfsFn } from "./space.ts";
import { fetchObjects, objectKey, TransferError, type Fetched } from "./transfer.ts";
import { extractTar, HostileArchive } from "./unpack.ts";
import { readManifest, verifyDir } from "./verify.ts";

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

export type HydrateOutcome =
  | { ok: true; manifest: Manifest; reused: boolean }
  | { ok: false; exitCode: 1 | 2 | 3; message: string };

const STAGING_DIR = `${MANIFEST_DIR}/staging`;

export async function hydrate(created: CreatedSource, opts: HydrateOptions): Promise<HydrateOutcome> {
  const { source, reference } = created;
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
  try {
    await mkdir(opts.dest, { recursive: true });
    const request: RequestFingerprint = {
      source: reference,
      layout: opts.layout,
      include: [...opts.include],
      exclude: [...opts.exclude],
      ...(opts.pins ? { pins: opts.pins } : {}),
    };

    // 1. Nothing to do if the destination already holds this artifact.
    const existing = await readManifest(opts.dest);
    if (existing.ok && opts.refresh !== true) {
      const m = existing.value;
      const same = canonicalJson(m.request) === canonicalJson(request) || (opts.expectDigest !== undefined && m.digest === opts.expectDigest);
      if (same) {
        setPhase("Verifying", "the destination already holds this artifact: verifying it locally");
        tracker.start(m.totalBytes, m.files.length);
        const v = await verifyDir(opts.dest, { onBytes: (n) => tracker.add(n), ...(opts.expectDigest ? { expectDigest: opts.expectDigest } : {}) });
        if (v.ok) {
          tracker.filesDone = m.files.length;
          opts.reporter.update({ resolvedRevision: m.identity.resolved, manifestDigest: m.digest }, tracker.snapshot());
          return { ok: true, manifest: m, reused: true };
        }
        opts.sink.notice("repair", { message: `the published artifact does not verify (${v.problems.slice(0, 3).join("; ")}): fetching again` });
      }
    }

    // 2. Resolve and list.
    setPhase("Resolving");
    const listing = await source.list(opts.signal);
    const objects: RemoteObject[] = [];
    const paths = new Set<string>();
    const selected = globFilter(opts.include, opts.exclude);
    for (const o of listing.objects) {
      if (o.unpack.kind === "file") {
        const safe = safeRelativePath(o.unpack.path);
        if (!safe.ok) return fail(3, `${reference}: ${safe.error}`);
        if (o.unpack.path === "SHA256SUMS" || o.unpack.path.startsWith(`${MANIFEST_DIR}/`) || o.unpack.path === MANIFEST_DIR) {
          return fail(3, `${reference}: the source holds "${o.unpack.path}", a name the hydrator reserves for its own files`);
        }
        if (!selected(o.unpack.path)) continue;
        if (paths.has(o.unpack.path)) return fail(3, `${reference}: two objects map to "${o.unpack.path}"`);
        paths.add(o.unpack.path);
      }
      objects.push(o);
    }
    if (objects.length === 0) return fail(3, `${reference}: no file to fetch${opts.include.length + opts.exclude.length > 0 ? " (nothing matches --include/--exclude)" : ""}`);
    const identity = listing.identity;
    if (opts.layout === "HuggingFaceCache" && identity.huggingFace === undefined) {
      return fail(2, `--layout HuggingFaceCache needs an hf:// source (${identity.kind} sources have no repo id and commit)`);
    }
    const revision = listing.huggingFaceCache?.requestedRevision;
    opts.reporter.update({ ...(identity.resolved ? { resolvedRevision: identity.resolved } : {}) });

    const stagingKey = createHash("sha256").update(`${identity.kind}\0${identity.resolved || reference}`).digest("hex").slice(0, 24);
    const staging = join(opts.dest, STAGING_DIR, stagingKey);
    await mkdir(staging, { recursive: true });

    // 3. Adopt what is already in place; check space for the rest.
    const totalBytes = objects.reduce((a, o) => a + o.size, 0);
    tracker.start(totalBytes, objects.length);
    const adopted = await adoptInPlace(opts.dest, opts.layout, objects, staging);
    const toFetch = objects.filter((o) => !adopted.has(o.id));
    let needed = 0;
    for (const o of toFetch) {
      const onDisk = await stat(join(staging, "objects", `${objectKey(o.id)}.data`)).then((s) => s.blocks * 512).catch(() => 0);
      // An archive needs room for itself and for what it unpacks to.
      needed += Math.max(0, o.size - onDisk) + (o.unpack.kind === "tar" ? o.size : 0);
    }
    const space = await checkFreeSpace(opts.dest, needed, opts.statfs);
    if (!space.ok) return fail(3, space.error);

    // 4. Fetch.
    setPhase("Hydrating");
    for (const [, a] of adopted) {
      tracker.resumed(a.size);
      tracker.fileDone();
    }
    const { fetched } = await fetchObjects(source, toFetch, staging, {
      concurrency: opts.concurrency,
      chunkSize: opts.chunkSize,
      stallTimeoutMs: opts.stallTimeoutMs,
      signal: opts.signal,
      ...(opts.retry ? { retry: opts.retry } : {}),
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
      events: {
        bytes: (n) => tracker.add(n),
        resumed: (n) => tracker.resumed(n),
        fileDone: () => tracker.fileDone(),
        retry: (o, message, delayMs, reason) => opts.sink.notice("retry", { file: o.id, source: reference, message, delayMs, reason }),
      },
    });

    // Files of the artifact, and where their bytes are now (undefined: already in place).
    const files: ManifestFile[] = [];
    const staged = new Map<string, string | undefined>();
    for (const [path, a] of adopted) {
      files.push({ path, size: a.size, sha256: a.sha256 });
      staged.set(path, undefined);
    }
    setPhase("Verifying");
    for (const f of fetched) {
      if (f.object.unpack.kind === "file") {
        files.push({ path: f.object.unpack.path, size: f.size, sha256: f.sha256 });
        staged.set(f.object.unpack.path, f.dataPath);
      } else {
        for (const x of await unpackStaged(f, staging)) {
          if (staged.has(x.path)) return fail(3, `${reference}: "${x.path}" is provided twice (by ${f.object.id} and another object)`);
          files.push({ path: x.path, size: x.size, sha256: x.sha256 });
          staged.set(x.path, x.stagedPath);
        }
      }
    }

    // 5. Manifest, expected digest, publish.
    const manifestIdentity = {
      kind: identity.kind,
      resolved: identity.resolved || fileSetDigest(files),
      ...(identity.huggingFace ? { huggingFace: identity.huggingFace } : {}),
    };
    const digest = manifestDigest(manifestIdentity, files);
    if (opts.expectDigest !== undefined && digest !== opts.expectDigest) {
      return fail(3, `${reference} (${manifestIdentity.resolved}) gives artifact ${digest}, not the expected ${opts.expectDigest}: the source changed since it was pinned`);
    }
    const filtered = opts.include.length > 0 || opts.exclude.length > 0;
    const tree = filtered ? undefined : listing.huggingFaceCache?.tree;
    const placement = place(opts.layout, sortFiles(files), manifestIdentity, revision, tree);
    if (!placement.ok) return fail(2, placement.error);
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA,
      digest,
      source: reference,
      identity: manifestIdentity,
      layout: opts.layout,
      ...(revision !== undefined ? { revision } : {}),
      files: sortFiles(files),
      totalBytes: files.reduce((a, f) => a + f.size, 0),
      request,
      createdAt: new Date().toISOString(),
      tool: `function-model-cache ${VERSION}`,
    };
    await publish(opts.dest, placement.value, staged, manifest, existing.ok ? existing.value : undefined);
    await removeQuietly(join(opts.dest, STAGING_DIR));
    opts.reporter.update({ resolvedRevision: manifestIdentity.resolved, manifestDigest: digest });
    tracker.filesDone = tracker.filesTotal;
    return { ok: true, manifest, reused: false };
  } catch (err) {
    return fromError(err, reference, opts.signal);
  } finally {
    clearInterval(timer);
    tick();
  }
}

function fail(exitCode: 1 | 2 | 3, message: string): HydrateOutcome {
  return { ok: false, exitCode, message };
}

/** Exit code and message for a failure: retryable (1) or not (3), naming file, source and cause. */
export function fromError(err: unknown, reference: string, signal?: AbortSignal): HydrateOutcome {
  if (signal?.aborted) return fail(1, `${reference}: interrupted (${signal.reason instanceof Error ? signal.reason.message : String(signal.reason)}); the staging area is kept for a resume`);
  const full = volumeFull(err);
  if (full !== undefined) {
    // Say it plainly: the cause is the volume, not the source, and retrying will not help until someone frees space.
    const file = err instanceof TransferError ? ` while writing ${err.object.id}` : "";
    return fail(3, `${reference}: the destination volume is full${file} (${full}); no artifact was published; free space or use a larger volume, then re-run: the staging area is kept for a resume`);
  }
  if (err instanceof TransferError) return fail(err.retryable ? 1 : 3, `${reference}: ${err.message}`);
  if (err instanceof SourceError) return fail(err.retryable ? 1 : 3, err.message.includes(reference) ? err.message : `${reference}: ${err.message}`);
  if (err instanceof HostileArchive || err instanceof DigestMismatch) return fail(3, `${reference}: ${err.message}`);
  const msg = err instanceof Error ? err.message : String(err);
  return fail(isRetryable(err) ? 1 : 3, `${reference}: ${msg}`);
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
