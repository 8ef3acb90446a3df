import { describe, expect, it } from "vitest";
import type { HydrationReport } from "../../api/hydration-report.ts";
import { PERMANENT_FIX, TTL_IN_PROGRESS_SECONDS as BUSY, TTL_SETTLED_SECONDS as SETTLED } from "./decide.ts";
import { decideNode, type NodeDecision, type NodeObservations } from "./node-decide.ts";

const NOW = Date.parse("2026-12-03T10:00:00Z");
const GIB = 2 ** 30;
const DIGEST = `sha256:${"d".repeat(64)}`;
const CLAIM = { namespace: "mc-ml-team", name: "qwen-abc-n-0123456789" };
const report = (r: Partial<HydrationReport>): HydrationReport =>
  ({ phase: "Hydrating", source: "file:///seed", bytesDone: 0, filesDone: 0, bytesPerSecond: 0, startedAt: "t", updatedAt: "t", ...r }) as HydrationReport;

/** A schedulable, selected node whose seed is verified and whose copy has not started. Each row changes what it is about. */
const base: NodeObservations = {
  node: "gpu-1",
  listed: { cordoned: false },
  seed: { ready: true, digest: DIGEST },
  hydration: { state: "notStarted" },
  attempt: 1,
  fresh: false,
  previous: undefined,
  anythingObserved: false,
  claimComposed: false,
  jobComposed: false,
  bound: false,
  claim: CLAIM,
  currentJob: "qwen-abc-n1-aaaa",
  nowMs: NOW,
  grace: "24h",
};
const line = { name: "gpu-1", claimName: CLAIM.name };

interface Row {
  reason: string;
  given: Partial<NodeObservations>;
  want: NodeDecision;
}

