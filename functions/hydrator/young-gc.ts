// Frees the socket's buffers while they are young. Every read of a response
// is a fresh 64 KiB ArrayBuffer; the engine copies it into its reused write
// batch at once (transfer.ts), so it is garbage before the next read. But V8
// collects the young generation only when the young generation's own space is
// full, and a download allocates little JavaScript besides those buffers: they
// outlive a scavenge or two, are promoted, and wait for a mark-compact, which
// V8 requests once about 64 MB of them have piled up outside the heap. That
// pile was most of the hydrator's peak RSS beyond its code (docs/benchmarks.md,
// "Hydrator: peak RSS under 160 MiB").
//
// So, every few MiB received: one scavenge (a handful of live objects, well
// under a millisecond), and, if the buffers alive outside the heap still
// exceed what the engine itself keeps by more than a slack, one mark-compact.
// Measured: from about 45 mark-compacts per GiB (V8's own) to a few per run.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Bytes received between two scavenges. */
export const YOUNG_GC_EVERY = 4 << 20;
/** Buffers beyond the engine's own that may wait for V8's collector before a mark-compact is asked for. */
export const GARBAGE_SLACK = 16 << 20;

export type Gc = (opts: { type: "minor" | "major" }) => void;

let gc: Gc | undefined | null = null;

/** V8's `gc` function for this process: the flag, then read from a new context (it is not on this one's global). */
function collector(): Gc | undefined {
  if (gc === null) {
    try {
      const own = (globalThis as { gc?: unknown }).gc;
      if (typeof own === "function") gc = own as Gc;
      else {
        setFlagsFromString("--expose-gc");
        gc = runInNewContext("gc") as Gc;
      }
    } catch {
      // Not available (a runtime without the flag): V8's own collection, as before.
      gc = undefined;
    }
  }
  return gc ?? undefined;
}

/**
 * A counter of bytes received: every YOUNG_GC_EVERY of them, one scavenge, and a mark-compact when the
 * ArrayBuffers alive (`arrayBuffers()`) exceed `engineBytes()` (the engine's reused slabs and batches) by
 * GARBAGE_SLACK. `collect` undefined: nothing (V8 collects on its own).
 */
export function youngCollector(collect: Gc | undefined, arrayBuffers: () => number): (n: number, engineBytes: () => number) => void {
  let since = 0;
  return (n, engineBytes) => {
    since += n;
    if (since < YOUNG_GC_EVERY || collect === undefined) return;
    since = 0;
    collect({ type: "minor" });
    if (arrayBuffers() > engineBytes() + GARBAGE_SLACK) collect({ type: "major" });
  };
}

let processCollector: ((n: number, engineBytes: () => number) => void) | undefined;

/** This process's counter (`youngCollector` with V8's own collector and `process.memoryUsage()`). */
export function received(n: number, engineBytes: () => number): void {
  processCollector ??= youngCollector(collector(), () => process.memoryUsage().arrayBuffers);
  processCollector(n, engineBytes);
}

/**
 * One mark-compact now, between phases: what the transfer left for the collector (every file's requests, promises
 * and strings) is freed before the manifest is made from every file's result, so the two do not add up in the peak
 * (docs/benchmarks.md, "Many small files: nearly flat memory"). One collection of a heap of tens of MiB, a few ms.
 */
export function collectBetweenPhases(): void {
  collector()?.({ type: "major" });
}

/** A listing of fewer files than this lets V8 size its heap for speed again (heapForListing). */
export const MANY_FILES = 1000;

/**
 * V8 sizes its old generation for memory, not speed: a limit a little above what is alive instead of up to four
 * times it (`--optimize-for-size`). Set by `hydrate` before anything is loaded (set later, once the listing is
 * known, it measured 187 MiB instead of 139-163 at 40,000 files): tens of thousands of small files make garbage
 * that outlives a scavenge (each file's promises, requests and strings span a fetch, a write and an fsync), and
 * V8's default growing factor let it pile up to 225 MiB of heap for 53 MiB alive at 40,000 files
 * (docs/benchmarks.md, "Many small files: nearly flat memory"). It changes no result, only when the collector runs.
 */
export function sizeHeapForMemory(): void {
  setFlagsFromString("--optimize-for-size");
}

/**
 * Once the listing is known: fewer than MANY_FILES files (a few large ones) give V8 its default sizing back. There
 * the flag bought 14 MiB but cost 5-13% more CPU per GiB (docs/benchmarks.md), and the engine already frees the
 * socket's buffers young (received, above).
 */
export function heapForListing(files: number): void {
  if (heapSizing(files) === "speed") setFlagsFromString("--no-optimize-for-size");
}

/** How V8's heap is sized for a run of `files` files: for memory from MANY_FILES on, else V8's default (speed). */
export function heapSizing(files: number): "memory" | "speed" {
  return files >= MANY_FILES ? "memory" : "speed";
}
