// One node's copy, as data (replication: AllMatchingNodes): from whether the
// node is selected, cordoned or gone, whether the cluster's shared copy (the
// seed) is verified, and where the node's own hydration stands, to its line
// in status, what happens to its objects and which Job attempt runs. Pure and
// total: node-decide.test.ts has a row, with its reason, per way a node can be.
import { durationSeconds } from "../../api/modelcache.ts";
import type { NodeStatus } from "../../api/node-local.ts";
import { decidePhase, gaveUpBefore, permanentBefore, progress, TTL_IN_PROGRESS_SECONDS, TTL_SETTLED_SECONDS } from "./decide.ts";
import { MAX_ATTEMPTS } from "./lifecycle.ts";
import type { Hydration } from "./phase.ts";

/**
 * What a node may copy. ready with a digest: the copy must verify exactly those bytes (the shared copy's, or
 * the pin); ready without one: the first copy from the source on a cluster with no shared copy, which pins the
 * rest. Not ready: why (the shared copy's phase), or `waiting`, the whole message.
 */
export type Seed =
  | { ready: true; digest: string | undefined }
  /** stopped: nothing starts until a refetch (the first copy from the source failed for a cause of the source itself): the line is Blocked. */
  | { ready: false; why: string; waiting?: string; stopped?: true };

export interface NodeObservations {
  node: string;
  /** The node in spec.cluster.nodes (selected), and whether it is cordoned; undefined when it is not listed. */
  listed: { cordoned: boolean } | undefined;
  seed: Seed;
  /** The source, when the node hydrates from it (no shared copy, nodeLocal.seed): its line and the Secrets it needs. */
  from?: { line: string; secrets: readonly string[] } | undefined;
  /** Why no node copy can start on this cluster now (its node-local class is missing), in words. */
  blocked?: string | undefined;
  hydration: Hydration;
  /** The attempt counted from the node's previous line, and whether that line belongs to another run. */
  attempt: number;
  fresh: boolean;
  previous: NodeStatus | undefined;
  /** Anything of this node is observed (its claim, Job or report): a node never composed has nothing to keep. */
  anythingObserved: boolean;
  /** The node's current claim (this revision's) is observed: composing it keeps what is there. */
  claimComposed: boolean;
  jobComposed: boolean;
  bound: boolean;
  claim: { namespace: string; name: string };
  currentJob: string;
  nowMs: number;
  /** input.tenancy.nodeLocal.leftNodeGracePeriod. */
  grace: string;
}

/**
 * compose: the node's claim is desired (and its Job when runAttempt is set); hold: nothing is created on the
 * node (its current claim does not exist and no Job would fill it now), and what it has stays (an earlier
 * revision's claim, kept as observed until the node's new copy is Ready); keep: every observed object of the
 * node exactly as observed; release: none of them (the retention policy decides the claim's bytes).
 */
export type NodeObjects = "compose" | "hold" | "keep" | "release";

export interface NodeDecision {
  /** Undefined when the node has no line (released, or never composed and not selected). */
  status: NodeStatus | undefined;
  objects: NodeObjects;
  runAttempt: number | undefined;
  ttlSeconds: number;
  /**
   * The seed is not verified now (the shared copy re-verifying, or a gap in what is observed) while the node's
   * current Job is composed: that Job is kept exactly as observed (a running Job goes on; Crossplane would delete
   * one left out), and no new Job or retry starts until the seed is verified again. Set only when true.
   */
  keepJob?: true;
}

const iso = (ms: number) => new Date(ms).toISOString();

function withReport(st: NodeStatus, h: Hydration, inProgress: boolean): NodeStatus {
  const report = h.state === "running" || h.state === "done" || h.state === "failed" ? h.report : undefined;
  if (report === undefined) return st;
  const out: NodeStatus = { ...st, bytesDone: report.bytesDone };
  if (report.bytesTotal !== undefined) out.bytesTotal = report.bytesTotal;
  if (inProgress && report.bytesPerSecond !== undefined) out.bytesPerSecond = report.bytesPerSecond;
  if (inProgress && report.etaSeconds !== undefined) out.etaSeconds = report.etaSeconds;
  if (report.manifestDigest !== undefined) out.manifestDigest = report.manifestDigest;
  return out;
}

export function decideNode(o: NodeObservations): NodeDecision {
  const d = decide(o);
  // A claim is composed together with the Job that fills it, and kept once it is there. One that is not there
  // and that no Job fills now is never composed: it would dangle (with an Immediate class, a volume provisioned on
  // a node that may never get a copy), e.g. a new revision's claim while the new shared copy still hydrates.
  if (d.objects !== "compose" || d.runAttempt !== undefined || o.claimComposed) return d;
  return { ...d, objects: o.anythingObserved ? "hold" : "release" };
}

