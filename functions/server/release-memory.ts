// Giving memory back after a burst. A large call leaves garbage that V8 does
// not collect while its thread is idle: the gRPC thread's 64 KiB socket reads
// and assembled requests, a worker's decoded request and response, each held
// by a Buffer or string nobody references any more. Until a full collection
// frees them, glibc cannot return their memory (measured: 2.3 GiB still held
// a minute after 30 concurrent 50 MiB calls, on a process idle at 210 MiB;
// docs/benchmarks.md, "The service under load"). So once calls stop coming,
// each thread runs one full collection.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * V8's full, compacting collection of this thread's heap, or undefined where V8 will not expose it. V8 gives `gc`
 * only to contexts made after --expose-gc is set, so it is set, and a context made just to take it from.
 */
export function fullCollection(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? () => void (gc as () => unknown)() : undefined;
  } catch {
    return undefined;
  }
}

/** After this many bytes of requests and responses the next idle moment runs a collection. */
export const COLLECT_AFTER_BYTES = 64 * 1024 * 1024;
/** How long no call may be in flight before that collection runs. */
export const COLLECT_WHEN_IDLE_MS = 2_000;

/**
 * Counts the bytes calls moved and, once COLLECT_AFTER_BYTES have moved and no call has been in flight for
 * COLLECT_WHEN_IDLE_MS, runs `collect` once.
 */
export class IdleCollector {
  private moved = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly collect: () => void;
  private readonly idleMs: number;

  constructor(collect: () => void, idleMs = COLLECT_WHEN_IDLE_MS) {
    this.collect = collect;
    this.idleMs = idleMs;
  }

  started(): void {
    this.inFlight++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  ended(bytes: number): void {
    this.inFlight--;
    this.moved += bytes;
    if (this.inFlight > 0 || this.moved < COLLECT_AFTER_BYTES) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight > 0) return;
      this.moved = 0;
      this.collect();
    }, this.idleMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
