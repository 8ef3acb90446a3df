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
