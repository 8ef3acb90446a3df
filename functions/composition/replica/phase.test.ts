// A Job that completed, read against its report: the report is one Object and
// the Job another, each observed on its own poll, so for a while after the
// Job completed its Ready report may not be seen yet (found live).
import { describe, expect, it } from "vitest";
import type { HydrationReport } from "../../api/hydration-report.ts";
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import type { Observation } from "./objects.ts";
import { hydrationState, REPORT_LAG_GRACE_MS, type Hydration } from "./phase.ts";
import type { ReportReading } from "./report.ts";

const COMPLETED = "2026-01-01T00:10:00Z";
const completedMs = Date.parse(COMPLETED);
const job: Observation = {
  composed: true,
  exists: true,
  ready: true,
  policies: [],
  syncError: undefined,
  manifest: {
    apiVersion: "batch/v1",
    kind: "Job",
    status: { succeeded: 1, completionTime: COMPLETED, conditions: [{ type: "Complete", status: "True", lastTransitionTime: COMPLETED }] },
  },
};
const spec = {} as ModelCacheReplicaSpec;
const report = (phase: HydrationReport["phase"], message?: string): HydrationReport => ({
  phase,
  source: "hf://acme/tiny@main",
  bytesDone: 10,
  filesDone: 1,
  bytesPerSecond: 5,
  startedAt: COMPLETED,
  updatedAt: COMPLETED,
  ...(message ? { message } : {}),
});
const hydrating = report("Hydrating");
const noReport = "Job j succeeded but left no Ready report in ConfigMap r";

const rows: { reason: string; reading: ReportReading; nowMs: number | undefined; want: Hydration }[] = [
  {
    reason: "just completed, no report seen yet: waiting to observe it, not a failed attempt",
    reading: { kind: "none" },
    nowMs: completedMs + 5_000,
    want: { state: "started", finished: true },
  },
  {
    reason: "just completed, the last report seen still running: still running until the final one is seen",
    reading: { kind: "report", report: hydrating },
    nowMs: completedMs + 5_000,
    want: { state: "running", report: hydrating },
  },
  {
    reason: "the grace passed with no Ready report: the Job really left none",
    reading: { kind: "none" },
    nowMs: completedMs + REPORT_LAG_GRACE_MS,
    want: { state: "failed", error: noReport, failedAt: COMPLETED, drift: false },
  },
  {
    reason: "the grace passed on a running report: failed",
    reading: { kind: "report", report: hydrating },
    nowMs: completedMs + REPORT_LAG_GRACE_MS + 1,
    want: { state: "failed", error: noReport, failedAt: COMPLETED, drift: false },
  },
  {
    reason: "a report that is not a report is no lag: failed at once, saying why",
    reading: { kind: "invalid", message: "not JSON" },
    nowMs: completedMs + 5_000,
    want: { state: "failed", error: `${noReport} (not JSON)`, failedAt: COMPLETED, drift: false },
  },
  {
    reason: "a Failed report beside a Complete Job is no lag either",
    reading: { kind: "report", report: report("Failed", "boom") },
    nowMs: completedMs + 5_000,
    want: { state: "failed", error: noReport, failedAt: COMPLETED, drift: false },
  },
  {
    reason: "no clock given: as before, failed",
    reading: { kind: "none" },
    nowMs: undefined,
    want: { state: "failed", error: noReport, failedAt: COMPLETED, drift: false },
  },
  {
    reason: "the Ready report seen: done, whenever",
    reading: { kind: "report", report: report("Ready") },
    nowMs: completedMs + 5_000,
    want: { state: "done", report: report("Ready") },
  },
];

describe("hydrationState of a completed Job", () => {
  it.each(rows.map((r) => [r.reason, r] as const))("%s", (_reason, r) => {
    expect(hydrationState(spec, job, r.reading, "j", "r", r.nowMs)).toStrictEqual(r.want);
  });
});

