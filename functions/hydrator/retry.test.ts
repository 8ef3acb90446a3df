// Which failures are retried, how long the hydrator waits, and that a
// server's Retry-After wins over the client's own backoff (within a bound).
import { parseRetryAfter } from "./sources/retry-after.ts";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, DigestMismatch, decideRetry, isRetryable, sleep, type RetryPolicy } from "./retry.ts";
import { SourceError } from "./sources/types.ts";

const fsError = (code: string): Error => Object.assign(new Error(`${code}: fs`), { code });

describe("isRetryable", () => {
  const cases: [what: string, err: unknown, want: boolean][] = [
    ["a SourceError the source marked retryable (5xx, 429)", new SourceError("503", { status: 503, retryable: true }), true],
    ["a SourceError the source marked permanent (404, 401)", new SourceError("404", { status: 404, retryable: false }), false],
    ["a digest mismatch: the bytes are wrong, fetching again from the same source is not the fix", new DigestMismatch("a.bin", "sha256 mismatch"), false],
    ["ENOSPC: a full disk does not empty itself", fsError("ENOSPC"), false],
    ["EDQUOT: nor does a quota", fsError("EDQUOT"), false],
    ["EACCES: permissions do not change between attempts", fsError("EACCES"), false],
    ["EPERM", fsError("EPERM"), false],
    ["EROFS: a read-only mount", fsError("EROFS"), false],
    ["EISDIR", fsError("EISDIR"), false],
    ["ENOTDIR", fsError("ENOTDIR"), false],
    ["ECONNRESET: the network heals", fsError("ECONNRESET"), true],
    ["ETIMEDOUT", fsError("ETIMEDOUT"), true],
    ["fetch's TypeError('fetch failed')", new TypeError("fetch failed"), true],
    ["an abort or anything unknown is retried (bounded by maxAttempts)", new Error("stalled"), true],
    ["a thrown non-error value", "boom", true],
    ["null", null, true],
  ];
  it.each(cases)("%s -> %s", (_what, err, want) => {
    expect(isRetryable(err)).toBe(want);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const cases: [value: string | null | undefined, want: number | undefined, reason: string][] = [
    ["120", 120, "delta-seconds"],
    [" 7 ", 7, "surrounding whitespace is tolerated"],
    ["0", 0, "zero means now"],
    ["Thu, 01 Jan 2026 00:00:30 GMT", 30, "IMF-fixdate 30 s ahead"],
    ["Thu, 01 Jan 2026 00:00:30 GMT ", 30, "a date with trailing whitespace"],
    ["Thursday, 01-Jan-26 00:01:00 GMT", 60, "the obsolete RFC 850 form"],
    ["Thu Jan  1 00:02:00 2026", 120, "the obsolete asctime form (read as UTC only if the runtime does; see below)"],
    ["Thu, 01 Jan 2026 00:00:00 GMT", 0, "a date equal to now"],
    ["Wed, 31 Dec 2025 23:00:00 GMT", 0, "a date in the past is never negative"],
    [null, undefined, "no header"],
    [undefined, undefined, "no header"],
    ["", undefined, "an empty header"],
    ["soon", undefined, "not a number or a date"],
    ["-1", undefined, "negative seconds are invalid (V8's Date.parse would read a date in 2001)"],
    ["1.5", undefined, "fractional seconds are invalid (V8 would read 5 January 2001)"],
    ["2099", 2099, "digits alone are seconds, never a year"],
    ["2026-01-01T00:01:00Z", undefined, "ISO 8601 is not an HTTP-date"],
  ];
  it.each(cases)("%j -> %s (%s)", (value, want, reason) => {
    if (reason.startsWith("the obsolete asctime")) {
      // asctime carries no zone: Date.parse reads it as local time. Pin the expectation to what the runtime's zone gives.
      const local = Math.max(0, Math.ceil((Date.parse("Thu Jan  1 00:02:00 2026") - now) / 1000));
      expect(parseRetryAfter(value, now)).toBe(local);
      return;
    }
    expect(parseRetryAfter(value, now)).toBe(want);
  });

  it("rounds a future date up to whole seconds so the client never comes back early", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now - 1)).toBe(11);
  });
});

