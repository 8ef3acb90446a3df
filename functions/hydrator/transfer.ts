// The transfer engine: every listed object into the staging area, in
// parallel ranged chunks, resumable after a kill, retried with backoff,
// guarded against stalled connections, and hashed once, as the bytes arrive.
//
// Staging (on the destination's volume, so publishing is a rename):
//   <staging>/objects/<key>.data        the object's bytes, written at offsets
//   <staging>/objects/<key>.state.json  for an object of several chunks: which chunks are durable
//                                        (fdatasync before they are recorded) and, once checked, its sha256
//   <staging>/objects/journal.jsonl     for objects of one chunk (small files, unranged streams): each one
//                                        once durable and checked, appended in batches (staging-journal.ts)
// A killed process loses at most the chunks in flight; a re-run re-reads the
// state and fetches only the missing chunks.
//
// Hashing: SHA-256 (and the hub's git-blob SHA-1) needs an object's bytes in
// order while its chunks land out of order. Every received buffer goes to the
// object's hash frontier: if it starts where the hash has reached it is hashed
// at once; otherwise it is copied into a reused slab (held-budget.ts) until the
// hash reaches it. Held bytes are bounded across the whole transfer
// (held-budget.ts): a chunk ahead of its hash that would exceed the bound
// stops reading until the hash catches up, while the chunk the hash waits for
// never waits. No byte fetched by this run is read back from disk; only chunks
// found durable by a resume are hashed from the staging file, once, in order.
// Writes are batched: each received buffer is copied into a reused 1 MiB batch, written with one positional write.
import { createHash, type Hash } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, rm, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { writeAtomic } from "./fsutil.ts";
import { HeldBudget, HeldBytes } from "./held-budget.ts";
import { ServiceDigests } from "./service-digests.ts";
import { received } from "./young-gc.ts";
import { DEFAULT_RETRY, DigestMismatch, decideRetry, isRetryable, sleep as realSleep, type RetryPolicy } from "./retry.ts";
import { readJournal, StagingJournal, type JournalEntry } from "./staging-journal.ts";
import { SourceError, type RemoteObject, type Source } from "./sources/types.ts";

/** Bytes gathered before one positional write. */
const WRITE_BATCH = 1 << 20;
/** Default bound on bytes held ahead of a hash, across all chunks. */
export const DEFAULT_HELD_BYTES = 8 << 20;
/**
 * Files open at once at most (made, not yet published): a file is opened when the transfer reaches it, so this
 * bounds only files that finished arriving and wait for their fsync and journal line. A few KiB each.
 */
export const OPEN_FILES_MAX = 256;
const JOURNAL = "journal.jsonl";

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
  /** Bound on bytes held in memory ahead of an object's hash (default DEFAULT_HELD_BYTES). */
  heldBytes?: number;
  retry?: RetryPolicy;
  signal: AbortSignal;
  events: TransferEvents;
  /** Injected in tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Tests: called with what the run measured (bytes read back from staging to hash, the held-bytes peak). */
  onStats?: (s: TransferStats) => void;
}

/** What one fetch measured about its own hashing, for tests and benchmarks. */
export interface TransferStats {
  /** Bytes hashed from the staging file: only chunks a resume found durable. */
  hashedFromDisk: number;
  /** Bytes hashed as they arrived. */
  hashedInFlight: number;
  /** The most bytes held ahead of a hash at once. */
  heldPeak: number;
  /** The most files open at once (made, not yet published): bounded by what is in flight, not the listing. */
  openFilesPeak: number;
}

/**
 * One fetched, checked object, kept until the manifest is made. Its staging path is made when read, not kept: a
 * path of about 100 characters per file was the largest part of what 40,000 results held.
 */
