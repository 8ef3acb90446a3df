// How many calls per second one namespace may start, checked on the gRPC
// thread before a call costs anything else (no worker hop, no decode, no log
// line per call). Crossplane itself starts at most --max-reconcile-rate
// reconciles a second over all XRs, so a namespace driven by Crossplane stays
// well under the default; what this bounds is a flood (a client sending the
// cheapest refused request back to back), which otherwise costs every other
// tenant's call the CPU of its framing and its hop to a worker.
//
// One token bucket per namespace: `ratePerSecond` tokens a second, holding at
// most `burst`. A bucket that has refilled is the same as none, so full
// buckets are dropped when the map grows; past `maxTenants` tracked at once,
// new namespaces share one bucket rather than growing the map without end.
// (Hand-written: a bucket is a dozen lines, and the rate limiter libraries on
// the registry bring stores and promises this synchronous check does not need.)

export interface TenantRateLimits {
  /** Calls a second one namespace may start on average; 0 turns the limit off. */
  ratePerSecond: number;
  /** Calls one namespace may start at once after a quiet spell. */
  burst: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number; refusedSinceLogged: number; log: boolean };

interface Bucket {
  tokens: number;
  at: number;
  refused: number;
  loggedAt: number;
}

/** Namespaces tracked at once before new ones share one bucket. */
const MAX_TENANTS = 10_000;
const SHARED = "\u0000shared";
/** A namespace over its rate is logged at most once a second, with how many calls were refused since. */
const LOG_EVERY_MS = 1000;

export class TenantRate {
  private readonly limits: TenantRateLimits;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(limits: TenantRateLimits, now: () => number = () => performance.now()) {
    this.limits = limits;
    this.now = now;
  }

  /** Take one call's token for `tenant`, or say how long until it has one. */
  take(tenant: string): RateDecision {
    if (this.limits.ratePerSecond <= 0) return { ok: true };
    const now = this.now();
    const bucket = this.bucketOf(tenant, now);
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) * this.limits.ratePerSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    bucket.refused++;
    const log = now - bucket.loggedAt >= LOG_EVERY_MS;
    const refusedSinceLogged = bucket.refused;
    if (log) {
      bucket.loggedAt = now;
      bucket.refused = 0;
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / this.limits.ratePerSecond), refusedSinceLogged, log };
  }

  /** Namespaces with a bucket now (for tests). */
  tracked(): number {
    return this.buckets.size;
  }

  private bucketOf(tenant: string, now: number): Bucket {
    const known = this.buckets.get(tenant);
    if (known) return known;
    if (this.buckets.size >= MAX_TENANTS) this.dropRefilled(now);
    const key = this.buckets.size >= MAX_TENANTS ? SHARED : tenant;
    const bucket = this.buckets.get(key) ?? { tokens: this.limits.burst, at: now, refused: 0, loggedAt: -Infinity };
    this.buckets.set(key, bucket);
    return bucket;
  }

  private dropRefilled(now: number): void {
    for (const [tenant, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.limits.ratePerSecond) / 1000 >= this.limits.burst) this.buckets.delete(tenant);
    }
  }
}
