// Retries with exponential backoff and full jitter, honouring the server's
// Retry-After: a rate-limited client that retries early only extends its ban.
import { SourceError } from "./sources/types.ts";

export interface RetryPolicy {
  /** Attempts without progress before giving up (progress resets the count). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound on an honoured Retry-After, so a hostile header cannot park the Job forever. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 600_000 };

export interface RetryDecision {
  retry: boolean;
  delayMs: number;
  /** Why the delay is what it is, for the log line. */
  reason: string;
}

/**
 * What to do after `err` on attempt `attempt` (1-based). `random` is injected
 * so tests can pin the jitter.
 */
export function decideRetry(err: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  const retryable = isRetryable(err);
  if (!retryable || attempt >= policy.maxAttempts) return { retry: false, delayMs: 0, reason: retryable ? "attempts exhausted" : "not retryable" };
  if (err instanceof SourceError && err.retryAfterSeconds !== undefined) {
    const ms = Math.min(err.retryAfterSeconds * 1000, policy.maxRetryAfterMs);
    // A little jitter on top (never below): many pods behind one NAT should not return in lockstep.
    return { retry: true, delayMs: ms + Math.floor(random() * 250), reason: `Retry-After ${err.retryAfterSeconds}s` };
  }
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Full jitter (AWS architecture blog): uniform in [cap/2, cap] keeps a floor while spreading clients.
  return { retry: true, delayMs: Math.floor(cap / 2 + random() * (cap / 2)), reason: "backoff" };
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof SourceError) return err.retryable;
  if (err instanceof DigestMismatch) return false;
  // Local file-system errors do not heal by retrying.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && ["ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EISDIR", "ENOTDIR"].includes(code)) return false;
  // Network failures from fetch (TypeError "fetch failed"), resets, timeouts.
  return true;
}

/**
 * `fn`, retried by `decideRetry` while it fails retryably: for the calls
 * outside the transfer engine (listing, resolving), so a server restarting
 * or a DNS hiccup does not fail a run that the transfer would have survived.
 */
export async function withRetries<T>(
  fn: () => Promise<T>,
  o: {
    policy: RetryPolicy;
    signal: AbortSignal;
    sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
    random?: () => number;
    onRetry: (err: unknown, delayMs: number, reason: string) => void;
  },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (o.signal.aborted) throw err;
      const d = decideRetry(err, attempt, o.policy, o.random);
      if (!d.retry) throw err;
      o.onRetry(err, d.delayMs, d.reason);
      await (o.sleep ?? sleep)(d.delayMs, o.signal);
    }
  }
}

/** A file whose bytes do not match the digest its source vouches for, or the user pinned. */
export class DigestMismatch extends Error {
  readonly path: string;
  /** The digest was the user's own pin (--sha256, --files): fetching again would not change the answer. */
  readonly pinned: boolean;
  constructor(path: string, message: string, pinned = false) {
    super(message);
    this.name = "DigestMismatch";
    this.path = path;
    this.pinned = pinned;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
