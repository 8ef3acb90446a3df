// The memory a process may take for calls (--memory-budget), and the
// admission of each call against it. A call's cost is known from the first
// five bytes of its body: gRPC frames the message with its length, so a call
// is admitted (or refused) before its bytes are buffered, not after 100 of
// them have arrived at once. A call reserves what it will hold at its peak, a
// fixed multiple of its request (REQUEST_COST_FACTOR: the bytes as they
// arrive and as assembled, the decoded form on a worker, and the response),
// until its status is sent. A call that does not fit gets RESOURCE_EXHAUSTED,
// which Crossplane retries: the budget is about load, not about the request,
// unless the request alone needs more than the budget (the message says so).
import { readFileSync } from "node:fs";
import { totalmem } from "node:os";

/** What one call holds at its peak, per byte of its request (measured: docs/benchmarks.md, "The service under load"). */
export const REQUEST_COST_FACTOR = 4;
/**
 * The same for a request walked as it arrives (--stream-requests-from, incoming.ts): never assembled, at most its
 * clusters' bytes kept (a first pass) and the decoded rest. Measured at 5,000 clusters (313 MiB): a first pass
 * 360-390 MiB over the idle process (1.15-1.25x), a converged call 150 (0.5x) (docs/benchmarks.md, "The
 * threshold"); 2x leaves room for shapes the bench does not have.
 */
export const STREAMED_REQUEST_COST_FACTOR = 2;
/** Below this a request costs this much: its share of the buffers and objects every call has, whatever its size. */
export const MIN_CALL_COST_BYTES = 64 * 1024;

export const MiB = 1024 * 1024;

/** The default --memory-budget: most of the container's memory limit, so the limit is never reached; without one, half the machine's memory. */
export function defaultMemoryBudgetMiB(limitBytes = containerMemoryLimit()): number {
  if (limitBytes !== undefined) return Math.max(64, Math.floor((limitBytes * 0.75) / MiB));
  return Math.floor(totalmem() / 2 / MiB);
}

/** The cgroup's memory limit (v2, then v1), or undefined where there is none or it cannot be read. */
export function containerMemoryLimit(read: (path: string) => string = (p) => readFileSync(p, "utf8")): number | undefined {
  for (const path of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    let text: string;
    try {
      text = read(path).trim();
    } catch {
      continue;
    }
    if (!/^\d+$/.test(text)) return undefined; // "max": no limit
    const bytes = Number(text);
    // cgroup v1 says "no limit" with a number near 2^63.
    return bytes > 0 && bytes < 2 ** 60 ? bytes : undefined;
  }
  return undefined;
}

/** The factor a request is reserved at: walked as it arrives, or assembled whole. */
export function costFactor(streamed: boolean): number {
  return streamed ? STREAMED_REQUEST_COST_FACTOR : REQUEST_COST_FACTOR;
}

export function callCost(requestBytes: number, streamed = false): number {
  return Math.max(MIN_CALL_COST_BYTES, costFactor(streamed) * requestBytes);
}

export type Admission = { ok: true; release(): void } | { ok: false; alone: boolean; costBytes: number; inUseBytes: number; message: string };

export class MemoryBudget {
  readonly budgetBytes: number;
  readonly baseBytes: number;
  private reserved = 0;
  private calls = 0;

  /**
   * `budgetBytes` for the whole process; `baseBytes` of it are what the process holds idle (the code, the workers'
   * heaps), measured at start-up, so calls share the rest. 0: no budget.
   */
  constructor(budgetBytes: number, baseBytes: number) {
    this.budgetBytes = budgetBytes;
    this.baseBytes = baseBytes;
  }

  /** Bytes reserved by calls in flight. */
  inUse(): number {
    return this.reserved;
  }

  /** Calls holding a reservation. */
  holders(): number {
    return this.calls;
  }

  /**
   * Reserve what a call with a request of `requestBytes` will hold (`streamed`: walked as it arrives, not assembled);
   * release() once its status is sent (idempotent).
   */
  admit(requestBytes: number, streamed = false): Admission {
    const cost = callCost(requestBytes, streamed);
    if (this.budgetBytes === 0) return { ok: true, release: () => undefined };
    const room = this.budgetBytes - this.baseBytes;
    const mib = (b: number) => Math.ceil(b / MiB);
    if (cost > room)
      return {
        ok: false,
        alone: true,
        costBytes: cost,
        inUseBytes: this.reserved,
        message: `function-model-cache cannot take this request of ${mib(requestBytes)} MiB: a call holds about ${costFactor(streamed)}x its request (${mib(cost)} MiB), more than the ${mib(room)} MiB of --memory-budget (${mib(this.budgetBytes)} MiB) left for calls beside the ${mib(this.baseBytes)} MiB the process holds idle; raise --memory-budget (and the container's memory limit)`,
      };
    if (this.reserved + cost > room)
      return {
        ok: false,
        alone: false,
        costBytes: cost,
        inUseBytes: this.reserved,
        message: `function-model-cache is holding ${mib(this.reserved)} MiB of --memory-budget (${mib(room)} MiB for calls) for ${this.calls} calls in flight; this request of ${mib(requestBytes)} MiB needs ${mib(cost)} MiB more; retry later`,
      };
    this.reserved += cost;
    this.calls++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.reserved -= cost;
        this.calls--;
      },
    };
  }
}