export class Fetched {
  readonly object: RemoteObject;
  readonly sha256: string;
  readonly size: number;
  /** The staging directory of every object (one string shared by all). */
  readonly #dir: string;
  constructor(object: RemoteObject, dir: string, sha256: string, size: number) {
    this.object = object;
    this.#dir = dir;
    this.sha256 = sha256;
    this.size = size;
  }
  /** Where the object's bytes are staged (`<staging>/objects/<key>.data`). */
  get dataPath(): string {
    return join(this.#dir, `${objectKey(this.object.id)}.data`);
  }
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

/** Bytes of each object already staged by an earlier run (allocated blocks), from one listing of the staging directory. */
export async function stagedBytes(stagingDir: string, objects: readonly RemoteObject[]): Promise<Map<string, number>> {
  const dir = join(stagingDir, "objects");
  const names = new Set(await readdir(dir).catch(() => [] as string[]));
  const out = new Map<string, number>();
  for (const o of objects) {
    const name = `${objectKey(o.id)}.data`;
    if (!names.has(name)) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st !== undefined) out.set(o.id, st.blocks * 512);
  }
  return out;
}

interface Chunk {
  index: number;
  start: number;
  end: number; // inclusive
  /** Durable: fdatasync'd (and, for several chunks, recorded), or found so by a resume. */
  done: boolean;
  /** Found durable by a resume: hashed from the staging file when the hash reaches it. */
  onDisk: boolean;
  /** Bytes of the chunk received by this run, from `start`. */
  got: number;
  /** Received but not yet hashed (the chunk is ahead of the hash), in order, ending at `start + got`. */
  held: HeldBytes;
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

/** What the objects of one fetch share: the held-bytes bound, the journal of single-chunk objects, the counters. */
interface Shared {
  budget: HeldBudget;
  journal: StagingJournal;
  stats: TransferStats;
  /** Write batches not in use: one per running chunk at most, reused for the whole transfer. */
  batches: Buffer[];
  /** How many write batches exist (in use or not). */
  batchCount: number;
}

/**
 * Every digest of one object's bytes, fed the same bytes in order. Made when the object's first byte is hashed and
 * let go once read, not held for the whole transfer: 40,000 small files would otherwise keep 80,000-160,000 hash
 * contexts alive from the start (about 75 MiB of OpenSSL's memory, measured).
 */
class ObjectDigests {
  readonly sha = createHash("sha256");
  /** The hub's git blob id of a small file (what its listing vouches for). */
  readonly git: Hash | undefined;
  /** The digests a storage service vouches for (RemoteObject.checks). */
  readonly service: ServiceDigests;
  constructor(object: RemoteObject) {
    this.git = object.expected?.algorithm === "git-blob-sha1" ? createHash("sha1").update(`blob ${object.size}\0`) : undefined;
    this.service = new ServiceDigests(object.checks);
  }
  update(b: Uint8Array): void {
    this.sha.update(b);
    this.git?.update(b);
    this.service.update(b);
  }
}

class ObjectJob {
  readonly object: RemoteObject;
  readonly dataPath: string;
  readonly statePath: string;
  readonly ranged: boolean;
  readonly chunkSize: number;
  readonly shared: Shared;
  chunks: Chunk[] = [];
  state!: State;
  /** One chunk: completion goes to the journal, not a state file of its own. */
  single = false;
  fh: FileHandle | undefined;
  #opening: Promise<FileHandle> | undefined;
  /** Made when the first byte is hashed, given up when read (takeDigests). */
  #digests: ObjectDigests | undefined;
  /** Every byte before this offset is hashed. */
  hashPos = 0;
  /** A resumed chunk is being hashed from disk: bytes arriving meanwhile are held. */
  #diskHashing: Promise<void> | undefined;
  remaining = 0;
  finished!: Promise<void>;
  resolveFinished!: () => void;
  rejectFinished!: (e: unknown) => void;