function decide(o: NodeObservations): NodeDecision {
  const base: NodeStatus = { name: o.node, phase: "Pending", claimName: o.claim.name };

  // Not listed: the node left the cluster's node list or stopped matching. Never deleted at once:
  // kept exactly as it is for the platform's grace period, then released.
  if (o.listed === undefined) {
    if (!o.anythingObserved) return { status: undefined, objects: "release", runAttempt: undefined, ttlSeconds: TTL_SETTLED_SECONDS };
    const since = o.previous?.leftSince ?? iso(o.nowMs);
    const releaseMs = Date.parse(since) + durationSeconds(o.grace) * 1000;
    if (!(o.nowMs >= releaseMs))
      return {
        status: {
          ...base,
          phase: o.previous?.phase ?? "Pending",
          selected: false,
          leftSince: since,
          ...(o.previous?.lastError !== undefined ? { lastError: o.previous.lastError } : {}),
          ...(o.previous?.permanentFailure !== undefined ? { permanentFailure: o.previous.permanentFailure } : {}),
          message: `node ${o.node} is no longer selected (not in the cluster's node list, or no longer matching); its copy is kept until ${iso(releaseMs)} (input.tenancy.nodeLocal.leftNodeGracePeriod ${o.grace})`,
        },
        objects: "keep",
        runAttempt: undefined,
        ttlSeconds: Math.max(1, Math.min(TTL_SETTLED_SECONDS, Math.ceil((releaseMs - o.nowMs) / 1000))),
      };
    return { status: undefined, objects: "release", runAttempt: undefined, ttlSeconds: TTL_SETTLED_SECONDS };
  }

  const cordoned = o.listed.cordoned;
  // The last error and a permanent stop are observation kept across passes (the failed Job, even its report, may be
  // gone): this pass's failure when there is one, else the previous line's, unless this is another run.
  const h = o.hydration;
  const kept: Pick<NodeStatus, "lastError" | "permanentFailure"> = {
    ...(h.state === "failed" ? { lastError: h.error } : !o.fresh && o.previous?.lastError !== undefined ? { lastError: o.previous.lastError } : {}),
    ...(h.state === "failed" && h.permanent !== undefined
      ? { permanentFailure: h.permanent }
      : !o.fresh && o.previous?.permanentFailure !== undefined
        ? { permanentFailure: o.previous.permanentFailure }
        : {}),
  };
  const mark = (st: NodeStatus): NodeStatus => (cordoned ? { ...st, cordoned: true } : st);
  // Every attempt of this run is over (a permanent failure, or the last attempt failed): no cordon or seed holds it back.
  const stopped =
    (h.state === "failed" && (h.permanent !== undefined || (o.attempt >= MAX_ATTEMPTS && h.reportPending !== true))) ||
    permanentBefore({ ...o, previousPermanent: o.previous?.permanentFailure }) ||
    gaveUpBefore({ ...o, previousPhase: o.previous?.phase });

  // Nothing new starts while the cluster cannot hold node copies; a Job already running is left alone, a copy stays.
  if (o.blocked !== undefined && !o.jobComposed && o.hydration.state !== "done")
    return {
      status: mark({ ...base, phase: "Blocked", ...kept, message: o.blocked }),
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: TTL_SETTLED_SECONDS,
    };

  // Cordoned (or not Ready): a copy it has stays, a Job already running goes on, nothing new starts.
  // A node whose attempts are over stays Failed, cordoned or not: its line says why and what to do, below.
  if (cordoned && !o.jobComposed && h.state !== "done" && !stopped) {
    return {
      status: mark({
        ...base,
        phase: "Blocked",
        ...(o.previous?.attempts !== undefined && !o.fresh ? { attempts: o.previous.attempts } : {}),
        ...kept,
        message: cordonedLine(o.node, h),
      }),
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: TTL_SETTLED_SECONDS,
    };
  }

  // The seed first: a node copies the cluster's verified copy (or, from the source, waits for the first node's
  // copy to pin the bytes), so nothing starts before it is there. A copy the node's own report says is verified
  // is what it is whatever the seed is doing (e.g. being re-verified) and whatever the previous line says (or if
  // there is none): it is read from what is observed below, never from memory.
  if (!o.seed.ready && !o.jobComposed && o.hydration.state !== "done" && !stopped) {
    // Nothing is created on the node before its copy can start (its claim comes with its Job). A node whose
    // attempts are over says so below, whatever the seed is doing: no seed starts it again before a refetch.
    return {
      status: mark({
        ...base,
        ...(o.seed.stopped === true ? { phase: "Blocked" as const } : {}),
        ...kept,
        message: o.seed.waiting ?? `waiting for the cluster's shared copy to be verified first: ${o.seed.why}`,
      }),
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: TTL_IN_PROGRESS_SECONDS,
    };
  }

  const d = decidePhase({
    blocked: [],
    hydration: o.hydration,
    attempt: o.attempt,
    fresh: o.fresh,
    previous: { phase: o.previous?.phase, lastError: o.previous?.lastError, permanent: o.previous?.permanentFailure },
    jobComposed: o.jobComposed,
    bound: o.bound,
    claim: o.claim,
    currentJob: o.currentJob,
    source: o.from?.line ?? (o.seed.ready && o.seed.digest !== undefined ? `the cluster's copy (${o.seed.digest})` : "the cluster's copy"),
    secrets: o.from?.secrets ?? [],
    nowMs: o.nowMs,
  });
  const inProgress = d.phase === "Hydrating" || d.phase === "Verifying";
  const errors: Pick<NodeStatus, "lastError" | "permanentFailure"> = {
    ...(d.lastError !== undefined ? { lastError: d.lastError } : {}),
    ...(d.permanent !== undefined ? { permanentFailure: d.permanent } : {}),
  };
  const message =
    d.phase === "Hydrating" && o.hydration.state === "running"
      ? `copying from ${o.from !== undefined ? "the source" : "the cluster's copy"}: ${progress(o.hydration.report.bytesDone, o.hydration.report.bytesTotal, o.hydration.report.etaSeconds)}`
      : d.message;
  // The seed is not verified now, but this node's Job is composed (it started while the seed was): the Job goes
  // on, kept as observed; a retry it would lead to waits for the seed, and the failed Job stays until then.
  if (!o.seed.ready && d.runAttempt !== undefined) {
    const seedLine = o.seed.waiting ?? `the cluster's shared copy is not verified now (${o.seed.why})`;
    const failed = o.hydration.state === "failed" ? o.hydration.error : undefined;
    const retry = d.runAttempt !== o.attempt && failed !== undefined;
    return {
      status: mark(
        withReport(
          retry
            ? {
                ...base,
                phase: "Pending",
                attempts: o.attempt,
                ...errors,
                message: `attempt ${o.attempt} failed: ${failed ?? ""}; attempt ${d.runAttempt} starts once ${cordoned ? `node ${o.node} is schedulable again and ` : ""}the seed is verified again: ${seedLine}`,
              }
            : {
                ...base,
                phase: d.phase,
                attempts: d.attempts,
                ...errors,
                message: `${message}; ${seedLine}: ${failed !== undefined ? "the next attempt waits for it too" : "this Job goes on, and no new one starts until it is"}`,
              },
          o.hydration,
          inProgress,
        ),
      ),
      objects: "compose",
      runAttempt: o.attempt,
      ttlSeconds: retry ? TTL_IN_PROGRESS_SECONDS : d.ttlSeconds,
      keepJob: true,
    };
  }
  // A cordoned node's running Job may finish, but no retry starts there: its line says so (Blocked, as on the
  // next pass, once the failed Job is dropped), never "starting attempt 2" for a retry that does not start.
  if (cordoned && d.runAttempt !== undefined && d.runAttempt !== o.attempt)
    return {
      status: mark(withReport({ ...base, phase: "Blocked", attempts: o.attempt, ...errors, message: cordonedLine(o.node, h) }, h, false)),
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: TTL_SETTLED_SECONDS,
    };
  // The failed attempt's backoff runs while the node is cordoned: the retry waits for both.
  const cordonedWait =
    cordoned && d.phase === "Failed" && d.runAttempt === o.attempt && h.state === "failed"
      ? `; node ${o.node} is cordoned or not Ready: no attempt starts there until it is schedulable again`
      : "";
  return {
    status: mark(withReport({ ...base, phase: d.phase, attempts: d.attempts, ...errors, message: `${message}${cordonedWait}` }, o.hydration, inProgress)),
    objects: "compose",
    runAttempt: d.runAttempt,
    ttlSeconds: d.ttlSeconds,
  };
}

/** A cordoned node's line while nothing can start there (the same words whether its failed Job is still composed or not). */
function cordonedLine(node: string, h: Hydration): string {
  const failed = h.state === "failed" ? `; the last attempt failed: ${h.error}` : "";
  return `node ${node} is cordoned or not Ready: its hydration starts when it is schedulable again${failed}`;
}
