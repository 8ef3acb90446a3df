// The replica's decision, as data: from what the cluster showed (blockers,
// where the hydration stands, the attempt, the volume) to the phase, the
// message a person reads, how soon to look again, and which Job attempt to
// run. Pure and total: decide.test.ts holds one row per way a replica can be.
import type { PermanentFailure } from "../../api/hydration-report.ts";
import type { ReplicaPhase } from "../../api/modelcache.ts";
import { decideRetry, MAX_ATTEMPTS } from "./lifecycle.ts";
import type { Hydration } from "./phase.ts";

/** Requeue quickly while bytes move, at the default otherwise. */
export const TTL_IN_PROGRESS_SECONDS = 20;
export const TTL_SETTLED_SECONDS = 60;

export interface PhaseObservations {
  /** Why nothing can be hydrated now (a storage class, a CSI driver, a claim that is missing), in words. */
  blocked: readonly string[];
  /** What must be there before the first Job starts (a source claim being read, a read-only bridge binding); Pending meanwhile. */
  waiting?: readonly string[];
  hydration: Hydration;
  /** The attempt counted from the previous status, and whether that status belongs to another run. */
  attempt: number;
  fresh: boolean;
  previous: { phase?: ReplicaPhase | undefined; lastError?: string | undefined; permanent?: PermanentFailure | undefined };
  /** The current attempt's Job is among the observed resources. */
  jobComposed: boolean;
  /** The claim is Bound. */
  bound: boolean;
  claim: { namespace: string; name: string };
  /** The current attempt's Job name, and the source in one line, for messages. */
  currentJob: string;
  source: string;
  /** Secrets the Job reads, named when a pod may be stuck on one. */
  secrets: readonly string[];
  /** The report ConfigMap holds something that is not a report: said in the message until the replica is Ready. */
  reportProblem?: string | undefined;
  nowMs: number;
}

export interface PhaseDecision {
  phase: ReplicaPhase;
  message: string;
  ttlSeconds: number;
  /** The attempt the status records. */
  attempts: number;
  /** The attempt whose Job is composed, or undefined to compose none (never started, finished, or given up). */
  runAttempt: number | undefined;
  lastError: string | undefined;
  /** Set while Failed for a failure retrying cannot fix: whose it is (status.permanentFailure); no Job runs until a refetch. */
  permanent?: PermanentFailure | undefined;
  drift: boolean;
}

/** What a person does about a permanent failure, by whose it is. */
export const PERMANENT_FIX: Record<PermanentFailure, string> = {
  Source:
    "the source itself refused (retrying cannot fix it): fix the source or its credentials (spec.artifact.source, the Secret it names on the cluster), then set a new refetch value on the ModelCache",
  Destination:
    "the volume itself failed it (full, holding files not of the artifact, or bytes that do not verify; retrying cannot fix it): free space, use a larger volume or fix what it holds, then set a new refetch value on the ModelCache",
};