describe("decideRetry", () => {
  const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 10_000 };
  const retryable = new SourceError("503", { status: 503, retryable: true });
  const rand = (r: number) => (): number => r;

  it("does not retry a permanent error, and says so", () => {
    expect(decideRetry(new SourceError("401", { status: 401, retryable: false }), 1, policy, rand(0))).toEqual({
      retry: false,
      delayMs: 0,
      reason: "not retryable",
    });
  });

  it("stops after maxAttempts attempts without progress", () => {
    expect(decideRetry(retryable, policy.maxAttempts - 1, policy, rand(0)).retry).toBe(true);
    expect(decideRetry(retryable, policy.maxAttempts, policy, rand(0))).toEqual({ retry: false, delayMs: 0, reason: "attempts exhausted" });
  });

  const backoff: [attempt: number, cap: number, reason: string][] = [
    [1, 100, "the first retry waits about the base delay"],
    [2, 200, "doubling"],
    [3, 400, "doubling again"],
    [4, 800, "doubling again"],
  ];
  it.each(backoff)("attempt %i: delay within [cap/2, cap) with cap %i (%s)", (attempt, cap, _reason) => {
    const low = decideRetry(retryable, attempt, policy, rand(0));
    const high = decideRetry(retryable, attempt, policy, rand(0.999999));
    expect(low).toEqual({ retry: true, delayMs: cap / 2, reason: "backoff" });
    expect(high.delayMs).toBeGreaterThanOrEqual(cap / 2);
    expect(high.delayMs).toBeLessThan(cap);
  });

  it("never waits longer than maxDelayMs however many attempts", () => {
    const long: RetryPolicy = { ...policy, maxAttempts: 100 };
    for (let attempt = 1; attempt < 100; attempt++) {
      const d = decideRetry(retryable, attempt, long, rand(0.999999));
      expect(d.delayMs).toBeLessThanOrEqual(long.maxDelayMs);
      expect(d.delayMs).toBeGreaterThanOrEqual(Math.min(long.maxDelayMs, long.baseDelayMs * 2 ** (attempt - 1)) / 2);
    }
  });

  it("honours Retry-After instead of the backoff, adding under 250 ms of jitter and never less", () => {
    const err = new SourceError("429", { status: 429, retryable: true, retryAfterSeconds: 3 });
    expect(decideRetry(err, 1, policy, rand(0))).toEqual({ retry: true, delayMs: 3_000, reason: "Retry-After 3s" });
    const jittered = decideRetry(err, 1, policy, rand(0.999999));
    expect(jittered.delayMs).toBeGreaterThanOrEqual(3_000);
    expect(jittered.delayMs).toBeLessThan(3_250);
  });

  it("honours a Retry-After longer than the backoff cap (a rate-limited client must not come back early)", () => {
    const err = new SourceError("429", { status: 429, retryable: true, retryAfterSeconds: 5 });
    expect(decideRetry(err, 1, policy, rand(0)).delayMs).toBe(5_000);
    expect(5_000).toBeGreaterThan(policy.maxDelayMs);
  });

  it("bounds a hostile Retry-After by maxRetryAfterMs", () => {
    const err = new SourceError("429", { status: 429, retryable: true, retryAfterSeconds: 86_400 * 365 });
    expect(decideRetry(err, 1, policy, rand(0)).delayMs).toBe(policy.maxRetryAfterMs);
  });

  it("ignores Retry-After on a permanent error", () => {
    const err = new SourceError("403", { status: 403, retryable: false, retryAfterSeconds: 1 });
    expect(decideRetry(err, 1, policy, rand(0)).retry).toBe(false);
  });

  it("has defaults that wait at least once and at most ten minutes for a server", () => {
    expect(DEFAULT_RETRY.maxAttempts).toBeGreaterThan(1);
    expect(DEFAULT_RETRY.baseDelayMs).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
    expect(DEFAULT_RETRY.maxRetryAfterMs).toBe(600_000);
  });
});

describe("sleep", () => {
  it("rejects at once when aborted, with the abort reason", async () => {
    const ctrl = new AbortController();
    const p = sleep(60_000, ctrl.signal);
    ctrl.abort(new Error("received SIGTERM"));
    await expect(p).rejects.toThrow("received SIGTERM");
  });
  it("rejects without waiting when the signal is already aborted", async () => {
    await expect(sleep(60_000, AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
  });
  it("resolves after the delay", async () => {
    await expect(sleep(1)).resolves.toBeUndefined();
  });
});
