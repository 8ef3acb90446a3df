// The transfer engine: every listed object into the staging area, in
// parallel ranged chunks, resumable after a kill, retried with backoff,
// guarded against stalled connections, and hashed while the bytes arrive.
//
// Staging (on the destination's volume, so publishing is a rename):
//   <staging>/objects/<key>.data        the object's bytes, preallocated sparse, written at offsets
//   <staging>/objects/<key>.state.json  which chunks are durable (fdatasync before they are recorded)
//                                        and, once checked, the object's sha256
// A killed process loses at most the chunks in flight; a re-run re-reads the
// state and fetches only the missing chunks.
//
// Hashing: SHA-256 needs the bytes in order while chunks land out of order.
// The chunk that starts where the hash has reached is hashed inline as it
// streams (for most files: all of it); a chunk that lands ahead of that is
// hashed from the page cache as soon as everything before it is hashed.
// Memory per running chunk: one 1 MiB write buffer.
import { createHash, type Hash } from "node:crypto";
import { mkdir, open, readFile, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeAtomic } from "./fsutil.ts";
import { ServiceDigests } from "./service-digests.ts";
import { DEFAULT_RETRY, DigestMismatch, decideRetry, isRetryable, sleep as realSleep, type RetryPolicy } from "./retry.ts";
import { SourceError, type RemoteObject, type Source } from "./sources/types.ts";

const WRITE_BUFFER = 1 << 20;

export interface TransferEvents {
  /** Bytes newly written (negative when a non-resumable stream restarts). */
  bytes(n: number): void;
  fileDone(object: RemoteObject): void;
  /** Bytes found already staged by an earlier run (reported once, before any transfer). */
  resumed(n: number): void;
  retry(object: RemoteObject, message: string, delayMs: number, reason: string): void;
}

export interface TransferOptions {
  concurrency: number;
  chunkSize: number;
  /** Abort a request that delivers no byte for this long. */
  stallTimeoutMs: number;
  retry?: RetryPolicy;
  signal: AbortSignal;
  events: TransferEvents;
  /** Injected in tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface Fetched {
  object: RemoteObject;
  dataPath: string;
  sha256: string;
  size: number;
}

const State = z.object({
  v: z.literal(1),
  id: z.string(),
  size: z.number(),
  chunkSize: z.number(),
  ranged: z.boolean(),
  done: z.array(z.number().int().nonnegative()),
  sha256: z.string().optional(),
});
type State = z.infer<typeof State>;

export function objectKey(id: string): string {
  return createHash("sha256").update(id).digest("hex").slice(0, 32);
}

interface Chunk {
  index: number;
  start: number;
  end: number; // inclusive
  done: boolean;
  inline: boolean;
}

/** What a failure is about: the file, the source, the cause. */
export class TransferError extends Error {
  readonly object: RemoteObject;
  readonly retryable: boolean;
  /** The cause alone, without the object's name (a source's message that already starts with it is not repeated). */
  readonly detail: string;
  constructor(object: RemoteObject, cause: unknown, retryable: boolean) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    let detail = msg;
    for (const p of [object.description, object.id]) if (p !== undefined && detail.startsWith(`${p}: `)) detail = detail.slice(p.length + 2);
    super(`${object.id}${object.description && object.description !== object.id ? ` (${object.description})` : ""}: ${detail}`, { cause });
    this.name = "TransferError";
    this.object = object;
    this.retryable = retryable;
    this.detail = detail;
  }
}

class ObjectJob {
  readonly object: RemoteObject;
  readonly dataPath: string;
  readonly statePath: string;
  readonly ranged: boolean;
  readonly chunkSize: number;
  chunks: Chunk[] = [];
  state!: State;
  fh: FileHandle | undefined;
  #opening: Promise<FileHandle> | undefined;
  sha!: Hash;
  git: Hash | undefined;
  digests!: ServiceDigests;
  hashPos = 0;
  inlineActive = false;
  #chain: Promise<void> = Promise.resolve();
  #stateChain: Promise<void> = Promise.resolve();
  remaining = 0;
  finished!: Promise<void>;
  resolveFinished!: () => void;
  rejectFinished!: (e: unknown) => void;

  constructor(object: RemoteObject, dir: string, ranged: boolean, chunkSize: number) {
    this.object = object;
    const key = objectKey(object.id);
    this.dataPath = join(dir, `${key}.data`);
    this.statePath = join(dir, `${key}.state.json`);
    this.ranged = ranged;
    this.chunkSize = ranged ? chunkSize : Math.max(object.size, 1);
    this.resetHash();
    this.finished = new Promise<void>((res, rej) => {
      this.resolveFinished = res;
      this.rejectFinished = rej;
    });
    // Never an unhandled rejection: the pool reports the first failure.
    this.finished.catch(() => undefined);
  }