  constructor(object: RemoteObject, dir: string, ranged: boolean, chunkSize: number, shared: Shared) {
    this.object = object;
    const key = objectKey(object.id);
    this.dataPath = join(dir, `${key}.data`);
    this.statePath = join(dir, `${key}.state.json`);
    this.ranged = ranged;
    this.chunkSize = ranged ? chunkSize : Math.max(object.size, 1);
    this.shared = shared;
    this.finished = new Promise<void>((res, rej) => {
      this.resolveFinished = res;
      this.rejectFinished = rej;
    });
    // Never an unhandled rejection: the pool reports the first failure.
    this.finished.catch(() => undefined);
  }

  resetHash(): void {
    this.#digests = undefined;
    this.hashPos = 0;
  }

  /** The one place bytes are hashed: every digest is fed the same bytes, in order. */
  update(b: Uint8Array): void {
    (this.#digests ??= new ObjectDigests(this.object)).update(b);
    this.hashPos += b.length;
  }

  /** The digests of the bytes hashed so far (of none, for an empty object), given up: the next byte starts anew. */
  takeDigests(): ObjectDigests {
    const d = this.#digests ?? new ObjectDigests(this.object);
    this.#digests = undefined;
    return d;
  }

  /**
   * From what an earlier run left: the object's state file (several chunks) or its journal entry (one chunk),
   * each trusted only while the data file still has the object's size. Returns the bytes found durable.
   */
  async load(names: ReadonlySet<string>, journal: ReadonlyMap<string, JournalEntry>): Promise<number> {
    const n = this.object.size === 0 ? 0 : Math.ceil(this.object.size / this.chunkSize);
    this.single = n <= 1;
    const fresh: State = { v: 1, id: this.object.id, size: this.object.size, chunkSize: this.chunkSize, ranged: this.ranged, done: [] };
    const key = objectKey(this.object.id);
    const dataSize = names.has(`${key}.data`)
      ? await stat(this.dataPath)
          .then((s) => s.size)
          .catch(() => -1)
      : -1;
    this.state = fresh;
    if (this.single) {
      const j = journal.get(this.object.id);
      if (j !== undefined && j.size === this.object.size && dataSize === this.object.size)
        this.state = { ...fresh, done: n === 1 ? [0] : [], sha256: j.sha256 };
    } else if (names.has(`${key}.state.json`)) {
      const parsed = await readFile(this.statePath, "utf8")
        .then((t) => State.safeParse(JSON.parse(t)))
        .catch(() => undefined);
      const usable =
        parsed?.success === true &&
        parsed.data.id === fresh.id &&
        parsed.data.size === fresh.size &&
        parsed.data.chunkSize === fresh.chunkSize &&
        parsed.data.ranged === fresh.ranged &&
        dataSize === fresh.size;
      if (usable && parsed?.success) this.state = parsed.data;
    }
    const done = new Set(this.state.done);
    this.chunks = Array.from({ length: n }, (_, i) => ({
      index: i,
      start: i * this.chunkSize,
      end: Math.min(this.object.size, (i + 1) * this.chunkSize) - 1,
      done: done.has(i),
      onDisk: done.has(i),
      got: 0,
      held: new HeldBytes(),
    }));
    this.remaining = this.chunks.filter((c) => !c.done).length;
    return this.chunks.filter((c) => c.done).reduce((a, c) => a + (c.end - c.start + 1), 0);
  }

  get complete(): boolean {
    return this.state.sha256 !== undefined;
  }

  open(): Promise<FileHandle> {
    this.#opening ??= (async () => {
      // A single chunk starts from byte 0 every run (nothing of it is recorded): a fresh file. Several chunks
      // keep what is staged, and need the file's full length for positional writes (preallocated sparse).
      const fh = this.single
        ? await open(this.dataPath, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o644)
        : await open(this.dataPath, constants.O_RDWR | constants.O_CREAT, 0o644);
      if (!this.single && (await fh.stat()).size !== this.object.size) await fh.truncate(this.object.size);
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
    return writeAtomic(this.statePath, JSON.stringify(this.state));
  }

  /** Whether the hash waits for exactly the next byte of `c`: its bytes are then hashed on arrival, never held. */
  atFrontier(c: Chunk): boolean {
    return this.#diskHashing === undefined && this.hashPos === c.start + c.got;
  }

  /** A buffer of chunk `c` is written: hashed now if the hash has reached it, else held until it does. */
  deliver(c: Chunk, b: Uint8Array): void {
    if (this.atFrontier(c)) {
      c.got += b.length;
      this.update(b);
      this.shared.stats.hashedInFlight += b.length;
      if (this.hashPos === c.end + 1) this.advance();
      return;
    }
    c.got += b.length;
    this.shared.budget.hold(c.held, b);
  }

  /** A stream without ranges restarts at byte 0: so do its chunk and its hash. */
  restart(c: Chunk): void {
    this.shared.budget.discard(c.held);
    c.got = 0;
    this.resetHash();
  }

  /**
   * Moves the hash forward through whatever is ready: held bytes of the chunks it reaches, hashed from memory
   * and released; a chunk a resume found durable, hashed from disk (asynchronously; bytes arriving meanwhile
   * are held). Stops inside the first chunk still receiving.
   */
  advance(): void {
    const budget = this.shared.budget;
    while (this.#diskHashing === undefined && this.hashPos < this.object.size) {
      const c = this.chunks[Math.floor(this.hashPos / this.chunkSize)] as Chunk;
      if (c.onDisk) {
        this.#diskHashing = this.#hashFromDisk(c).finally(() => {
          this.#diskHashing = undefined;
        });
        // On failure the object's finalize reports it (the hash stops short of the size).
        this.#diskHashing.then(
          () => this.advance(),
          () => undefined,
        );
        break;
      }
      if (c.held.bytes > 0) {
        this.shared.stats.hashedInFlight += c.held.bytes;
        budget.drain(c.held, (b) => this.update(b));
      }
      if (this.hashPos <= c.end) break;
    }
    // Chunks waiting for room may now be at the frontier.
    budget.notify();
  }