export function progress(bytesDone: number, bytesTotal: number | undefined, etaSeconds: number | undefined): string {
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(2)} GiB`;
  const of = bytesTotal !== undefined && bytesTotal > 0 ? ` of ${gib(bytesTotal)} (${Math.floor((bytesDone / bytesTotal) * 100)}%)` : "";
  return `${gib(bytesDone)}${of}${etaSeconds !== undefined ? `, about ${etaSeconds}s left` : ""}`;
}

type Outcome = Pick<PhaseDecision, "phase" | "message"> & Partial<Omit<PhaseDecision, "phase" | "message">>;

/**
 * Gave up on an earlier pass: the last attempt's Job was dropped then. Its report may be gone, or still say where
 * the pod was when it was killed (e.g. at its deadline, before it could write Failed): never read as running again.
 * The shared copy's decision and the nodes' first copy from the source (node-local.ts) read it alike.
 */
export function gaveUpBefore(o: Pick<PhaseObservations, "fresh" | "attempt" | "jobComposed" | "hydration"> & { previousPhase: string | undefined }): boolean {
  const s = o.hydration.state;
  return !o.fresh && o.attempt >= MAX_ATTEMPTS && o.previousPhase === "Failed" && !o.jobComposed && (s === "notStarted" || s === "running");
}

/**
 * Stopped on an earlier pass for a permanent failure: its Job was dropped then, and its report may be gone since.
 * The status says so (previous.permanent, kept through a Blocked pass), so no Job of this run starts again until a
 * refetch (a fresh run).
 */
export function permanentBefore(
  o: Pick<PhaseObservations, "fresh" | "jobComposed" | "hydration"> & { previousPermanent: PermanentFailure | undefined },
): boolean {
  const s = o.hydration.state;
  return !o.fresh && o.previousPermanent !== undefined && !o.jobComposed && (s === "notStarted" || s === "running");
}

/** The phase and what goes with it; fields an outcome leaves out keep the defaults of decidePhase. */
function outcome(o: PhaseObservations): Outcome {
  const { hydration: h, attempt } = o;
  if (o.blocked.length > 0)
    // Never start a Job that cannot succeed; never kill one already running.
    // A permanent stop is remembered through it: unblocked, the run is still stopped until a refetch.
    return {
      phase: "Blocked",
      message: o.blocked.join("; "),
      ttlSeconds: TTL_SETTLED_SECONDS,
      permanent: o.fresh ? undefined : o.previous.permanent,
      ...(o.jobComposed ? {} : { runAttempt: undefined }),
    };
  if (permanentBefore({ ...o, previousPermanent: o.previous.permanent }) && o.previous.permanent !== undefined)
    return {
      phase: "Failed",
      message: `attempt ${attempt} failed: ${o.previous.lastError ?? "hydration failed"}; not retried: ${PERMANENT_FIX[o.previous.permanent]}`,
      permanent: o.previous.permanent,
      ttlSeconds: TTL_SETTLED_SECONDS,
      runAttempt: undefined,
    };
  if (gaveUpBefore({ ...o, previousPhase: o.previous.phase }))
    return {
      phase: "Failed",
      message: `gave up after ${MAX_ATTEMPTS} attempts: ${o.previous.lastError ?? "hydration failed"}; set a new refetch value on the ModelCache to try again`,
      ttlSeconds: TTL_SETTLED_SECONDS,
      runAttempt: undefined,
    };
  switch (h.state) {
    case "done":
      // Finished: the report ConfigMap keeps the result; a TTL-deleted Job must not be re-created.
      return o.bound
        ? {
            phase: "Ready",
            message: `${h.report.manifestDigest ?? "artifact"} verified on ${o.claim.namespace}/${o.claim.name}`,
            lastError: undefined,
            ttlSeconds: TTL_SETTLED_SECONDS,
            runAttempt: undefined,
          }
        : {
            phase: "Verifying",
            message: `hydration verified; waiting for PersistentVolumeClaim ${o.claim.name} to be Bound`,
            runAttempt: undefined,
          };
    case "failed": {
      const failed = { lastError: h.error, drift: h.drift };
      // The hydrator said retrying cannot fix it: Failed at once, no retry, and what to fix.
      if (h.permanent !== undefined)
        return {
          ...failed,
          phase: "Failed",
          message: `attempt ${attempt} failed: ${h.error}; not retried: ${PERMANENT_FIX[h.permanent]}`,
          permanent: h.permanent,
          runAttempt: undefined,
          ttlSeconds: TTL_SETTLED_SECONDS,
        };
      // Failed on a permanent exit code, its report not observed yet: no retry until it says whether one can help.
      if (h.reportPending === true)
        return {
          ...failed,
          phase: "Failed",
          message: `attempt ${attempt} failed: ${h.error}; waiting to observe its report, which says whether a retry can help`,
          ttlSeconds: TTL_IN_PROGRESS_SECONDS,
        };
      const d = decideRetry(attempt, h.failedAt, o.nowMs);
      if (d.kind === "giveUp")
        return {
          ...failed,
          phase: "Failed",
          message: `attempt ${attempt} of ${MAX_ATTEMPTS} failed: ${h.error}; gave up: set a new refetch value on the ModelCache to try again`,
          runAttempt: undefined,
          ttlSeconds: TTL_SETTLED_SECONDS,
        };
      if (d.kind === "wait")
        return {
          ...failed,
          phase: "Failed",
          message: `attempt ${attempt} of ${MAX_ATTEMPTS} failed: ${h.error}; attempt ${attempt + 1} starts at ${d.retryAt}`,
          ttlSeconds: Math.max(d.seconds, 1),
        };
      return {
        ...failed,
        phase: "Pending",
        attempts: d.next,
        runAttempt: d.next,
        message: `attempt ${attempt} failed: ${h.error}; starting attempt ${d.next} of ${MAX_ATTEMPTS}`,
      };
    }
    case "running": {
      const what = h.report.phase === "Resolving" ? "resolving the source" : h.report.phase === "Verifying" ? "verifying" : "hydrating";
      const podFailed = h.podError !== undefined ? `; a pod failed (${h.podError}) and the Job retries it` : "";
      return {
        phase: h.report.phase === "Verifying" ? "Verifying" : "Hydrating",
        message: `${what}: ${progress(h.report.bytesDone, h.report.bytesTotal, h.report.etaSeconds)}${podFailed}`,
        ...(h.podError !== undefined ? { lastError: h.podError } : {}),
      };
    }
    case "started": {
      if (h.finished) return { phase: "Pending", message: `Job ${o.currentJob} succeeded; waiting to observe its report` };
      const hint = o.secrets.length
        ? ` (a pod that cannot start, e.g. for a missing Secret ${o.secrets.join(", ")} in namespace ${o.claim.namespace}, shows on the Job)`
        : "";
      return { phase: "Pending", message: `Job ${o.currentJob} started; waiting for its first report${hint}` };
    }
    case "notStarted":
      if (o.waiting !== undefined && o.waiting.length > 0) return { phase: "Pending", message: o.waiting.join("; "), runAttempt: undefined };
      return { phase: "Pending", message: `starting hydration Job ${o.currentJob} for ${o.source}` };
  }
}

export function decidePhase(o: PhaseObservations): PhaseDecision {
  const decided: PhaseDecision = {
    ttlSeconds: TTL_IN_PROGRESS_SECONDS,
    attempts: o.attempt,
    runAttempt: o.attempt,
    lastError: o.fresh ? undefined : o.previous.lastError,
    permanent: undefined,
    drift: false,
    ...outcome(o),
  };
  if (o.reportProblem !== undefined && decided.phase !== "Ready") decided.message = `${decided.message}; ${o.reportProblem}`;
  return decided;
}