  resetHash(): void {
    this.sha = createHash("sha256");
    this.git = this.object.expected?.algorithm === "git-blob-sha1" ? createHash("sha1").update(`blob ${this.object.size}\0`) : undefined;
    this.digests = new ServiceDigests(this.object.checks);
    this.hashPos = 0;
  }

  update(b: Uint8Array): void {
    this.sha.update(b);
    this.git?.update(b);
    this.digests.update(b);
    this.hashPos += b.length;
  }

  async load(): Promise<number> {
    const fresh: State = { v: 1, id: this.object.id, size: this.object.size, chunkSize: this.chunkSize, ranged: this.ranged, done: [] };
    const parsed = await readFile(this.statePath, "utf8")
      .then((t) => State.safeParse(JSON.parse(t)))
      .catch(() => undefined);
    const dataSize = await stat(this.dataPath)
      .then((s) => s.size)
      .catch(() => -1);
    const usable =
      parsed?.success === true &&
      parsed.data.id === fresh.id &&
      parsed.data.size === fresh.size &&
      parsed.data.chunkSize === fresh.chunkSize &&
      parsed.data.ranged === fresh.ranged &&
      dataSize === fresh.size;
    this.state = usable && parsed?.success ? parsed.data : fresh;
    const n = this.object.size === 0 ? 0 : Math.ceil(this.object.size / this.chunkSize);
    const done = new Set(this.state.done);
    this.chunks = Array.from({ length: n }, (_, i) => ({
      index: i,
      start: i * this.chunkSize,
      end: Math.min(this.object.size, (i + 1) * this.chunkSize) - 1,
      done: done.has(i),
      inline: false,
    }));
    this.remaining = this.chunks.filter((c) => !c.done).length;
    return this.chunks.filter((c) => c.done).reduce((a, c) => a + (c.end - c.start + 1), 0);
  }

  get complete(): boolean {
    return this.state.sha256 !== undefined;
  }

  open(): Promise<FileHandle> {
    this.#opening ??= (async () => {
      const fh = await open(this.dataPath, "a+").then(async (f) => {
        await f.close();
        return open(this.dataPath, "r+");
      });
      const st = await fh.stat();
      // Preallocate sparsely: positional writes need the file's full length.
      if (st.size !== this.object.size) await fh.truncate(this.object.size);
      this.fh = fh;
      return fh;
    })();
    return this.#opening;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.#opening = undefined;
    await fh?.close();
  }

  saveState(): Promise<void> {
    this.state.done = this.chunks.filter((c) => c.done).map((c) => c.index);
    const snapshot = JSON.stringify(this.state);
    this.#stateChain = this.#stateChain.then(() => writeAtomic(this.statePath, snapshot));
    return this.#stateChain;
  }

  /** Hash, from disk, every done chunk the inline hashing did not cover, in order. */
  advance(): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      const buf = Buffer.allocUnsafe(WRITE_BUFFER);
      while (this.hashPos < this.object.size) {
        const c = this.chunks[Math.floor(this.hashPos / this.chunkSize)];
        if (c === undefined || !c.done || c.inline) break;
        const fh = await this.open();
        while (this.hashPos <= c.end) {
          const want = Math.min(buf.length, c.end + 1 - this.hashPos);
          const { bytesRead } = await fh.read(buf, 0, want, this.hashPos);
          if (bytesRead === 0) throw new Error(`staged data ended at ${this.hashPos} of ${this.object.size} bytes`);
          this.update(buf.subarray(0, bytesRead));
        }
      }
    });
    return this.#chain;
  }
}

/**
 * Fetches `objects` into `stagingDir`. A digest mismatch drops that object's
 * staged bytes and fetches it once more from scratch (a bad proxy or a flipped
 * bit in transit); a second mismatch is final.
 */
export async function fetchObjects(
  source: Source,
  objects: readonly RemoteObject[],
  stagingDir: string,
  opts: TransferOptions,
): Promise<{ fetched: Fetched[]; resumedBytes: number }> {
  try {
    return await fetchOnce(source, objects, stagingDir, opts);
  } catch (err) {
    // A user's own pin that does not match is not a transit error: fetching again gives the same bytes.
    if (!(err instanceof TransferError && err.cause instanceof DigestMismatch) || err.cause.pinned) throw err;
    opts.events.retry(err.object, err.message, 0, "digest mismatch: fetching the file again");
    return await fetchOnce(source, objects, stagingDir, opts);
  }
}

