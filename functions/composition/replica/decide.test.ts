import { describe, expect, it } from "vitest";
import type { HydrationReport } from "../../api/hydration-report.ts";
import {
  decidePhase,
  PERMANENT_FIX,
  TTL_IN_PROGRESS_SECONDS as BUSY,
  TTL_SETTLED_SECONDS as SETTLED,
  type PhaseDecision,
  type PhaseObservations,
} from "./decide.ts";

const NOW = Date.parse("2026-12-03T10:00:00Z");
const GIB = 2 ** 30;
const DIGEST = `sha256:${"d".repeat(64)}`;

/** A replica mid-run on attempt 2: nothing blocks, no Job yet, claim Bound. Each row changes what it is about. */
const base: PhaseObservations = {
  blocked: [],
  hydration: { state: "notStarted" },
  attempt: 2,
  fresh: false,
  previous: { phase: "Pending", lastError: "an earlier error" },
  jobComposed: false,
  bound: true,
  claim: { namespace: "mc-ml-team", name: "qwen-abc" },
  currentJob: "qwen-abc-a2",
  source: "hf://Qwen/Qwen3-8B@main",
  secrets: [],
  nowMs: NOW,
};

const report = (r: Partial<HydrationReport>): HydrationReport => ({ phase: "Hydrating", bytesDone: 0, filesDone: 0, ...r }) as HydrationReport;

interface Row {
  reason: string;
  given: Partial<PhaseObservations>;
  want: PhaseDecision;
}