  async #hashFromDisk(c: Chunk): Promise<void> {
    const fh = await this.open();
    const buf = Buffer.allocUnsafe(Math.min(WRITE_BATCH, c.end - c.start + 1));
    while (this.hashPos <= c.end) {
      const want = Math.min(buf.length, c.end + 1 - this.hashPos);
      const { bytesRead } = await fh.read(buf, 0, want, this.hashPos);
      if (bytesRead === 0) throw new Error(`staged data ended at ${this.hashPos} of ${this.object.size} bytes`);
      this.update(buf.subarray(0, bytesRead));
      this.shared.stats.hashedFromDisk += bytesRead;
    }
  }

  /** Resolves when every byte is hashed, or as far as it can get (finalize checks). */
  async settled(): Promise<void> {
    this.advance();
    while (this.#diskHashing !== undefined) {
      await this.#diskHashing.catch(() => undefined);
      this.advance();
    }
  }

  /** Held bytes of every chunk given back (the run failed). */
  drop(): void {
    for (const c of this.chunks) this.shared.budget.discard(c.held);
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
  const shared: Shared = {
    budget: new HeldBudget(opts.heldBytes ?? DEFAULT_HELD_BYTES),
    journal: new StagingJournal(join(dir, JOURNAL)),
    stats: { hashedFromDisk: 0, hashedInFlight: 0, heldPeak: 0, openFilesPeak: 0 },
    batches: [],
    batchCount: 0,
  };
  // One listing and one journal read, instead of probing every object's files (40,000 small files).
  const names = new Set(await readdir(dir));
  const journal = names.has(JOURNAL) ? await readJournal(join(dir, JOURNAL)) : new Map<string, JournalEntry>();

  // Objects are opened as the transfer reaches them, in order, and let go once published: what is kept of a file
  // before and after is its listing entry and its result (Fetched), not its job (chunks, state, digests, promises).
  // 40,000 small files made up front held ~3 KiB of heap each for the whole run (docs/benchmarks.md).
  const live = new Set<ObjectJob>();
  const fetched: Fetched[] = new Array<Fetched>(objects.length);
  /** Finalize failures (a digest mismatch) by object index: the first in listing order is thrown once all is done. */
  const finalErrors = new Map<number, unknown>();
  const finalizing = new Set<Promise<void>>();

  // What an earlier run left, reported once before any transfer: only objects with staged bytes are looked at
  // (a fresh run looks at none), each job made and let go; the transfer makes them again when it reaches them.
  const makeJob = (o: RemoteObject): ObjectJob => {
    try {
      // Ranges even for a one-chunk file: a cut connection then resumes where it stopped.
      return new ObjectJob(o, dir, source.supportsRanges(o) && o.size > 0, opts.chunkSize, shared);
    } catch (err) {
      throw new TransferError(o, err, false);
    }
  };
  let resumedBytes = 0;
  for (const o of objects) if (names.has(`${objectKey(o.id)}.data`)) resumedBytes += await makeJob(o).load(names, journal);
  opts.events.resumed(resumedBytes);

  let failure: unknown;
  const fail = (err: unknown): void => {
    if (failure !== undefined) return;
    failure = err;
    cancelOthers(err);
    wake();
  };

  // Files open (made, not yet settled) at most OPEN_FILES_MAX: all of an opened file's chunks are taken before the
  // next file is opened, so every open file is running or finishing and frees its place without another take.
  let unsettled = 0;
  let roomWaiters: (() => void)[] = [];
  const wake = (): void => {
    const waiting = roomWaiters;
    roomWaiters = [];
    for (const w of waiting) w();
  };
  const settle = (): void => {
    unsettled--;
    wake();
  };
  const track = (index: number, job: ObjectJob, done: Promise<void>): void => {
    const f = done.then(
      () => {
        fetched[index] = new Fetched(job.object, dir, job.state.sha256 as string, job.object.size);
        // Published and closed by finalize: nothing of it is kept but its result.
        live.delete(job);
        settle();
      },
      (err: unknown) => {
        // Kept in `live`, so the end closes it and gives its held bytes back.
        finalErrors.set(index, err);
        settle();
      },
    );
    finalizing.add(f);
    void f.finally(() => finalizing.delete(f));
  };

  /** Makes object `index`'s job, reads what an earlier run left of it, and returns the chunks still to fetch. */
  const open = async (index: number): Promise<{ job: ObjectJob; chunk: Chunk }[]> => {
    const job = makeJob(objects[index] as RemoteObject);
    live.add(job);
    unsettled++;
    shared.stats.openFilesPeak = Math.max(shared.stats.openFilesPeak, unsettled);
    await job.load(names, journal);
    if (job.complete || job.chunks.length === 0 || job.remaining === 0) {
      track(index, job, finalize(job, opts));
      return [];
    }
    // A resume: start hashing the durable chunks at the start from disk now, while the rest arrives.
    job.advance();
    const f = job.finished.then(() => finalize(job, opts));
    f.catch(() => undefined); // tracked below, or abandoned when a chunk failed
    track(index, job, f);
    return job.chunks.filter((c) => !c.done).map((chunk) => ({ job, chunk }));
  };

  // Chunks in order, object after object: the chunk each object's hash waits for is always taken before the
  // chunks after it, so a chunk held back by the bound always has its object's frontier chunk running. One
  // object is opened at a time; the workers take its chunks, then the next object's.
  let nextObject = 0;
  let pending: { job: ObjectJob; chunk: Chunk }[] = [];
  let taken = 0;
  let opening: Promise<void> | undefined;
  const take = async (): Promise<{ job: ObjectJob; chunk: Chunk } | undefined> => {
    for (;;) {
      if (failure !== undefined) return undefined;
      if (taken < pending.length) return pending[taken++];
      if (opening !== undefined) {
        await opening;
        continue;
      }
      if (nextObject >= objects.length) return undefined;
      if (unsettled >= OPEN_FILES_MAX) {
        await new Promise<void>((resolve) => roomWaiters.push(resolve));
        continue;
      }
      const index = nextObject++;
      opening = open(index).then(
        (chunks) => {
          pending = chunks;
          taken = 0;
        },
        (err: unknown) => fail(err),
      );
      await opening;
      opening = undefined;
    }
  };

  const worker = async (): Promise<void> => {
    for (let t = await take(); t !== undefined; t = await take()) {
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
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
    if (failure !== undefined) throw failure;
    while (finalizing.size > 0) await Promise.allSettled([...finalizing]);
    if (finalErrors.size > 0) throw finalErrors.get([...finalErrors.keys()].reduce((a, b) => Math.min(a, b)));
  } finally {
    for (const j of live) j.drop();
    shared.stats.heldPeak = shared.budget.peak;
    await Promise.allSettled([...[...live].map((j) => j.close()), shared.journal.close()]);
    opts.onStats?.({ ...shared.stats });
  }
  return { fetched, resumedBytes };
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
  let attempt = 0;
  for (;;) {
    const before = c.got;
    try {
      await streamChunk(source, job, c, opts);
      break;
    } catch (err) {
      if (opts.signal.aborted) throw opts.signal.reason;
      // Progress since the last failure means the source works: start counting again.
      attempt = c.got > before ? 1 : attempt + 1;
      const d = decideRetry(err, attempt, policy, random);
      if (!d.retry) throw new TransferError(job.object, err, err instanceof SourceError ? err.retryable : d.reason === "attempts exhausted");
      if (!job.ranged && c.got > 0) {
        // No ranges: the stream restarts at byte 0 and so does the hash.
        opts.events.bytes(-c.got);
        job.restart(c);
      }
      opts.events.retry(job.object, err instanceof Error ? err.message : String(err), d.delayMs, d.reason);
      await sleep(d.delayMs, opts.signal);
    }
  }
  c.done = true;
  await (job.fh as FileHandle).datasync();
  // A single chunk is recorded with its digest in the journal at finalize; several chunks each in the state file.
  if (!job.single) await job.saveState();
  job.remaining--;
  if (job.remaining === 0) job.resolveFinished();
}

/** Writes `bufs` (in order) at `pos`, all of them. */
async function writeAllAt(fh: FileHandle, bufs: Uint8Array[], total: number, pos: number): Promise<void> {
  let { bytesWritten } = await fh.writev(bufs, pos);
  while (bytesWritten < total) {
    // A short write (rare on regular files): the rest, from where it stopped.
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const b of bufs) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    const r = await fh.writev(rest, pos + bytesWritten);
    if (r.bytesWritten === 0) throw new Error(`a write at offset ${pos + bytesWritten} made no progress`);
    bytesWritten += r.bytesWritten;
  }
}