// A failed Job read with its report: whether retrying can help (the report's permanent, absent from an older
// hydrator), and the error as the status carries it (redacted, bounded), whoever wrote it.
const FAILED_AT = "2026-01-01T00:20:00Z";
const failedJob = (message: string, reason = "PodFailurePolicy"): Observation => ({
  composed: true,
  exists: true,
  ready: false,
  policies: [],
  syncError: undefined,
  manifest: {
    apiVersion: "batch/v1",
    kind: "Job",
    status: { failed: 1, conditions: [{ type: "Failed", status: "True", reason, message, lastTransitionTime: FAILED_AT }] },
  },
});
const gone: Observation = { composed: false, exists: false, ready: false, policies: [], syncError: undefined, manifest: undefined };
const failedWith = (message: string, permanent?: "Source" | "Destination"): HydrationReport => ({
  ...report("Failed", message),
  updatedAt: FAILED_AT,
  ...(permanent ? { permanent } : {}),
});
const failedRows: { reason: string; job: Observation; reading: ReportReading; want: Hydration }[] = [
  {
    reason: "the hydrator says the source refused for good: permanent Source, the report's message",
    job: failedJob("exit code 3"),
    reading: { kind: "report", report: failedWith("hf://a/b@main: 401 Unauthorized", "Source") },
    want: {
      state: "failed",
      error: "hf://a/b@main: 401 Unauthorized",
      failedAt: FAILED_AT,
      drift: false,
      report: failedWith("hf://a/b@main: 401 Unauthorized", "Source"),
      permanent: "Source",
    },
  },
  {
    reason: "the volume refused for good, the Job since gone (its report the record): permanent Destination",
    job: gone,
    reading: { kind: "report", report: failedWith("/cache: no space left", "Destination") },
    want: {
      state: "failed",
      error: "/cache: no space left",
      failedAt: FAILED_AT,
      drift: false,
      report: failedWith("/cache: no space left", "Destination"),
      permanent: "Destination",
    },
  },
  {
    reason: "a report from an older hydrator (no permanent): transient, as before",
    job: failedJob("exit code 3"),
    reading: { kind: "report", report: failedWith("hf://a/b@main: 404") },
    want: { state: "failed", error: "hf://a/b@main: 404", failedAt: FAILED_AT, drift: false, report: failedWith("hf://a/b@main: 404") },
  },
  {
    reason: "no report, a Job failed by its backoff limit: transient (only the hydrator says permanent), the condition's message as the error",
    job: failedJob("Job has reached the specified backoff limit", "BackoffLimitExceeded"),
    reading: { kind: "none" },
    want: { state: "failed", error: "Job has reached the specified backoff limit", failedAt: FAILED_AT, drift: false },
  },
  {
    reason:
      "failed by the FailJob rule (a permanent exit code), its final report not observed yet (still Hydrating): the report is awaited, not a retry started",
    job: failedJob("exit code 3"),
    reading: { kind: "report", report: { ...hydrating, updatedAt: FAILED_AT } },
    want: { state: "failed", error: "exit code 3", failedAt: FAILED_AT, drift: false, report: { ...hydrating, updatedAt: FAILED_AT }, reportPending: true },
  },
  {
    reason: "failed by the FailJob rule with no report at all yet: awaited too",
    job: failedJob("exit code 3"),
    reading: { kind: "none" },
    want: { state: "failed", error: "exit code 3", failedAt: FAILED_AT, drift: false, reportPending: true },
  },
  {
    reason: "an error carrying a presigned URL's signature and an echoed header: redacted before it reaches status",
    job: failedJob("exit code 3"),
    reading: {
      kind: "report",
      report: failedWith("GET https://user:pw@b.example/w.bin?X-Amz-Signature=abc123 refused; Authorization: Bearer abcdefghijkl", "Source"),
    },
    want: {
      state: "failed",
      error: "GET https://b.example/w.bin refused; Authorization: ***",
      failedAt: FAILED_AT,
      drift: false,
      report: failedWith("GET https://user:pw@b.example/w.bin?X-Amz-Signature=abc123 refused; Authorization: Bearer abcdefghijkl", "Source"),
      permanent: "Source",
    },
  },
];

describe("hydrationState of a failed Job", () => {
  it.each(failedRows.map((r) => [r.reason, r] as const))("%s", (_reason, r) => {
    expect(hydrationState(spec, r.job, r.reading, "j", "r", Date.parse(FAILED_AT) + 1000)).toStrictEqual(r.want);
  });

  it("failed by the FailJob rule and no final report past the grace: transient, as for an older hydrator (compatibility)", () => {
    expect(hydrationState(spec, failedJob("exit code 3"), { kind: "none" }, "j", "r", Date.parse(FAILED_AT) + REPORT_LAG_GRACE_MS)).toStrictEqual({
      state: "failed",
      error: "exit code 3",
      failedAt: FAILED_AT,
      drift: false,
    });
  });

  it("a server's error page as the message does not flood the status: one line of at most 512 characters", () => {
    const page = `hf://a/b@main: 500 <html>\n${"<p>stack frame</p>\n".repeat(2000)}</html>`;
    const h = hydrationState(spec, failedJob("exit code 1"), { kind: "report", report: failedWith(page) }, "j", "r", undefined);
    expect(h.state).toBe("failed");
    const error = h.state === "failed" ? h.error : "";
    expect(Array.from(error).length).toBe(512);
    expect(error).toMatch(/^hf:\/\/a\/b@main: 500 <html> <p>stack frame<\/p> .*…$/);
    expect(error).not.toContain("\n");
  });
});