const rows: Row[] = [
  {
    reason: "nothing started yet: start the current attempt's Job, look again soon",
    given: {},
    want: {
      phase: "Pending",
      message: "starting hydration Job qwen-abc-a2 for hf://Qwen/Qwen3-8B@main",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "a new refetch token or claim: the previous run's error no longer counts",
    given: { fresh: true, attempt: 1 },
    want: {
      phase: "Pending",
      message: "starting hydration Job qwen-abc-a2 for hf://Qwen/Qwen3-8B@main",
      ttlSeconds: BUSY,
      attempts: 1,
      runAttempt: 1,
      lastError: undefined,
      drift: false,
    },
  },
  {
    reason: "something the Job needs is not there yet (a pvcClone source claim being read): Pending with why, no Job started",
    given: { waiting: ["reading PersistentVolumeClaim mc-ml-team/golden on cluster c1", "waiting for the read-only claim to be Bound"] },
    want: {
      phase: "Pending",
      message: "reading PersistentVolumeClaim mc-ml-team/golden on cluster c1; waiting for the read-only claim to be Bound",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: undefined,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "waiting matters only before the first Job: a running Job is never held back by it",
    given: { waiting: ["reading the source claim"], jobComposed: true, hydration: { state: "started" } },
    want: {
      phase: "Pending",
      message: "Job qwen-abc-a2 started; waiting for its first report",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "blocked before any Job: every reason in the message, no Job started, settled requeue",
    given: { blocked: ["StorageClass efs-sc does not exist", "no CSI driver"] },
    want: {
      phase: "Blocked",
      message: "StorageClass efs-sc does not exist; no CSI driver",
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: undefined,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "blocked while a Job runs: the Job is kept (never killed), the replica says why it is blocked",
    given: { blocked: ["StorageClass efs-sc does not exist"], jobComposed: true, hydration: { state: "started" } },
    want: {
      phase: "Blocked",
      message: "StorageClass efs-sc does not exist",
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "gave up on an earlier pass and nothing changed: stay Failed, start nothing, say how to try again",
    given: { attempt: 6, previous: { phase: "Failed", lastError: "401 Unauthorized" } },
    want: {
      phase: "Failed",
      message: "gave up after 6 attempts: 401 Unauthorized; set a new refetch value on the ModelCache to try again",
      ttlSeconds: SETTLED,
      attempts: 6,
      runAttempt: undefined,
      lastError: "401 Unauthorized",
      drift: false,
    },
  },
  {
    reason:
      "gave up on an earlier pass, its Job since dropped, its report still saying Hydrating (the pod killed at its deadline before it could write Failed): stay Failed, never re-create the last attempt's Job",
    given: {
      attempt: 6,
      previous: { phase: "Failed", lastError: "Job was active longer than specified deadline" },
      hydration: { state: "running", report: report({ bytesDone: GIB }) },
    },
    want: {
      phase: "Failed",
      message: "gave up after 6 attempts: Job was active longer than specified deadline; set a new refetch value on the ModelCache to try again",
      ttlSeconds: SETTLED,
      attempts: 6,
      runAttempt: undefined,
      lastError: "Job was active longer than specified deadline",
      drift: false,
    },
  },
  {
    reason: "verified and the claim is Bound: Ready, the digest and where it is, no Job composed again",
    given: { hydration: { state: "done", report: report({ phase: "Ready", manifestDigest: DIGEST }) } },
    want: {
      phase: "Ready",
      message: `${DIGEST} verified on mc-ml-team/qwen-abc`,
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: undefined,
      lastError: undefined,
      drift: false,
    },
  },
  {
    reason: "verified but the claim is not Bound yet: Verifying, waiting for the claim",
    given: { bound: false, hydration: { state: "done", report: report({ phase: "Ready", manifestDigest: DIGEST }) } },
    want: {
      phase: "Verifying",
      message: "hydration verified; waiting for PersistentVolumeClaim qwen-abc to be Bound",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: undefined,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "failed with attempts left and the backoff passed: the next attempt's Job starts now",
    given: { hydration: { state: "failed", error: "503 from the hub", failedAt: "2026-12-03T09:00:00Z", drift: false } },
    want: {
      phase: "Pending",
      message: "attempt 2 failed: 503 from the hub; starting attempt 3 of 6",
      ttlSeconds: BUSY,
      attempts: 3,
      runAttempt: 3,
      lastError: "503 from the hub",
      drift: false,
    },
  },
  {
    reason: "failed within the backoff: Failed, when the next attempt starts, requeue at that time",
    given: { hydration: { state: "failed", error: "503 from the hub", failedAt: "2026-12-03T09:59:30Z", drift: false } },
    want: {
      phase: "Failed",
      message: "attempt 2 of 6 failed: 503 from the hub; attempt 3 starts at 2026-12-03T10:01:30.000Z",
      ttlSeconds: 90,
      attempts: 2,
      runAttempt: 2,
      lastError: "503 from the hub",
      drift: false,
    },
  },
  {
    reason: "the last attempt failed on drifted bytes: give up, start nothing, report the drift",
    given: { attempt: 6, hydration: { state: "failed", error: "the volume holds other bytes", failedAt: "2026-12-03T09:00:00Z", drift: true } },
    want: {
      phase: "Failed",
      message: "attempt 6 of 6 failed: the volume holds other bytes; gave up: set a new refetch value on the ModelCache to try again",
      ttlSeconds: SETTLED,
      attempts: 6,
      runAttempt: undefined,
      lastError: "the volume holds other bytes",
      drift: true,
    },
  },
  {
    reason: "bytes moving: Hydrating with progress and ETA; a failed pod the Job retries is the last error",
    given: {
      jobComposed: true,
      hydration: { state: "running", report: report({ phase: "Hydrating", bytesDone: 4 * GIB, bytesTotal: 16 * GIB, etaSeconds: 120 }), podError: "OOMKilled" },
    },
    want: {
      phase: "Hydrating",
      message: "hydrating: 4.00 GiB of 16.00 GiB (25%), about 120s left; a pod failed (OOMKilled) and the Job retries it",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "OOMKilled",
      drift: false,
    },
  },
  {
    reason: "resolving the source: still Hydrating, the message says what it is doing",
    given: { jobComposed: true, hydration: { state: "running", report: report({ phase: "Resolving" }) } },
    want: {
      phase: "Hydrating",
      message: "resolving the source: 0.00 GiB",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "the hydrator verifies what it wrote: Verifying",
    given: { jobComposed: true, hydration: { state: "running", report: report({ phase: "Verifying", bytesDone: GIB, bytesTotal: 2 * GIB }) } },
    want: {
      phase: "Verifying",
      message: "verifying: 1.00 GiB of 2.00 GiB (50%)",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "the Job started, no report yet, and it reads Secrets: the message says where a stuck pod shows",
    given: { jobComposed: true, hydration: { state: "started" }, secrets: ["hf-token"] },
    want: {
      phase: "Pending",
      message:
        "Job qwen-abc-a2 started; waiting for its first report (a pod that cannot start, e.g. for a missing Secret hf-token in namespace mc-ml-team, shows on the Job)",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "the Job succeeded and its report is not observed yet (two Objects, two polls): Pending, the Job kept, looked at again soon",
    given: { jobComposed: true, hydration: { state: "started", finished: true } },
    want: {
      phase: "Pending",
      message: "Job qwen-abc-a2 succeeded; waiting to observe its report",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "the report ConfigMap holds something else: said in the message while not Ready",
    given: { jobComposed: true, hydration: { state: "started" }, reportProblem: "the report ConfigMap's report.json is not JSON" },
    want: {
      phase: "Pending",
      message: "Job qwen-abc-a2 started; waiting for its first report; the report ConfigMap's report.json is not JSON",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "an earlier error",
      drift: false,
    },
  },
  {
    reason: "a report problem does not taint a Ready replica's message",
    given: { hydration: { state: "done", report: report({ phase: "Ready", manifestDigest: DIGEST }) }, reportProblem: "not JSON" },
    want: {
      phase: "Ready",
      message: `${DIGEST} verified on mc-ml-team/qwen-abc`,
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: undefined,
      lastError: undefined,
      drift: false,
    },
  },
  {
    reason: "the hydrator says the source refused for good (a refused token): Failed at once, no retry, whose it is and what to fix",
    given: {
      jobComposed: true,
      hydration: { state: "failed", error: "hf://Qwen/Qwen3-8B@main: 401 Unauthorized", failedAt: "2026-12-03T09:00:00Z", drift: false, permanent: "Source" },
    },
    want: {
      phase: "Failed",
      message: `attempt 2 failed: hf://Qwen/Qwen3-8B@main: 401 Unauthorized; not retried: ${PERMANENT_FIX.Source}`,
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: undefined,
      lastError: "hf://Qwen/Qwen3-8B@main: 401 Unauthorized",
      permanent: "Source",
      drift: false,
    },
  },
  {
    reason: "the volume refused for good (full): Failed at once, no retry, saying to free space or grow the volume",
    given: {
      jobComposed: true,
      hydration: { state: "failed", error: "the destination volume is full", failedAt: "2026-12-03T09:59:59Z", drift: false, permanent: "Destination" },
    },
    want: {
      phase: "Failed",
      message: `attempt 2 failed: the destination volume is full; not retried: ${PERMANENT_FIX.Destination}`,
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: undefined,
      lastError: "the destination volume is full",
      permanent: "Destination",
      drift: false,
    },
  },
  {
    reason:
      "failed on a permanent exit code (the Job's FailJob rule), its report not observed yet: Failed, the Job kept, no retry until the report says whether one can help",
    given: {
      jobComposed: true,
      hydration: { state: "failed", error: "exit code 3", failedAt: "2026-12-03T09:00:00Z", drift: false, reportPending: true },
    },
    want: {
      phase: "Failed",
      message: "attempt 2 failed: exit code 3; waiting to observe its report, which says whether a retry can help",
      ttlSeconds: BUSY,
      attempts: 2,
      runAttempt: 2,
      lastError: "exit code 3",
      drift: false,
    },
  },
  {
    reason: "stopped for good on an earlier pass, its Job dropped and its report gone since: still Failed from the status, no Job starts again",
    given: { previous: { phase: "Failed", lastError: "hf://Qwen/Qwen3-8B@main: 404 Not Found", permanent: "Source" } },
    want: {
      phase: "Failed",
      message: `attempt 2 failed: hf://Qwen/Qwen3-8B@main: 404 Not Found; not retried: ${PERMANENT_FIX.Source}`,
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: undefined,
      lastError: "hf://Qwen/Qwen3-8B@main: 404 Not Found",
      permanent: "Source",
      drift: false,
    },
  },
  {
    reason: "stopped for good earlier, then Blocked (the class went missing): the stop is kept through it, so unblocking starts nothing",
    given: { blocked: ["no storage class"], previous: { phase: "Failed", lastError: "404", permanent: "Source" } },
    want: {
      phase: "Blocked",
      message: "no storage class",
      ttlSeconds: SETTLED,
      attempts: 2,
      runAttempt: undefined,
      lastError: "404",
      permanent: "Source",
      drift: false,
    },
  },
  {
    reason: "a refetch after a permanent failure: the stop is of the previous run, attempt 1 starts",
    given: { fresh: true, attempt: 1, previous: { phase: "Failed", lastError: "404", permanent: "Source" } },
    want: {
      phase: "Pending",
      message: "starting hydration Job qwen-abc-a2 for hf://Qwen/Qwen3-8B@main",
      ttlSeconds: BUSY,
      attempts: 1,
      runAttempt: 1,
      lastError: undefined,
      drift: false,
    },
  },
];

describe("decidePhase", () => {
  it.each(rows)("$reason", ({ given, want }) => {
    expect(decidePhase({ ...base, ...given })).toEqual(want);
  });
});
