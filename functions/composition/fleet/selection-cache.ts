// What selection decided for one cluster, remembered by the exact bytes
// Crossplane sent for it. Between two requeues of a converged fleet almost no
// cluster changes, and reading a cluster (decoding its DRA pools, converting
// them for CEL, evaluating) is most of a reconcile; a cluster whose bytes are
// the same as on an earlier call, under the same selection context (the
// cache's spec, the Input's field paths, the CEL expression), gets the same
// outcome without being decoded.
//
// Never stale by construction: the key is the SHA-256 of the cluster's
// Resource bytes plus a SHA-256 of everything else the outcome is computed
// from (select.ts says what that is). The one input that is not the
// cluster's own, the call's CEL budget, is replayed (cel.ts, `replay`), and
// an outcome that depended on it, or on the clock, is never stored.
//
// Bounded and evicting (least recently used), by entries and by an estimate
// of their size. One per worker thread (server/compose-run-function.ts): a
// worker decodes the request it composes, so the cache lives where the bytes
// are. Entries are frozen: calls share them, and nothing may change them.
import { hash } from "node:crypto";
import type { Metered } from "./cel.ts";
import { deepFreeze } from "../../common/memo.ts";
import type { Outcome } from "./select.ts";

/** One cluster's remembered selection: its sort key, and the outcome (facts without pools: selection is the only reader of those). */
export interface CachedSelection {
  /** name NUL namespace, the order clusters are evaluated in. */
  metaKey: string;
  outcome: Outcome;
  /** What its CEL evaluation took from the call's budget, replayed on a hit. */
  cel?: Metered;
}

export interface SelectionCacheLimits {
  entries: number;
  /** An estimate: the entry's strings' lengths and a fixed overhead each. */
  bytes: number;
}

/** Five caches of 5,000 clusters each, or 64 MiB: whichever is reached first. */
export const DEFAULT_SELECTION_CACHE_LIMITS: SelectionCacheLimits = { entries: 25_000, bytes: 64 * 1024 * 1024 };

const ENTRY_OVERHEAD = 512;

function sizeOf(v: unknown): number {
  if (typeof v === "string") return v.length * 2;
  if (typeof v !== "object" || v === null) return 8;
  let n = 16;
  for (const [k, x] of Object.entries(v)) n += k.length + sizeOf(x);
  return n;
}

/** The SHA-256 of a cluster's bytes: the half of the key that is the cluster's own. */
export function bytesDigest(bytes: Uint8Array): string {
  return hash("sha256", bytes, "base64");
}

/** The SHA-256 of what else an outcome is computed from, as JSON. */
export function contextDigest(context: unknown): string {
  return hash("sha256", JSON.stringify(context), "base64");
}

export class SelectionCache {
  readonly #limits: SelectionCacheLimits;
  readonly #map = new Map<string, { value: CachedSelection; size: number }>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  constructor(limits: SelectionCacheLimits = DEFAULT_SELECTION_CACHE_LIMITS) {
    if (!(limits.entries >= 1) || !(limits.bytes >= 1)) throw new RangeError("a selection cache holds at least one entry");
    this.#limits = limits;
  }

  get(context: string, digest: string): CachedSelection | undefined {
    const key = `${context}:${digest}`;
    const e = this.#map.get(key);
    if (e === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  /** get() without counting a hit or a miss: a look-up made before the call decides (stream-request.ts's `forget`). */
  peek(context: string, digest: string): CachedSelection | undefined {
    const key = `${context}:${digest}`;
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(context: string, digest: string, value: CachedSelection): void {
    const key = `${context}:${digest}`;
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#bytes -= old.size;
      this.#map.delete(key);
    }
    const size = ENTRY_OVERHEAD + key.length * 2 + sizeOf(value);
    // An entry larger than the whole budget is not kept (nothing else would fit beside it).
    if (size > this.#limits.bytes) return;
    this.#map.set(key, { value: deepFreeze(value), size });
    this.#bytes += size;
    while (this.#map.size > this.#limits.entries || this.#bytes > this.#limits.bytes) {
      const oldest = this.#map.entries().next();
      if (oldest.done) break;
      this.#bytes -= oldest.value[1].size;
      this.#map.delete(oldest.value[0]);
    }
  }

  /** For tests and logs: how full it is and how it has been used. */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.#map.size, bytes: this.#bytes, hits: this.#hits, misses: this.#misses };
  }
}