const rows: Row[] = [
  {
    reason:
      "a node joined (selected, nothing composed yet) while the cluster's copy is still hydrating: Pending, nothing created on it until the seed is verified",
    given: { seed: { ready: false, why: "Hydrating: 1.00 GiB of 4.00 GiB" } },
    want: {
      status: { ...line, phase: "Pending", message: "waiting for the cluster's shared copy to be verified first: Hydrating: 1.00 GiB of 4.00 GiB" },
      objects: "release",
      runAttempt: undefined,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "the node-local class is missing on the cluster: Blocked with the reason, nothing created",
    given: { blocked: "StorageClass local-nvme (input.tenancy.nodeLocal) does not exist on cluster prod-east" },
    want: {
      status: { ...line, phase: "Blocked", message: "StorageClass local-nvme (input.tenancy.nodeLocal) does not exist on cluster prod-east" },
      objects: "release",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "the node-local class went missing while a copy Job runs: the Job is left alone (never killed)",
    given: {
      blocked: "StorageClass local-nvme (input.tenancy.nodeLocal) does not exist on cluster prod-east",
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "running", report: report({ bytesDone: GIB, bytesTotal: 4 * GIB, etaSeconds: 9 }) },
    },
    want: {
      status: {
        ...line,
        phase: "Hydrating",
        attempts: 1,
        message: "copying from the cluster's copy: 1.00 GiB of 4.00 GiB (25%), about 9s left",
        bytesDone: GIB,
        bytesTotal: 4 * GIB,
        bytesPerSecond: 0,
        etaSeconds: 9,
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "the seed is verified and the node has nothing yet: start attempt 1 of its copy Job",
    given: {},
    want: {
      status: { ...line, phase: "Pending", attempts: 1, message: "starting hydration Job qwen-abc-n1-aaaa for the cluster's copy (" + DIGEST + ")" },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "copying: bytes, speed and ETA from the node's own report",
    given: {
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "running", report: report({ bytesDone: GIB, bytesTotal: 4 * GIB, bytesPerSecond: 500e6, etaSeconds: 7 }) },
    },
    want: {
      status: {
        ...line,
        phase: "Hydrating",
        attempts: 1,
        message: "copying from the cluster's copy: 1.00 GiB of 4.00 GiB (25%), about 7s left",
        bytesDone: GIB,
        bytesTotal: 4 * GIB,
        bytesPerSecond: 500e6,
        etaSeconds: 7,
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "verified and the local claim Bound: Ready, the Job dropped (its report stays the record), speed and ETA gone",
    given: {
      anythingObserved: true,
      jobComposed: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST, etaSeconds: 0 }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 1,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "a cordoned node with no copy: Blocked with the reason, nothing created on it (not even its claim)",
    given: { listed: { cordoned: true } },
    want: {
      status: { ...line, phase: "Blocked", cordoned: true, message: "node gpu-1 is cordoned or not Ready: its hydration starts when it is schedulable again" },
      objects: "release",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "a cordoned node while the shared copy still hydrates: Blocked for its cordon, nothing created on it yet (not even its claim)",
    given: { listed: { cordoned: true }, seed: { ready: false, why: "Hydrating" } },
    want: {
      status: { ...line, phase: "Blocked", cordoned: true, message: "node gpu-1 is cordoned or not Ready: its hydration starts when it is schedulable again" },
      objects: "release",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "a cordoned node that is Ready keeps its copy: Ready, marked cordoned, its claim still composed",
    given: {
      listed: { cordoned: true },
      anythingObserved: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        cordoned: true,
        attempts: 1,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "cordoned while its Job runs: the Job goes on (cordon does not evict), the line says so",
    given: {
      listed: { cordoned: true },
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "running", report: report({ bytesDone: GIB, bytesTotal: 4 * GIB, etaSeconds: 9 }) },
    },
    want: {
      status: {
        ...line,
        phase: "Hydrating",
        cordoned: true,
        attempts: 1,
        message: "copying from the cluster's copy: 1.00 GiB of 4.00 GiB (25%), about 9s left",
        bytesDone: GIB,
        bytesTotal: 4 * GIB,
        bytesPerSecond: 0,
        etaSeconds: 9,
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "a node that left (not listed) with a copy: kept exactly as it is for the grace period, leftSince recorded now",
    given: { listed: undefined, anythingObserved: true, previous: { name: "gpu-1", phase: "Ready" } },
    want: {
      status: {
        ...line,
        phase: "Ready",
        selected: false,
        leftSince: "2026-12-03T10:00:00.000Z",
        message:
          "node gpu-1 is no longer selected (not in the cluster's node list, or no longer matching); its copy is kept until 2026-12-04T10:00:00.000Z (input.tenancy.nodeLocal.leftNodeGracePeriod 24h)",
      },
      objects: "keep",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "a node back in the list within the grace period: composed again as before, leftSince forgotten",
    given: {
      previous: { name: "gpu-1", phase: "Ready", selected: false, leftSince: "2026-12-03T09:00:00.000Z" },
      anythingObserved: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 1,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "a node gone past the grace period: released (its objects dropped; the retention policy decides the claim), no line",
    given: { listed: undefined, anythingObserved: true, previous: { name: "gpu-1", phase: "Ready", selected: false, leftSince: "2026-12-02T09:59:59.000Z" } },
    want: { status: undefined, objects: "release", runAttempt: undefined, ttlSeconds: SETTLED },
  },
  {
    reason: "not listed and never composed: nothing to say or do",
    given: { listed: undefined },
    want: { status: undefined, objects: "release", runAttempt: undefined, ttlSeconds: SETTLED },
  },
  {
    reason: "the node's copy holds other bytes than the seed: a failure (drift), retried after the backoff",
    given: {
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "failed", error: "the volume holds manifest sha256:e… but the cache is pinned to …", failedAt: "2026-12-03T09:59:30Z", drift: true },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        attempts: 1,
        lastError: "the volume holds manifest sha256:e… but the cache is pinned to …",
        message: "attempt 1 of 6 failed: the volume holds manifest sha256:e… but the cache is pinned to …; attempt 2 starts at 2026-12-03T10:00:30.000Z",
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: 30,
    },
  },
  {
    reason: "the seed is re-verified (e.g. its report not yet seen) while the node is Ready: the node's copy stays Ready",
    given: {
      seed: { ready: false, why: "Verifying" },
      previous: { name: "gpu-1", phase: "Ready", message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}` },
      anythingObserved: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 1,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "the seed is re-verified while the node is Ready after its second attempt: the line is unchanged, attempts included (a re-verification is not a new run)",
    given: {
      seed: { ready: false, why: "Verifying" },
      previous: { name: "gpu-1", phase: "Ready", attempts: 2, message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}` },
      attempt: 2,
      anythingObserved: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 2,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "no shared copy: the first node to hydrate from the source runs unpinned (its verified copy pins the rest), the source's line and Secrets in its message",
    given: { seed: { ready: true, digest: undefined }, from: { line: "hf://Qwen/Qwen3-8B@main", secrets: ["hf-token"] } },
    want: {
      status: { ...line, phase: "Pending", attempts: 1, message: "starting hydration Job qwen-abc-n1-aaaa for hf://Qwen/Qwen3-8B@main" },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "no shared copy, another node copies first: this one waits, with that message, and nothing is created on it",
    given: {
      seed: {
        ready: false,
        why: "first",
        waiting: "waiting for node gpu-0 to verify the first copy from the source: every other node then hydrates exactly those bytes",
      },
      from: { line: "hf://Qwen/Qwen3-8B@main", secrets: [] },
    },
    want: {
      status: {
        ...line,
        phase: "Pending",
        message: "waiting for node gpu-0 to verify the first copy from the source: every other node then hydrates exactly those bytes",
      },
      objects: "release",
      runAttempt: undefined,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "no shared copy, the bytes pinned: the node hydrates from the source expecting them, and says it copies from the source",
    given: {
      from: { line: "hf://Qwen/Qwen3-8B@main", secrets: [] },
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "running", report: report({ bytesDone: GIB, bytesTotal: 4 * GIB, bytesPerSecond: 500e6, etaSeconds: 7 }) },
    },
    want: {
      status: {
        ...line,
        phase: "Hydrating",
        attempts: 1,
        message: "copying from the source: 1.00 GiB of 4.00 GiB (25%), about 7s left",
        bytesDone: GIB,
        bytesTotal: 4 * GIB,
        bytesPerSecond: 500e6,
        etaSeconds: 7,
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
    },
  },

  {
    reason:
      "the shared copy is re-verifying while this node's Job copies it: the Job goes on, kept exactly as observed (never dropped, which would delete it), the node Hydrating with its bytes and saying why nothing new starts",
    given: {
      seed: { ready: false, why: "Verifying: 2.00 GiB of 4.00 GiB" },
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "running", report: report({ bytesDone: GIB, bytesTotal: 4 * GIB, bytesPerSecond: 500e6, etaSeconds: 7 }) },
    },
    want: {
      status: {
        ...line,
        phase: "Hydrating",
        attempts: 1,
        message:
          "copying from the cluster's copy: 1.00 GiB of 4.00 GiB (25%), about 7s left; the cluster's shared copy is not verified now (Verifying: 2.00 GiB of 4.00 GiB): this Job goes on, and no new one starts until it is",
        bytesDone: GIB,
        bytesTotal: 4 * GIB,
        bytesPerSecond: 500e6,
        etaSeconds: 7,
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
      keepJob: true,
    },
  },
  {
    reason:
      "a gap in what is observed of the shared copy (its report not seen for a moment) just after this node's Job started: the Job is kept as observed, the node Pending on it",
    given: {
      seed: { ready: false, why: "Pending: Job qwen-abc-h1-bbbb succeeded; waiting to observe its report" },
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "started" },
    },
    want: {
      status: {
        ...line,
        phase: "Pending",
        attempts: 1,
        message:
          "Job qwen-abc-n1-aaaa started; waiting for its first report; the cluster's shared copy is not verified now (Pending: Job qwen-abc-h1-bbbb succeeded; waiting to observe its report): this Job goes on, and no new one starts until it is",
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
      keepJob: true,
    },
  },
  {
    reason:
      "the node's attempt failed and its retry is due, but the shared copy is re-verifying: no retry starts (the attempt count stays), the failed Job is kept as observed until the retry replaces it",
    given: {
      seed: { ready: false, why: "Verifying: 2.00 GiB of 4.00 GiB" },
      anythingObserved: true,
      jobComposed: true,
      previous: { ...line, phase: "Hydrating", attempts: 1 },
      hydration: { state: "failed", error: "connection reset", failedAt: "2026-12-03T09:50:00Z", drift: false },
    },
    want: {
      status: {
        ...line,
        phase: "Pending",
        attempts: 1,
        lastError: "connection reset",
        message:
          "attempt 1 failed: connection reset; attempt 2 starts once the seed is verified again: the cluster's shared copy is not verified now (Verifying: 2.00 GiB of 4.00 GiB)",
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
      keepJob: true,
    },
  },
  {
    reason:
      "a cordoned node's attempt failed, its retry due, while the shared copy is re-verifying: no retry, the failed Job kept, and the line names both things the retry waits for",
    given: {
      listed: { cordoned: true },
      seed: { ready: false, why: "Verifying" },
      anythingObserved: true,
      jobComposed: true,
      previous: { ...line, phase: "Hydrating", attempts: 1 },
      hydration: { state: "failed", error: "connection reset", failedAt: "2026-12-03T09:50:00Z", drift: false },
    },
    want: {
      status: {
        ...line,
        phase: "Pending",
        cordoned: true,
        attempts: 1,
        lastError: "connection reset",
        message:
          "attempt 1 failed: connection reset; attempt 2 starts once node gpu-1 is schedulable again and the seed is verified again: the cluster's shared copy is not verified now (Verifying)",
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
      keepJob: true,
    },
  },
  {
    reason:
      "the node's attempt failed, its retry not yet due, and the shared copy is re-verifying: Failed with the retry time, the failed Job kept as observed (as with a verified seed), the retry waiting for the seed too",
    given: {
      seed: { ready: false, why: "Verifying: 2.00 GiB of 4.00 GiB" },
      anythingObserved: true,
      jobComposed: true,
      previous: { ...line, phase: "Hydrating", attempts: 1 },
      hydration: { state: "failed", error: "connection reset", failedAt: "2026-12-03T09:59:30Z", drift: false },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        attempts: 1,
        lastError: "connection reset",
        message:
          "attempt 1 of 6 failed: connection reset; attempt 2 starts at 2026-12-03T10:00:30.000Z; the cluster's shared copy is not verified now (Verifying: 2.00 GiB of 4.00 GiB): the next attempt waits for it too",
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: 30,
      keepJob: true,
    },
  },
  {
    reason:
      "a cordoned node's Job runs while the shared copy is re-verifying: the Job goes on, kept as observed (a cordon does not evict, nor does a re-verification)",
    given: {
      listed: { cordoned: true },
      seed: { ready: false, why: "Verifying" },
      anythingObserved: true,
      jobComposed: true,
      hydration: { state: "running", report: report({ bytesDone: GIB, bytesTotal: 4 * GIB }) },
    },
    want: {
      status: {
        ...line,
        phase: "Hydrating",
        cordoned: true,
        attempts: 1,
        message:
          "copying from the cluster's copy: 1.00 GiB of 4.00 GiB (25%); the cluster's shared copy is not verified now (Verifying): this Job goes on, and no new one starts until it is",
        bytesDone: GIB,
        bytesTotal: 4 * GIB,
        bytesPerSecond: 0,
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
      keepJob: true,
    },
  },
  {
    reason:
      "the node's Job finished (verified, claim Bound) while the shared copy is re-verifying: Ready, and the finished Job goes as it does with a verified seed (its report stays the record); nothing is kept that no longer runs",
    given: {
      seed: { ready: false, why: "Verifying" },
      anythingObserved: true,
      jobComposed: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 1,
        message: `${DIGEST} verified on mc-ml-team/qwen-abc-n-0123456789`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "a new revision while the new shared copy still hydrates, the node holding the earlier revision's copy: Pending, and it holds (the earlier claim stays as observed; its new claim waits for the Job that fills it)",
    given: {
      seed: { ready: false, why: "Hydrating: 1.00 GiB of 4.00 GiB" },
      fresh: true,
      previous: { name: "gpu-1", phase: "Ready", claimName: "qwen-old-n-0123456789", attempts: 1, message: "verified" },
      anythingObserved: true,
    },
    want: {
      status: { ...line, phase: "Pending", message: "waiting for the cluster's shared copy to be verified first: Hydrating: 1.00 GiB of 4.00 GiB" },
      objects: "hold",
      runAttempt: undefined,
      ttlSeconds: BUSY,
    },
  },
  {
    reason:
      "a new revision with the new shared copy verified: the node's new claim and its Job come together (the earlier claim stays until the new copy is Ready)",
    given: { fresh: true, previous: { name: "gpu-1", phase: "Ready", claimName: "qwen-old-n-0123456789", attempts: 1 }, anythingObserved: true },
    want: {
      status: { ...line, phase: "Pending", attempts: 1, message: "starting hydration Job qwen-abc-n1-aaaa for the cluster's copy (" + DIGEST + ")" },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "a new revision on a cordoned node holding the earlier revision's copy: Blocked for its cordon, and it holds (no new claim that no Job fills)",
    given: {
      listed: { cordoned: true },
      fresh: true,
      previous: { name: "gpu-1", phase: "Ready", claimName: "qwen-old-n-0123456789", attempts: 1 },
      anythingObserved: true,
    },
    want: {
      status: { ...line, phase: "Blocked", cordoned: true, message: "node gpu-1 is cordoned or not Ready: its hydration starts when it is schedulable again" },
      objects: "hold",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "the node-local class went missing on a node holding only an earlier revision's copy: Blocked with the reason, and it holds (no new claim of a class that is not there)",
    given: {
      blocked: "StorageClass local-nvme (input.tenancy.nodeLocal) does not exist on cluster prod-east",
      fresh: true,
      previous: { name: "gpu-1", phase: "Ready", claimName: "qwen-old-n-0123456789", attempts: 1 },
      anythingObserved: true,
    },
    want: {
      status: { ...line, phase: "Blocked", message: "StorageClass local-nvme (input.tenancy.nodeLocal) does not exist on cluster prod-east" },
      objects: "hold",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "no shared copy, a new revision, another node copies it first from the source: this node waits and holds its earlier revision's copy, nothing new created on it",
    given: {
      seed: {
        ready: false,
        why: "first",
        waiting: "waiting for node gpu-0 to verify the first copy from the source: every other node then hydrates exactly those bytes",
      },
      from: { line: "hf://Qwen/Qwen3-8B@main", secrets: [] },
      fresh: true,
      previous: { name: "gpu-1", phase: "Ready", claimName: "qwen-old-n-0123456789", attempts: 1 },
      anythingObserved: true,
    },
    want: {
      status: {
        ...line,
        phase: "Pending",
        message: "waiting for node gpu-0 to verify the first copy from the source: every other node then hydrates exactly those bytes",
      },
      objects: "hold",
      runAttempt: undefined,
      ttlSeconds: BUSY,
    },
  },
  {
    reason:
      "the node's claim is there (its Job gone, e.g. TTL-deleted before the report was seen) and nothing can start now (the shared copy re-verifying): the claim is kept, composed as observed",
    given: {
      seed: { ready: false, why: "Verifying" },
      previous: { ...line, phase: "Pending", attempts: 1 },
      anythingObserved: true,
      claimComposed: true,
    },
    want: {
      status: { ...line, phase: "Pending", message: "waiting for the cluster's shared copy to be verified first: Verifying" },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: BUSY,
    },
  },
  {
    reason:
      "the seed is re-verified while the node's copy is verified but its previous line is missing (the status lost): Ready, read from its own report and Bound claim, not Pending",
    given: {
      seed: { ready: false, why: "Verifying" },
      anythingObserved: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 1,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "the seed is re-verified while the node's copy is verified (its report Ready, its Job gone) but its previous line still says Hydrating (a status write lost): Ready from what is observed, on the attempt that verified it",
    given: {
      seed: { ready: false, why: "Verifying" },
      previous: { ...line, phase: "Hydrating", attempts: 2, message: "copying" },
      attempt: 2,
      anythingObserved: true,
      claimComposed: true,
      bound: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 2,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "the seed is re-verified while the node's report says verified but its claim is not seen Bound yet: Verifying on the claim, as with a verified seed (nothing new starts)",
    given: {
      seed: { ready: false, why: "Verifying" },
      anythingObserved: true,
      claimComposed: true,
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Verifying",
        attempts: 1,
        message: `hydration verified; waiting for PersistentVolumeClaim ${CLAIM.name} to be Bound`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        bytesPerSecond: 0,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: BUSY,
    },
  },
  {
    reason:
      "a cordoned node's attempt failed and its retry is due: Blocked for its cordon, as the next pass reads once the failed Job is dropped, never 'starting attempt 2' for a retry that does not start",
    given: {
      listed: { cordoned: true },
      anythingObserved: true,
      claimComposed: true,
      jobComposed: true,
      previous: { ...line, phase: "Hydrating", attempts: 1 },
      hydration: { state: "failed", error: "connection reset", failedAt: "2026-12-03T09:00:00Z", drift: false },
    },
    want: {
      status: {
        ...line,
        phase: "Blocked",
        cordoned: true,
        attempts: 1,
        lastError: "connection reset",
        message: "node gpu-1 is cordoned or not Ready: its hydration starts when it is schedulable again; the last attempt failed: connection reset",
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "the next pass of that cordoned node (its failed Job dropped, its report the record): the same line",
    given: {
      listed: { cordoned: true },
      anythingObserved: true,
      claimComposed: true,
      previous: { ...line, phase: "Blocked", cordoned: true, attempts: 1, lastError: "connection reset" },
      hydration: { state: "failed", error: "connection reset", failedAt: "2026-12-03T09:00:00Z", drift: false },
    },
    want: {
      status: {
        ...line,
        phase: "Blocked",
        cordoned: true,
        attempts: 1,
        lastError: "connection reset",
        message: "node gpu-1 is cordoned or not Ready: its hydration starts when it is schedulable again; the last attempt failed: connection reset",
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "a cordoned node's attempt failed, its backoff still running: Failed with the retry time, and that the retry also waits for the node",
    given: {
      listed: { cordoned: true },
      anythingObserved: true,
      claimComposed: true,
      jobComposed: true,
      hydration: { state: "failed", error: "connection reset", failedAt: "2026-12-03T09:59:30Z", drift: false },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        cordoned: true,
        attempts: 1,
        lastError: "connection reset",
        message:
          "attempt 1 of 6 failed: connection reset; attempt 2 starts at 2026-12-03T10:00:30.000Z; node gpu-1 is cordoned or not Ready: no attempt starts there until it is schedulable again",
      },
      objects: "compose",
      runAttempt: 1,
      ttlSeconds: 30,
    },
  },
  {
    reason: "the node's copy failed for good (the seed's bytes do not match, say): Failed at once, no retry, the cause and what to fix",
    given: {
      anythingObserved: true,
      claimComposed: true,
      jobComposed: true,
      hydration: {
        state: "failed",
        error: "file:///seed gives artifact sha256:e…, not the expected …",
        failedAt: "2026-12-03T09:00:00Z",
        drift: false,
        permanent: "Source",
      },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        attempts: 1,
        lastError: "file:///seed gives artifact sha256:e…, not the expected …",
        permanentFailure: "Source",
        message: `attempt 1 failed: file:///seed gives artifact sha256:e…, not the expected …; not retried: ${PERMANENT_FIX.Source}`,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "failed for good on an earlier pass, its Job and report gone since: still Failed from its line, no Job starts again",
    given: {
      anythingObserved: true,
      claimComposed: true,
      previous: { ...line, phase: "Failed", attempts: 1, lastError: "the destination volume is full", permanentFailure: "Destination" },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        attempts: 1,
        lastError: "the destination volume is full",
        permanentFailure: "Destination",
        message: `attempt 1 failed: the destination volume is full; not retried: ${PERMANENT_FIX.Destination}`,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "failed for good while the shared copy is re-verifying: still Failed with its cause, not 'waiting for the shared copy' (no seed starts it again before a refetch)",
    given: {
      seed: { ready: false, why: "Verifying" },
      anythingObserved: true,
      claimComposed: true,
      previous: { ...line, phase: "Failed", attempts: 1, lastError: "file:///seed: 404", permanentFailure: "Source" },
      hydration: { state: "failed", error: "file:///seed: 404", failedAt: "2026-12-03T09:00:00Z", drift: false, permanent: "Source" },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        attempts: 1,
        lastError: "file:///seed: 404",
        permanentFailure: "Source",
        message: `attempt 1 failed: file:///seed: 404; not retried: ${PERMANENT_FIX.Source}`,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "a cordoned node that failed for good stays Failed (a cordon is not what holds it; uncordoning starts nothing)",
    given: {
      listed: { cordoned: true },
      anythingObserved: true,
      claimComposed: true,
      previous: { ...line, phase: "Failed", attempts: 1, lastError: "the destination volume is full", permanentFailure: "Destination" },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        cordoned: true,
        attempts: 1,
        lastError: "the destination volume is full",
        permanentFailure: "Destination",
        message: `attempt 1 failed: the destination volume is full; not retried: ${PERMANENT_FIX.Destination}`,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason:
      "gave up earlier, its last pod killed before it wrote Failed (its Job dropped, its report says Hydrating): Failed with the cause its line kept, not 'hydration failed'",
    given: {
      attempt: 6,
      anythingObserved: true,
      claimComposed: true,
      previous: { ...line, phase: "Failed", attempts: 6, lastError: "writing /cache: input/output error" },
      hydration: { state: "running", report: report({ bytesDone: GIB, bytesTotal: 4 * GIB }) },
    },
    want: {
      status: {
        ...line,
        phase: "Failed",
        attempts: 6,
        lastError: "writing /cache: input/output error",
        message: "gave up after 6 attempts: writing /cache: input/output error; set a new refetch value on the ModelCache to try again",
        bytesDone: GIB,
        bytesTotal: 4 * GIB,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
  {
    reason: "the retry's Job started: the last error stays on the line until a copy is verified",
    given: {
      attempt: 2,
      anythingObserved: true,
      claimComposed: true,
      jobComposed: true,
      previous: { ...line, phase: "Pending", attempts: 2, lastError: "connection reset" },
      hydration: { state: "started" },
    },
    want: {
      status: { ...line, phase: "Pending", attempts: 2, lastError: "connection reset", message: "Job qwen-abc-n1-aaaa started; waiting for its first report" },
      objects: "compose",
      runAttempt: 2,
      ttlSeconds: BUSY,
    },
  },
  {
    reason: "verified after a failed attempt: Ready, the last error cleared",
    given: {
      attempt: 2,
      anythingObserved: true,
      claimComposed: true,
      bound: true,
      previous: { ...line, phase: "Hydrating", attempts: 2, lastError: "connection reset" },
      hydration: { state: "done", report: report({ phase: "Ready", bytesDone: 4 * GIB, bytesTotal: 4 * GIB, manifestDigest: DIGEST }) },
    },
    want: {
      status: {
        ...line,
        phase: "Ready",
        attempts: 2,
        message: `${DIGEST} verified on mc-ml-team/${CLAIM.name}`,
        bytesDone: 4 * GIB,
        bytesTotal: 4 * GIB,
        manifestDigest: DIGEST,
      },
      objects: "compose",
      runAttempt: undefined,
      ttlSeconds: SETTLED,
    },
  },
];

describe("decideNode", () => {
  for (const r of rows)
    it(r.reason, () => {
      expect(decideNode({ ...base, ...r.given })).toEqual(r.want);
    });
});