async function fetchOnce(
  source: Source,
  objects: readonly RemoteObject[],
  stagingDir: string,
  parentOpts: TransferOptions,
): Promise<{ fetched: Fetched[]; resumedBytes: number }> {
  // The first permanent failure cancels the chunks still in flight and their
  // retries: the run is lost anyway, and the Job should say so now, not after
  // every sibling has finished or exhausted its own retries.
  const cancel = new AbortController();
  const onParentAbort = (): void => cancel.abort(parentOpts.signal.reason);
  if (parentOpts.signal.aborted) onParentAbort();
  else parentOpts.signal.addEventListener("abort", onParentAbort, { once: true });
  try {
    return await fetchWith(source, objects, stagingDir, { ...parentOpts, signal: cancel.signal }, (err) => cancel.abort(err));
  } finally {
    parentOpts.signal.removeEventListener("abort", onParentAbort);
  }
}

async function fetchWith(
  source: Source,
  objects: readonly RemoteObject[],
  stagingDir: string,
  opts: TransferOptions,
  cancelOthers: (err: unknown) => void,
): Promise<{ fetched: Fetched[]; resumedBytes: number }> {
  const dir = join(stagingDir, "objects");
  await mkdir(dir, { recursive: true });
  const policy = opts.retry ?? DEFAULT_RETRY;
  const sleep = opts.sleep ?? realSleep;
  const random = opts.random ?? Math.random;

  const jobs: ObjectJob[] = [];
  let resumedBytes = 0;
  for (const o of objects) {
    // Ranges even for a one-chunk file: a cut connection then resumes where it stopped.
    const ranged = source.supportsRanges(o) && o.size > 0;
    let job: ObjectJob;
    try {
      job = new ObjectJob(o, dir, ranged, opts.chunkSize);
    } catch (err) {
      throw new TransferError(o, err, false);
    }
    resumedBytes += await job.load();
    jobs.push(job);
  }
  opts.events.resumed(resumedBytes);

  const tasks: { job: ObjectJob; chunk: Chunk }[] = [];
  const finals: Promise<void>[] = [];
  for (const job of jobs) {
    if (job.complete || job.chunks.length === 0 || job.remaining === 0) {
      finals.push(finalize(job, opts));
      continue;
    }
    for (const c of job.chunks) if (!c.done) tasks.push({ job, chunk: c });
    const f = job.finished.then(() => finalize(job, opts));
    f.catch(() => undefined); // awaited below, or abandoned when a chunk failed
    finals.push(f);
  }

  let failure: unknown;
  const fail = (err: unknown): void => {
    if (failure !== undefined) return;
    failure = err;
    cancelOthers(err);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < tasks.length) {
      const t = tasks[next++] as { job: ObjectJob; chunk: Chunk };
      try {
        await runChunk(source, t.job, t.chunk, opts, policy, sleep, random);
      } catch (err) {
        // Local failures too (a full volume while saving the chunk state) name the file they stopped.
        const e = err instanceof TransferError || opts.signal.aborted ? err : new TransferError(t.job.object, err, isRetryable(err));
        fail(e);
        t.job.rejectFinished(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, tasks.length)) }, worker));
  if (failure !== undefined) {
    await Promise.allSettled(jobs.map((j) => j.close()));
    throw failure;
  }
  const settled = await Promise.allSettled(finals);
  await Promise.allSettled(jobs.map((j) => j.close()));
  const firstErr = settled.find((s) => s.status === "rejected");
  if (firstErr) throw (firstErr as PromiseRejectedResult).reason;
  return {
    fetched: jobs.map((j) => ({ object: j.object, dataPath: j.dataPath, sha256: j.state.sha256 as string, size: j.object.size })),
    resumedBytes,
  };
}

async function runChunk(
  source: Source,
  job: ObjectJob,
  c: Chunk,
  opts: TransferOptions,
  policy: RetryPolicy,
  sleep: (ms: number, s: AbortSignal) => Promise<void>,
  random: () => number,
): Promise<void> {
  await job.open();
  let written = 0;
  let attempt = 0;
  if (c.start === job.hashPos && !job.inlineActive) {
    c.inline = true;
    job.inlineActive = true;
  }
  for (;;) {
    const before = written;
    try {
      await streamChunk(source, job, c, written, opts, (n) => (written += n));
      break;
    } catch (err) {
      if (opts.signal.aborted) throw opts.signal.reason;
      // Progress since the last failure means the source works: start counting again.
      attempt = written > before ? 1 : attempt + 1;
      const d = decideRetry(err, attempt, policy, random);
      if (!d.retry) throw new TransferError(job.object, err, err instanceof SourceError ? err.retryable : d.reason === "attempts exhausted");
      if (!job.ranged && written > 0) {
        // No ranges: the stream restarts at byte 0 and so does the hash.
        opts.events.bytes(-written);
        written = 0;
        job.resetHash();
      }
      opts.events.retry(job.object, err instanceof Error ? err.message : String(err), d.delayMs, d.reason);
      await sleep(d.delayMs, opts.signal);
    }
  }
  if (c.inline) job.inlineActive = false;
  c.done = true;
  await (job.fh as FileHandle).datasync();
  await job.saveState();
  await job.advance();
  job.remaining--;
  if (job.remaining === 0) job.resolveFinished();
}

