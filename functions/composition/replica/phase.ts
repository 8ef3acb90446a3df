// From what was observed on the cluster to where the hydration stands: the
// Job's conditions and the hydrator's report, checked against the pin.
import { field, str } from "../../common/json.ts";
import type { HydrationReport, PermanentFailure } from "../../api/hydration-report.ts";
import { statusError } from "../../api/redact.ts";
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { Observation } from "./objects.ts";
import { condition } from "./objects.ts";
import type { ReportReading } from "./report.ts";

export type Hydration =
  | { state: "notStarted" }
  | { state: "started"; finished?: true } // the Job exists, no report yet (finished: it completed; its report not seen yet)
  | { state: "running"; report: HydrationReport; podError?: string }
  | { state: "done"; report: HydrationReport }
  | {
      state: "failed";
      error: string;
      failedAt: string | undefined;
      drift: boolean;
      report?: HydrationReport;
      /** The report says retrying cannot fix it, and whose the failure is (absent from an older hydrator: transient). */
      permanent?: PermanentFailure;
      /** Failed by the Job's FailJob rule (a permanent exit code) before the final report that says whose is observed. */
      reportPending?: true;
    };

function jobCondition(manifest: JsonObject | undefined, type: string): JsonObject | undefined {
  const c = condition(manifest, type);
  return c?.["status"] === "True" ? c : undefined;
}

/** A report that is Ready but not for the pinned bytes is a failure worth reporting, not success. */
export function pinMismatch(spec: ModelCacheReplicaSpec, report: HydrationReport): string | undefined {
  const pin = spec.pin;
  if (!pin) return undefined;
  if (pin.manifestDigest !== undefined && report.manifestDigest !== pin.manifestDigest)
    return `the volume holds manifest ${report.manifestDigest ?? "(none)"} but the cache is pinned to ${pin.manifestDigest}`;
  if (pin.manifestDigest === undefined && report.resolvedRevision !== undefined && report.resolvedRevision !== pin.resolvedRevision)
    return `the volume holds revision ${report.resolvedRevision} but the cache is pinned to ${pin.resolvedRevision}`;
  return undefined;
}

/**
 * How long after a Job completed its Ready report may still be unseen. provider-kubernetes observes the Job and the
 * report ConfigMap as two Objects, each on its own poll, so the Job's Complete can be seen before the report the
 * hydrator wrote before it exited (seen live: a Pod that started late, then hydrated in a second).
 */
export const REPORT_LAG_GRACE_MS = 120_000;

export function hydrationState(
  spec: ModelCacheReplicaSpec,
  job: Observation,
  reading: ReportReading,
  jobName: string,
  reportName: string,
  nowMs?: number,
): Hydration {
  const h = readHydration(spec, job, reading, jobName, reportName, nowMs);
  // Every error goes to status as said there: redacted and bounded, whoever wrote it (a report, a Job's condition).
  if (h.state === "failed") return { ...h, error: statusError(h.error) };
  if (h.state === "running" && h.podError !== undefined) return { ...h, podError: statusError(h.podError) };
  return h;
}

/** A Failed report's permanence, when it has one. */
function permanence(report: HydrationReport | undefined): { permanent?: PermanentFailure } {
  return report?.phase === "Failed" && report.permanent !== undefined ? { permanent: report.permanent } : {};
}

function readHydration(
  spec: ModelCacheReplicaSpec,
  job: Observation,
  reading: ReportReading,
  jobName: string,
  reportName: string,
  nowMs: number | undefined,
): Hydration {
  const report = reading.kind === "report" ? reading.report : undefined;
  if (report?.phase === "Ready") {
    const mismatch = pinMismatch(spec, report);
    if (mismatch === undefined) return { state: "done", report };
    return { state: "failed", error: mismatch, failedAt: report.updatedAt, drift: true, report };
  }
  const failed = jobCondition(job.manifest, "Failed");
  if (failed) {
    const why = report?.phase === "Failed" && report.message ? report.message : (str(failed["message"]) ?? str(failed["reason"]) ?? "the Job failed");
    const failedAt = str(failed["lastTransitionTime"]);
    // The Job and its report are two Objects, each observed on its own poll: a Job the podFailurePolicy failed (exit
    // code 2 or 3) can be seen before the final report that says whether, and whose, the failure is permanent. Wait
    // for it a while rather than start a retry it would have stopped; then, as for an older hydrator, transient.
    const failedMs = Date.parse(failedAt ?? "");
    const reportPending =
      str(failed["reason"]) === "PodFailurePolicy" &&
      report?.phase !== "Failed" &&
      reading.kind !== "invalid" &&
      nowMs !== undefined &&
      Number.isFinite(failedMs) &&
      nowMs - failedMs < REPORT_LAG_GRACE_MS;
    return {
      state: "failed",
      error: why,
      failedAt,
      drift: false,
      ...(report ? { report } : {}),
      ...permanence(report),
      ...(reportPending ? { reportPending: true as const } : {}),
    };
  }
  const complete = jobCondition(job.manifest, "Complete");
  const completedMs = Date.parse(str(field(job.manifest, "status", "completionTime")) ?? str(complete?.["lastTransitionTime"]) ?? "");
  if (
    complete &&
    reading.kind !== "invalid" &&
    report?.phase !== "Failed" &&
    nowMs !== undefined &&
    Number.isFinite(completedMs) &&
    nowMs - completedMs < REPORT_LAG_GRACE_MS
  )
    // Succeeded, and the report that says so not observed yet: wait for it rather than count a failed attempt.
    return report ? { state: "running", report } : { state: "started", finished: true };
  if (complete)
    return {
      state: "failed",
      error: `Job ${jobName} succeeded but left no Ready report in ConfigMap ${reportName}${reading.kind === "invalid" ? ` (${reading.message})` : ""}`,
      failedAt: str(field(job.manifest, "status", "completionTime")),
      drift: false,
    };
  if (report?.phase === "Failed" && job.exists !== true)
    return { state: "failed", error: report.message ?? "the hydrator failed", failedAt: report.updatedAt, drift: false, report, ...permanence(report) };
  if (report) {
    // A pod failed but the Job lives on: Kubernetes retries it within backoffLimit.
    if (report.phase === "Failed") return { state: "running", report, podError: report.message ?? "a hydration pod failed" };
    return { state: "running", report };
  }
  if (job.exists) return { state: "started" };
  return { state: "notStarted" };
}