function newBatch(shared: Shared): Buffer {
  shared.batchCount++;
  return Buffer.allocUnsafeSlow(WRITE_BATCH);
}

async function streamChunk(source: Source, job: ObjectJob, c: Chunk, opts: TransferOptions): Promise<void> {
  const ctrl = new AbortController();
  const onAbort = (): void => ctrl.abort(opts.signal.reason);
  opts.signal.addEventListener("abort", onAbort, { once: true });
  // One timer, pushed forward on every read (refresh), paused while the engine itself is the one waiting.
  const stalled = (): void => ctrl.abort(new SourceError(`no data for ${Math.round(opts.stallTimeoutMs / 1000)}s: stalled connection`, { retryable: true }));
  let timer: NodeJS.Timeout | undefined;
  const kick = (): void => {
    if (timer === undefined) timer = setTimeout(stalled, opts.stallTimeoutMs);
    else timer.refresh();
  };
  const pause = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  const fh = job.fh as FileHandle;
  const budget = job.shared.budget;
  // Written (and delivered to the hash) bytes end at `pos` = `c.start + c.got`; `batch[0, fill)` holds the
  // received bytes not yet written. Each socket buffer is copied into the batch as it arrives, so it is garbage
  // before the next read: it dies young, freed by a scavenge, instead of living through a write, being promoted
  // and waiting for a mark-compact (docs/benchmarks.md, "Hydrator: peak RSS").
  let pos = c.start + c.got;
  const shared = job.shared;
  const batch = shared.batches.pop() ?? newBatch(shared);
  const engineBytes = (): number => budget.allocated + shared.batchCount * WRITE_BATCH;
  let fill = 0;
  const flush = async (): Promise<void> => {
    if (fill === 0) return;
    const n = fill;
    fill = 0;
    const b = batch.subarray(0, n);
    await writeAllAt(fh, [b], n, pos);
    pos += n;
    // Hashed (or held for the hash) only once written: a failed write loses these bytes from the chunk and its
    // hash alike, and a retry asks for them again.
    job.deliver(c, b);
    opts.events.bytes(n);
  };
  try {
    kick();
    const range = job.ranged ? { start: pos, end: c.end } : undefined;
    const stream = await source.read(job.object, range, ctrl.signal);
    // Leaving the loop early (an error, the bound's wait aborted) ends the iteration, which cancels the stream.
    for await (const value of stream) {
      kick();
      if (value.length === 0) continue;
      if (c.start + c.got + fill + value.length > c.end + 1) {
        throw new SourceError(`the server sent more than the ${job.object.size} bytes listed`, { retryable: false });
      }
      received(value.length, engineBytes);
      for (let off = 0; off < value.length;) {
        const n = Math.min(value.length - off, WRITE_BATCH - fill);
        batch.set(n === value.length ? value : value.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === WRITE_BATCH) {
          // A slow disk is not a stalled connection: the timer waits while a write is pending.
          pause();
          await flush();
          kick();
        }
      }
      if (budget.full && !job.atFrontier(c)) {
        // Ahead of the hash with the bound reached: stop reading (TCP backpressure) until the hash catches up
        // or room is released. Not a stalled connection: the timer waits too.
        pause();
        await budget.waitUntil(() => !budget.full || job.atFrontier(c), ctrl.signal);
        kick();
      }
    }
    await flush();
    if (c.start + c.got !== c.end + 1) {
      throw new SourceError(`the connection closed after ${c.start + c.got} of ${job.object.size} bytes`, { retryable: true });
    }
  } catch (err) {
    // Keep what arrived: a retry asks only for the rest.
    await flush().catch(() => undefined);
    if (ctrl.signal.aborted && ctrl.signal.reason instanceof SourceError) throw ctrl.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal.removeEventListener("abort", onAbort);
    shared.batches.push(batch);
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
  await job.settled();
  if (job.hashPos !== job.object.size) throw new TransferError(job.object, new Error(`hashed ${job.hashPos} of ${job.object.size} bytes`), false);
  const digests = job.takeDigests();
  const sha = digests.sha.digest("hex");
  const exp = job.object.expected;
  const got = exp?.algorithm === "git-blob-sha1" && digests.git !== undefined ? digests.git.digest("hex") : sha;
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
  const service = digests.service.mismatch();
  if (service !== undefined) {
    await discard(job);
    const mismatch = new DigestMismatch(
      job.object.id,
      `${service.algorithm} mismatch: the storage service vouches for ${service.expected} (base64), the bytes received hash to ${service.got}`,
    );
    throw new TransferError(job.object, mismatch, false);
  }
  job.state.sha256 = sha;
  if (job.single) {
    // An empty object has no chunk to make durable: its (empty) file is, before the journal says so.
    if (job.object.size === 0) await (job.fh as FileHandle).datasync();
    await job.shared.journal.append({ id: job.object.id, size: job.object.size, sha256: sha });
  } else await job.saveState();
  await job.close();
  opts.events.fileDone(job.object);
}