async function streamChunk(source: Source, job: ObjectJob, c: Chunk, offset: number, opts: TransferOptions, onWritten: (n: number) => void): Promise<void> {
  const ctrl = new AbortController();
  const onAbort = (): void => ctrl.abort(opts.signal.reason);
  opts.signal.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const kick = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => ctrl.abort(new SourceError(`no data for ${Math.round(opts.stallTimeoutMs / 1000)}s: stalled connection`, { retryable: true })),
      opts.stallTimeoutMs,
    );
  };
  const fh = job.fh as FileHandle;
  let pos = c.start + offset;
  const buf = Buffer.allocUnsafe(WRITE_BUFFER);
  let fill = 0;
  const flush = async (): Promise<void> => {
    if (fill === 0) return;
    const view = buf.subarray(0, fill);
    let off = 0;
    while (off < fill) {
      const { bytesWritten } = await fh.write(view, off, fill - off, pos + off);
      off += bytesWritten;
    }
    if (c.inline) job.update(view);
    pos += fill;
    onWritten(fill);
    opts.events.bytes(fill);
    fill = 0;
  };
  try {
    kick();
    const range = job.ranged ? { start: pos, end: c.end } : undefined;
    const stream = await source.read(job.object, range, ctrl.signal);
    const reader = stream.getReader();
    try {
      for (;;) {
        kick();
        const { done, value } = await reader.read();
        if (done) break;
        if (pos + fill + value.length > c.end + 1) {
          throw new SourceError(`the server sent more than the ${job.object.size} bytes listed`, { retryable: false });
        }
        let v = value;
        while (v.length > 0) {
          const n = Math.min(v.length, buf.length - fill);
          buf.set(v.subarray(0, n), fill);
          fill += n;
          v = v.subarray(n);
          if (fill === buf.length) {
            // A slow disk is not a stalled connection: the timer waits while a write is pending.
            clearTimeout(timer);
            await flush();
            kick();
          }
        }
      }
    } finally {
      reader.releaseLock();
      await stream.cancel().catch(() => undefined);
    }
    await flush();
    if (pos !== c.end + 1) {
      throw new SourceError(`the connection closed after ${pos} of ${job.object.size} bytes`, { retryable: true });
    }
  } catch (err) {
    // Keep what arrived: a retry asks only for the rest.
    await flush().catch(() => undefined);
    if (ctrl.signal.aborted && ctrl.signal.reason instanceof SourceError) throw ctrl.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener("abort", onAbort);
  }
}

/** The staged bytes are wrong: drop them so a re-run fetches them again. */
async function discard(job: ObjectJob): Promise<void> {
  await job.close();
  await rm(job.dataPath, { force: true });
  await rm(job.statePath, { force: true });
}

async function finalize(job: ObjectJob, opts: TransferOptions): Promise<void> {
  if (job.complete) {
    opts.events.fileDone(job.object);
    return;
  }
  if (job.object.size === 0) await job.open();
  await job.advance();
  if (job.hashPos !== job.object.size) throw new TransferError(job.object, new Error(`hashed ${job.hashPos} of ${job.object.size} bytes`), false);
  const sha = job.sha.digest("hex");
  const exp = job.object.expected;
  const got = exp?.algorithm === "git-blob-sha1" ? (job.git as Hash).digest("hex") : sha;
  if (exp !== undefined && exp.hex.toLowerCase() !== got) {
    await discard(job);
    const mismatch =
      exp.pinnedBy !== undefined
        ? new DigestMismatch(
            job.object.id,
            `the file's sha256 is ${got}, not ${exp.hex.toLowerCase()} as pinned with ${exp.pinnedBy}: the pin is wrong or the server holds other bytes`,
            true,
          )
        : new DigestMismatch(job.object.id, `${exp.algorithm} mismatch: the source vouches for ${exp.hex.toLowerCase()}, the bytes received hash to ${got}`);
    throw new TransferError(job.object, mismatch, false);
  }
  const service = job.digests.mismatch();
  if (service !== undefined) {
    await discard(job);
    const mismatch = new DigestMismatch(
      job.object.id,
      `${service.algorithm} mismatch: the storage service vouches for ${service.expected} (base64), the bytes received hash to ${service.got}`,
    );
    throw new TransferError(job.object, mismatch, false);
  }
  job.state.sha256 = sha;
  await job.saveState();
  await job.close();
  opts.events.fileDone(job.object);
}
