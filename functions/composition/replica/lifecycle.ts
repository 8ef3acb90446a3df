// Attempts and backoff. A failed hydration is retried by a new Job (a new
// attempt, a new name) after a delay that doubles with each attempt; the
// count lives in the replica's status, and a new refetch token or a new claim
// starts again from attempt 1.
import type { ModelCacheReplicaStatus } from "../../api/replica.ts";

export const MAX_ATTEMPTS = 6;
export const BACKOFF_BASE_SECONDS = 60;
export const BACKOFF_CAP_SECONDS = 3600;

/** Seconds to wait after attempt `attempt` failed before the next one starts. */
export function backoffSeconds(attempt: number): number {
  return Math.min(BACKOFF_BASE_SECONDS * 2 ** Math.max(attempt - 1, 0), BACKOFF_CAP_SECONDS);
}

export interface AttemptState {
  attempt: number;
  /** A new refetch token or claim: nothing of the previous run counts. */
  fresh: boolean;
}

export function currentAttempt(prev: ModelCacheReplicaStatus, refetch: string, claimName: string): AttemptState {
  const fresh = (prev.observedRefetch ?? "") !== refetch || prev.claimName !== claimName;
  if (fresh) return { attempt: 1, fresh };
  return { attempt: Math.min(Math.max(prev.attempts ?? 1, 1), MAX_ATTEMPTS), fresh };
}

export type RetryDecision = { kind: "giveUp" } | { kind: "wait"; retryAt: string; seconds: number } | { kind: "retry"; next: number };

/**
 * `failedAt` comes from what was observed (the Job's Failed condition or the
 * report's last update), so the decision only depends on the clock through
 * "has the retry time passed". An unreadable time retries at once.
 */
export function decideRetry(attempt: number, failedAt: string | undefined, nowMs: number): RetryDecision {
  if (attempt >= MAX_ATTEMPTS) return { kind: "giveUp" };
  const failedMs = failedAt === undefined ? Number.NaN : Date.parse(failedAt);
  if (Number.isNaN(failedMs)) return { kind: "retry", next: attempt + 1 };
  const retryMs = failedMs + backoffSeconds(attempt) * 1000;
  if (nowMs >= retryMs) return { kind: "retry", next: attempt + 1 };
  return { kind: "wait", retryAt: new Date(retryMs).toISOString(), seconds: Math.ceil((retryMs - nowMs) / 1000) };
}
