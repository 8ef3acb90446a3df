// The cluster-level scenarios of replication: AllMatchingNodes: a replica with
// selected nodes and what its cluster shows, from the first pass to every node
// Ready, with a node joining, one cordoned and one gone. node-scenarios.test.ts
// asserts each one's phase and node lines; scripts/examples/replica-nodes.ts writes
// each as examples/replica-nodes-<name>/ for `crossplane render`.
import { field, isObject } from "../../functions/common/json.ts";
import type { JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { NODE_ANNOTATION, nodeClaimName } from "../../functions/composition/replica/node-local.ts";
import type { NodeStatus } from "../../functions/api/node-local.ts";
import type { ObservedAs } from "./replica-builders.ts";
import { baseXr, compose, observedObject, reportData, tenancyInput } from "./replica-builders.ts";
import type { Scenario } from "./replica-scenarios.ts";

export interface NodeScenario extends Scenario {
  /** Each node's phase in the replica's status.nodes, as the function must report it. */
  nodes: Record<string, NodeStatus["phase"]>;
  /** No shared copy: each node hydrates from the source (spec.nodeLocal.seed), and the replica says so. */
  fromSource?: true;
}

const DIGEST = "sha256:5b1e2f7c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";
const COMMIT = "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
const TOTAL = 16389206016;

/** The platform offers one node-local class; a gone node's copy is kept a long time, so the examples do not depend on the clock. */
export const NODE_INPUT = tenancyInput({
  nodeLocal: { storageClassNames: ["local-nvme"], maxSize: "100Gi", maxNodesPerCluster: 16, leftNodeGracePeriod: "87600h" },
});

/** The platform also lets nodes hydrate from the source on a cluster with no shared copy (input.tenancy.nodeLocal.seedFromSource). */
export const NODE_SOURCE_INPUT = tenancyInput({
  nodeLocal: { storageClassNames: ["local-nvme"], maxSize: "100Gi", maxNodesPerCluster: 16, leftNodeGracePeriod: "87600h", seedFromSource: "Allow" },
});

const report = (phase: string, more: JsonObject = {}): ObservedAs => ({
  extra: reportData({
    phase,
    source: "hf://Qwen/Qwen3-8B@main",
    bytesDone: 0,
    filesDone: 0,
    bytesPerSecond: 0,
    startedAt: "2024-01-01T00:01:00Z",
    updatedAt: "2024-01-01T00:05:00Z",
    ...more,
  }),
});
const ready = report("Ready", { resolvedRevision: COMMIT, manifestDigest: DIGEST, bytesDone: TOTAL, bytesTotal: TOTAL, filesDone: 7, filesTotal: 7 });
const copying = (done: number, eta: number) =>
  report("Hydrating", {
    resolvedRevision: COMMIT,
    bytesDone: done,
    bytesTotal: TOTAL,
    filesDone: 3,
    filesTotal: 7,
    bytesPerSecond: 1073741824,
    etaSeconds: eta,
  });
const bound: ObservedAs = { status: { phase: "Bound", accessModes: ["ReadWriteMany"], capacity: { storage: "40Gi" } } };
const localBound: ObservedAs = { status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "40Gi" } } };
const running: ObservedAs = { status: { active: 1, startTime: "2024-01-01T00:01:00Z" } };
const complete: ObservedAs = { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } };

/** How one node's objects look on the cluster: none yet, copying, or verified. */
type NodeState = "none" | "started" | { copying: [number, number] } | "ready";

function nodeAs(key: string, state: NodeState): ObservedAs | "absent" {
  if (state === "none") return "absent";
  const volume = state === "ready" ? localBound : { status: { phase: "Bound" } };
  if (key.startsWith("nodevolume-")) return state === "started" ? { status: { phase: "Pending" } } : volume;
  if (key.startsWith("nodejob-")) return state === "ready" ? complete : running;
  if (key.startsWith("nodereport-")) return state === "ready" ? ready : state === "started" ? {} : copying(...state.copying);
  return {};
}

/** The cluster's shared copy (claim, Job, report, account) verified, everything else of it present. */
function sharedReady(key: string): ObservedAs {
  if (key.startsWith("volume-")) return bound;
  if (key.startsWith("job-")) return complete;
  if (key.startsWith("report-")) return ready;
  return {};
}

/**
 * Compose as Crossplane would, pass by pass: the shared copy verified, then each node's objects as `nodes`
 * says (a node absent from `nodes` shows nothing), plus `extra` observed objects.
 */
function clusterWith(
  xr: JsonObject,
  nodes: Record<string, NodeState>,
  extra: Record<string, ResourceState> = {},
  missing: readonly string[] = [],
  input: JsonObject = NODE_INPUT,
): Record<string, ResourceState> {
  let observed: Record<string, ResourceState> = { ...extra };
  // Three passes: the shared copy's objects (from the source: the first node's), then the node claims and Jobs it
  // unlocks, then their reports.
  for (let pass = 0; pass < 3; pass++) {
    const rsp = compose(xr, observed, undefined, {}, input);
    const next: Record<string, ResourceState> = { ...extra };
    for (const [key, state] of Object.entries(rsp.desired.resources)) {
      const node = field(state.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION);
      const as = missing.includes(key) ? { missing: true } : typeof node === "string" ? nodeAs(key, nodes[node] ?? "none") : sharedReady(key);
      if (as === "absent") continue;
      next[key] = observedObject(key, state.resource, as);
    }
    observed = next;
  }
  return observed;
}

const cluster = (nodes: { name: string; cordoned?: boolean }[]): JsonObject => ({
  name: "prod-east",
  providerConfigRef: { kind: "ClusterProviderConfig", name: "prod-east" },
  cloud: "Existing",
  storageClassName: "nfs-client",
  csiDrivers: ["SharedFilesystem"],
  nodes: nodes.map((n): JsonObject => (n.cordoned ? { name: n.name, cordoned: true } : { name: n.name })),
});
const spec = (nodes: { name: string; cordoned?: boolean }[]): JsonObject => ({
  cluster: cluster(nodes),
  nodeLocal: { size: "40Gi" },
  pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST },
});
const three = [{ name: "gpu-node-0" }, { name: "gpu-node-1" }, { name: "gpu-node-2" }];

/** A cluster with no class for a shared copy (no RWX storage, no shared-filesystem driver), the seed unset (Auto), nothing pinned yet. */
const sourceSpec = (nodes: { name: string; cordoned?: boolean }[], pin?: JsonObject): JsonObject => {
  const { storageClassName: _none, ...c } = cluster(nodes);
  return { cluster: { ...c, csiDrivers: [] }, nodeLocal: { size: "40Gi" }, ...(pin !== undefined ? { pin } : {}) };
};

export function nodeScenarios(): NodeScenario[] {
  const list: NodeScenario[] = [];
  list.push({
    name: "first-pass",
    why: "replication AllMatchingNodes, first pass: the cluster's shared copy starts hydrating from the source; each selected node gets its local claim and waits for that copy to be verified (nodes copy it, not the internet).",
    xr: baseXr(spec(three)),
    observed: {},
    input: NODE_INPUT,
    phase: "Pending",
    nodes: { "gpu-node-0": "Pending", "gpu-node-1": "Pending", "gpu-node-2": "Pending" },
  });
  {
    const xr = baseXr(spec(three), { phase: "Hydrating", sharedPhase: "Ready", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" });
    list.push({
      name: "hydrating",
      why: "The shared copy is verified; each node copies it through the hydrator (every file hashed, the manifest digest expected): one node Ready, one copying (bytes, speed, ETA), one whose Job just started. The cluster's line adds up the nodes, with the slowest ETA.",
      xr,
      observed: clusterWith(xr, { "gpu-node-0": "ready", "gpu-node-1": { copying: [4294967296, 11] }, "gpu-node-2": "started" }),
      input: NODE_INPUT,
      phase: "Hydrating",
      nodes: { "gpu-node-0": "Ready", "gpu-node-1": "Hydrating", "gpu-node-2": "Pending" },
    });
  }
  {
    const before = baseXr(spec(three));
    const observed = clusterWith(before, { "gpu-node-0": "ready", "gpu-node-1": "ready", "gpu-node-2": "ready" });
    const xr = baseXr(spec([...three, { name: "gpu-node-3" }]), { phase: "Ready", sharedPhase: "Ready", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" });
    list.push({
      name: "joined",
      why: "A node joined the cluster (the fleet now lists gpu-node-3): it gets its claim and a copy Job at once, from the shared copy; the three Ready nodes are untouched. The replica is Hydrating again until the new node is Ready.",
      xr,
      observed,
      input: NODE_INPUT,
      phase: "Pending",
      nodes: { "gpu-node-0": "Ready", "gpu-node-1": "Ready", "gpu-node-2": "Ready", "gpu-node-3": "Pending" },
    });
  }
  {
    const before = baseXr(spec(three));
    const observed = clusterWith(before, { "gpu-node-0": "ready", "gpu-node-1": "ready", "gpu-node-2": "ready" });
    const prevNodes: NodeStatus[] = [{ name: "gpu-node-2", phase: "Ready", claimName: "x", selected: false, leftSince: "2024-01-01T00:00:00.000Z" }];
    const xr = baseXr(spec([{ name: "gpu-node-0" }, { name: "gpu-node-1", cordoned: true }, { name: "gpu-node-3", cordoned: true }]), {
      phase: "Ready",
      sharedPhase: "Ready",
      attempts: 1,
      claimName: "qwen3-8b-3f9c2a1b7d",
      nodes: prevNodes as unknown as JsonObject[],
    });
    list.push({
      name: "cordoned-left",
      why: "gpu-node-1 is cordoned: its Ready copy stays (not counted, nothing deleted). gpu-node-3 joined cordoned: Blocked, nothing created on it until it is schedulable. gpu-node-2 left the node list: its objects are kept exactly as they are until the platform's grace period (input.tenancy.nodeLocal.leftNodeGracePeriod) has passed since it left, so a node missing from one list is never a deletion.",
      xr,
      observed,
      input: NODE_INPUT,
      phase: "Ready",
      nodes: { "gpu-node-0": "Ready", "gpu-node-1": "Ready", "gpu-node-2": "Ready", "gpu-node-3": "Blocked" },
    });
  }
  {
    const xr = baseXr(spec(three), { phase: "Pending", sharedPhase: "Ready", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" });
    list.push({
      name: "no-local-class",
      why: "The platform's node-local class (input.tenancy.nodeLocal.storageClassNames) does not exist on this cluster: every node is Blocked naming it, and nothing is created on a node (no claim that would pend forever). The shared copy is verified and stays.",
      xr,
      observed: clusterWith(xr, {}, {}, ["node-storage-class"]),
      input: NODE_INPUT,
      phase: "Blocked",
      nodes: { "gpu-node-0": "Blocked", "gpu-node-1": "Blocked", "gpu-node-2": "Blocked" },
    });
  }
  {
    const xr = baseXr(spec(three), { phase: "Hydrating", sharedPhase: "Ready", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" });
    list.push({
      name: "ready",
      why: "Every selected node holds the verified copy on its local disk and the shared copy is verified: the replica is Ready; the finished Jobs are dropped, their reports stay as the record.",
      xr,
      observed: clusterWith(xr, { "gpu-node-0": "ready", "gpu-node-1": "ready", "gpu-node-2": "ready" }),
      input: NODE_INPUT,
      phase: "Ready",
      nodes: { "gpu-node-0": "Ready", "gpu-node-1": "Ready", "gpu-node-2": "Ready" },
    });
  }
  list.push(...sourceScenarios());
  return list;
}

/** The cluster has no shared copy: each node hydrates from the source, the first verified node pinning the rest. */
function sourceScenarios(): NodeScenario[] {
  const list: NodeScenario[] = [];
  list.push({
    name: "source-first-pass",
    why: "replication AllMatchingNodes on a cluster with no storage class for a shared copy, spec.nodeLocal.seed unset (Auto) and the platform allowing nodes to hydrate from the source (input.tenancy.nodeLocal.seedFromSource: Allow): no shared claim or Job; the first node (by name) hydrates from the source with the shared Job's plan (credentials, hydrator flags, pod security), unpinned; the others wait for its verified copy, which pins the bytes they must match. Nothing is created on a waiting node.",
    xr: baseXr(sourceSpec(three)),
    observed: {},
    input: NODE_SOURCE_INPUT,
    phase: "Pending",
    nodes: { "gpu-node-0": "Pending", "gpu-node-1": "Pending", "gpu-node-2": "Pending" },
    fromSource: true,
  });
  {
    const xr = baseXr(sourceSpec(three), { phase: "Hydrating", sharedPhase: "Ready", seed: "Source", claimName: "qwen3-8b-3f9c2a1b7d" });
    list.push({
      name: "source-pinned",
      why: "No shared copy: gpu-node-0 verified the first copy from the source, so its manifest digest pins the cluster (status.sharedPhase Ready, manifestDigest, what the fleet's pin reads); the other nodes hydrate from the source expecting exactly that digest (--expect-manifest-digest): one copying, one whose Job just started.",
      xr,
      observed: clusterWith(xr, { "gpu-node-0": "ready", "gpu-node-1": { copying: [4294967296, 11] }, "gpu-node-2": "started" }, {}, [], NODE_SOURCE_INPUT),
      input: NODE_SOURCE_INPUT,
      phase: "Hydrating",
      nodes: { "gpu-node-0": "Ready", "gpu-node-1": "Hydrating", "gpu-node-2": "Pending" },
      fromSource: true,
    });
  }
  {
    const pin = { resolvedRevision: COMMIT, manifestDigest: DIGEST };
    const xr = baseXr(sourceSpec(three, pin), { phase: "Hydrating", sharedPhase: "Ready", seed: "Source", claimName: "qwen3-8b-3f9c2a1b7d" });
    list.push({
      name: "source-ready",
      why: "No shared copy, the fleet pinned: every selected node verified exactly the pinned bytes, hydrated from the source on its own local disk; the replica is Ready, the finished Jobs are dropped and their reports stay as the record.",
      xr,
      observed: clusterWith(xr, { "gpu-node-0": "ready", "gpu-node-1": "ready", "gpu-node-2": "ready" }, {}, [], NODE_SOURCE_INPUT),
      input: NODE_SOURCE_INPUT,
      phase: "Ready",
      nodes: { "gpu-node-0": "Ready", "gpu-node-1": "Ready", "gpu-node-2": "Ready" },
      fromSource: true,
    });
  }
  list.push({
    ...sourcePermanentScenario("Source").later,
    name: "source-refused",
    why: "No shared copy, nothing pinned yet: the hub refused gpu-node-0's token (401), and its hydrator reported the failure permanent and the source's (report.permanent: Source). Not retried (status.nodes[].permanentFailure, lastError with the echoed credential redacted), and not handed to the next node, which would meet the same refusal: gpu-node-1 and gpu-node-2 are Blocked naming gpu-node-0 and the fix; the replica is Failed with the Hydrated reason PermanentFailure. The pass before wrote the status this one reads; the failed Job is dropped, its report stays as the record. Fix the token (or the source), then set a new refetch value.",
  });
  return list;
}

/**
 * The shared copy goes back to verifying (its report says Verifying again, its Job running) while gpu-node-1's
 * copy Job runs and gpu-node-0 is Ready; gpu-node-2 has nothing yet. `before` is the same cluster with the shared
 * copy verified, to compare against. Not an example (nodeScenarios writes those): node-scenarios.test.ts asserts it.
 */
export function reverifyingScenario(): { before: NodeScenario; after: NodeScenario } {
  const xr = baseXr(spec(three), { phase: "Hydrating", sharedPhase: "Ready", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" });
  const observed = clusterWith(xr, { "gpu-node-0": "ready", "gpu-node-1": { copying: [4294967296, 11] } });
  const reverifying: Record<string, ResourceState> = {};
  for (const [key, state] of Object.entries(observed)) {
    const desired = { apiVersion: state.resource["apiVersion"], kind: state.resource["kind"], spec: state.resource["spec"] } as JsonObject;
    if (key.startsWith("report-"))
      reverifying[key] = observedObject(
        key,
        desired,
        report("Verifying", { resolvedRevision: COMMIT, bytesDone: 8589934592, bytesTotal: TOTAL, filesDone: 4, filesTotal: 7 }),
      );
    else if (key.startsWith("job-")) reverifying[key] = observedObject(key, desired, running);
    else reverifying[key] = state;
  }
  // The next pass: the replica's status as the last pass (shared copy verified) wrote it.
  const last = compose(xr, observed, undefined, {}, NODE_INPUT).desired.composite?.resource["status"];
  const next = baseXr(spec(three), isObject(last) ? last : {});
  const nodes = { "gpu-node-0": "Ready", "gpu-node-1": "Hydrating", "gpu-node-2": "Pending" } as const;
  const common = { xr: next, input: NODE_INPUT, nodes };
  return {
    before: { ...common, name: "reverifying-before", why: "the shared copy verified", observed, phase: "Hydrating" },
    after: { ...common, name: "reverifying", why: "the shared copy verifying again", observed: reverifying, phase: "Verifying" },
  };
}

/**
 * No shared copy, pinned: gpu-node-0 verified from the source, gpu-node-1 copying from it, gpu-node-2's Job just
 * started; then the cluster gets a class for a shared copy (its object names one), so the seed turns to the shared
 * copy, which has only just started. `before` is the source-seeded pass, `after` the first pass on the shared copy.
 */
export function sourceToSharedScenario(): { before: NodeScenario; after: NodeScenario } {
  const pin = { resolvedRevision: COMMIT, manifestDigest: DIGEST };
  const xr = baseXr(sourceSpec(three, pin), { phase: "Hydrating", sharedPhase: "Ready", seed: "Source", claimName: "qwen3-8b-3f9c2a1b7d" });
  const observed = clusterWith(xr, { "gpu-node-0": "ready", "gpu-node-1": { copying: [4294967296, 11] }, "gpu-node-2": "started" }, {}, [], NODE_SOURCE_INPUT);
  const last = compose(xr, observed, undefined, {}, NODE_SOURCE_INPUT).desired.composite?.resource["status"];
  const shared = baseXr({ ...spec(three), pin }, isObject(last) ? last : {});
  const nodes = { "gpu-node-0": "Ready", "gpu-node-1": "Hydrating", "gpu-node-2": "Pending" } as const;
  return {
    before: { name: "source-before", why: "seeded from the source", xr, observed, input: NODE_SOURCE_INPUT, phase: "Hydrating", nodes, fromSource: true },
    after: { name: "source-to-shared", why: "the seed turned to a shared copy", xr: shared, observed, input: NODE_SOURCE_INPUT, phase: "Pending", nodes },
  };
}

/**
 * The copy Job the function composes for gpu-node-2 once the cluster's shared copy reports `digest` verified
 * (and the cache is pinned to it): what test/contract/node-copy.test.ts runs for real on a seed holding those bytes.
 */
export function nodeCopyJob(digest: string): JsonObject {
  const verified = report("Ready", { resolvedRevision: COMMIT, manifestDigest: digest, bytesDone: TOTAL, bytesTotal: TOTAL, filesDone: 7, filesTotal: 7 });
  const xr = baseXr({ ...spec(three), pin: { resolvedRevision: COMMIT, manifestDigest: digest } });
  let observed: Record<string, ResourceState> = {};
  for (let pass = 0; pass < 2; pass++) {
    const rsp = compose(xr, observed, undefined, {}, NODE_INPUT);
    observed = {};
    for (const [key, state] of Object.entries(rsp.desired.resources)) {
      if (key.startsWith("node")) continue;
      observed[key] = observedObject(key, state.resource, key.startsWith("report-") ? verified : sharedReady(key));
    }
  }
  const rsp = compose(xr, observed, undefined, {}, NODE_INPUT);
  const job = Object.entries(rsp.desired.resources).find(
    ([k, s]) => k.startsWith("nodejob-") && field(s.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION) === "gpu-node-2",
  );
  const manifest = field(job?.[1].resource, "spec", "forProvider", "manifest");
  if (manifest === undefined || typeof manifest !== "object" || Array.isArray(manifest) || manifest === null) throw new Error("no copy Job for gpu-node-2");
  return manifest;
}

/** The next revision's claim (the fleet names a new claim for new bytes). */
export const NEXT_CLAIM = "qwen3-8b-7e0d4c2b91";

/**
 * A new revision on a cluster whose three nodes hold the earlier revision's verified copy: `hydrating` is the
 * first pass (the new shared copy, or from the source the first node's copy, not verified yet), `seeded` the pass
 * once it is verified (no node copy of the new revision yet), `ready` once every node verified its new copy. Each
 * pass still observes everything the earlier revision left (the node claims of `before`). Not an example:
 * node-scenarios.test.ts asserts it.
 */
export function newRevisionScenario(fromSource = false): Record<"before" | "hydrating" | "seeded" | "ready", NodeScenario> {
  const input = fromSource ? NODE_SOURCE_INPUT : NODE_INPUT;
  const specOf = (claimName?: string): JsonObject => ({ ...(fromSource ? sourceSpec(three) : spec(three)), ...(claimName !== undefined ? { claimName } : {}) });
  const all = { "gpu-node-0": "ready", "gpu-node-1": "ready", "gpu-node-2": "ready" } as const;
  const oldXr = baseXr(specOf(), { phase: "Ready", sharedPhase: "Ready", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" });
  const before = clusterWith(oldXr, all, {}, [], input);
  const last = compose(oldXr, before, undefined, {}, input).desired.composite?.resource["status"];
  const xr = baseXr(specOf(NEXT_CLAIM), isObject(last) ? last : {});
  const common = { xr, input, ...(fromSource ? { fromSource: true as const } : {}) };
  const allReady = { "gpu-node-0": "Ready", "gpu-node-1": "Ready", "gpu-node-2": "Ready" } as const;
  const pending = { "gpu-node-0": "Pending", "gpu-node-1": "Pending", "gpu-node-2": "Pending" } as const;
  return {
    before: { ...common, xr: oldXr, name: "revision-before", why: "every node holds the earlier revision", observed: before, phase: "Ready", nodes: allReady },
    hydrating: {
      ...common,
      name: "revision-hydrating",
      why: "a new revision, its seed not verified yet",
      observed: fromSource ? clusterWith(xr, { "gpu-node-0": "started" }, before, [], input) : before,
      phase: "Pending",
      nodes: pending,
    },
    seeded: {
      ...common,
      name: "revision-seeded",
      why: "the new revision's seed verified",
      observed: fromSource ? clusterWith(xr, { "gpu-node-0": "ready" }, before, [], input) : clusterWith(xr, {}, before, [], input),
      phase: "Pending",
      nodes: fromSource ? { "gpu-node-0": "Ready", "gpu-node-1": "Pending", "gpu-node-2": "Pending" } : pending,
    },
    ready: {
      ...common,
      name: "revision-ready",
      why: "every node verified the new revision",
      observed: clusterWith(xr, all, before, [], input),
      phase: "Ready",
      nodes: allReady,
    },
  };
}

const failedJob: ObservedAs = {
  status: {
    failed: 5,
    conditions: [
      {
        type: "Failed",
        status: "True",
        reason: "BackoffLimitExceeded",
        message: "Job has reached the specified backoff limit",
        lastTransitionTime: "2024-01-01T00:30:00Z",
      },
    ],
  },
};
const failedReport = report("Failed", { message: "writing /cache: no space left on device", bytesDone: 2147483648, bytesTotal: TOTAL });

/**
 * No shared copy, no pin: gpu-node-0 had the first copy from the source and its last attempt (the sixth) failed
 * on its own disk; gpu-node-1 and gpu-node-2 have nothing. `failed` is the pass that sees that Job Failed (its
 * line still says attempt 6 runs), `gaveUp` a later pass (its Job dropped, its report the record, its line Failed).
 * Not an example: node-scenarios.test.ts asserts it.
 */
export function sourceGaveUpScenario(): Record<"failed" | "gaveUp" | "stale", NodeScenario> {
  const claim = "qwen3-8b-3f9c2a1b7d";
  const line = (phase: string): JsonObject[] => [
    { name: "gpu-node-0", phase, claimName: nodeClaimName(claim, "gpu-node-0"), attempts: 6, message: `attempt 6 ${phase}` },
  ];
  const xrWith = (phase: string) =>
    baseXr(sourceSpec(three), { phase: "Hydrating", sharedPhase: "Hydrating", seed: "Source", claimName: claim, nodes: line(phase) });
  // What attempt 6 composed: gpu-node-0's claim, Job and report, the node-local class, the account.
  const running = xrWith("Hydrating");
  const composed = compose(running, {}, undefined, {}, NODE_SOURCE_INPUT).desired.resources;
  const failed: Record<string, ResourceState> = {};
  for (const [key, state] of Object.entries(composed))
    failed[key] = observedObject(
      key,
      state.resource,
      key.startsWith("nodejob-") ? failedJob : key.startsWith("nodereport-") ? failedReport : key.startsWith("nodevolume-") ? localBound : {},
    );
  const dropped = Object.fromEntries(Object.entries(failed).filter(([k]) => !k.startsWith("nodejob-")));
  const nodes = { "gpu-node-0": "Failed", "gpu-node-1": "Pending", "gpu-node-2": "Pending" } as const;
  const common = { input: NODE_SOURCE_INPUT, phase: "Failed" as const, nodes, fromSource: true as const };
  return {
    failed: { ...common, name: "source-gave-up-now", why: "gpu-node-0's sixth attempt just failed", xr: running, observed: failed },
    gaveUp: { ...common, name: "source-gave-up", why: "gpu-node-0 gave up earlier", xr: xrWith("Failed"), observed: dropped },
    stale: {
      ...common,
      name: "source-gave-up-stale",
      why: "gpu-node-0 gave up earlier; its last pod was killed at its deadline, so its report still says Hydrating",
      xr: xrWith("Failed"),
      observed: Object.fromEntries(
        Object.entries(dropped).map(([k, v]) => [k, k.startsWith("nodereport-") ? observedObject(k, composed[k]?.resource ?? {}, copying(2147483648, 60)) : v]),
      ),
    },
  };
}

/**
 * No shared copy, no pin: gpu-node-0 and gpu-node-1 both copy unpinned from the source (left from before the
 * one-at-a-time rule held a cordoned node's turn, or a race): the observed objects of both, each Job running.
 */
export function twoUnpinnedScenario(): NodeScenario {
  const xr = baseXr(sourceSpec(three), { phase: "Pending", sharedPhase: "Hydrating", seed: "Source", claimName: "qwen3-8b-3f9c2a1b7d" });
  const alone = baseXr(sourceSpec([{ name: "gpu-node-1" }]), { phase: "Pending", sharedPhase: "Hydrating", seed: "Source", claimName: "qwen3-8b-3f9c2a1b7d" });
  const observed = {
    ...clusterWith(alone, { "gpu-node-1": { copying: [4294967296, 11] } }, {}, [], NODE_SOURCE_INPUT),
    ...clusterWith(xr, { "gpu-node-0": { copying: [2147483648, 13] } }, {}, [], NODE_SOURCE_INPUT),
  };
  return {
    name: "source-two-unpinned",
    why: "two nodes copy unpinned at once",
    xr,
    observed,
    input: NODE_SOURCE_INPUT,
    phase: "Hydrating",
    nodes: { "gpu-node-0": "Hydrating", "gpu-node-1": "Hydrating", "gpu-node-2": "Pending" },
    fromSource: true,
  };
}

/**
 * No shared copy, no pin: every node had its turn and gave up (a failure of the source itself, found on each in
 * turn): each node's claim and Failed report of attempt 6, its Job dropped, its line Failed.
 */
export function sourceAllGaveUpScenario(): NodeScenario {
  const claim = "qwen3-8b-3f9c2a1b7d";
  const status = (phase: string, names: readonly string[]): JsonObject => ({
    phase: "Failed",
    sharedPhase: "Hydrating",
    seed: "Source",
    claimName: claim,
    nodes: names.map((name) => ({ name, phase, claimName: nodeClaimName(claim, name), attempts: 6, message: `attempt 6 ${phase}` })),
  });
  let observed: Record<string, ResourceState> = {};
  for (const { name } of three) {
    const alone = baseXr(sourceSpec([{ name }]), status("Hydrating", [name]));
    for (const [key, state] of Object.entries(compose(alone, {}, undefined, {}, NODE_SOURCE_INPUT).desired.resources))
      if (!key.startsWith("nodejob-") && observed[key] === undefined)
        observed = {
          ...observed,
          [key]: observedObject(key, state.resource, key.startsWith("nodereport-") ? failedReport : key.startsWith("nodevolume-") ? localBound : {}),
        };
  }
  return {
    name: "source-all-gave-up",
    why: "every node gave up",
    xr: baseXr(
      sourceSpec(three),
      status(
        "Failed",
        three.map((n) => n.name),
      ),
    ),
    observed,
    input: NODE_SOURCE_INPUT,
    phase: "Failed",
    nodes: { "gpu-node-0": "Failed", "gpu-node-1": "Failed", "gpu-node-2": "Failed" },
    fromSource: true,
  };
}

/** What the hydrator reports for a failure retrying cannot fix, and whose it is (report.permanent). */
const PERMANENT: Record<"Source" | "Destination", JsonObject> = {
  // A server that echoes the request's Authorization header into its error page: the function's net redacts it.
  Source: {
    message: 'hf://Qwen/Qwen3-8B@main: 401 Unauthorized: the hub refused the token (its page says "Authorization: Bearer not-a-real-token-0123")',
    permanent: "Source",
  },
  Destination: {
    message: "/cache: not enough free space in /cache: 15630.00 MiB still to fetch (+16.0 MiB margin), 8192.00 MiB available",
    permanent: "Destination",
  },
};

/** The Job as Kubernetes fails it on the hydrator's exit code 3 (the podFailurePolicy's FailJob rule). */
const permanentJob: ObservedAs = {
  status: {
    failed: 1,
    conditions: [
      {
        type: "Failed",
        status: "True",
        reason: "PodFailurePolicy",
        message: "Container hydrate for pod mc-ml-team/x failed with exit code 3 matching FailJob rule at index 0",
        lastTransitionTime: "2024-01-01T00:06:00Z",
      },
    ],
  },
};

/**
 * No shared copy, no pin: gpu-node-0 had the first copy from the source and its first attempt failed for good (its
 * report says permanent: `of`); gpu-node-1 and gpu-node-2 have nothing. `failed` is the pass that sees that Job
 * Failed (its line still says attempt 1 runs); `later` the next pass, from the status `failed` wrote, its Job dropped
 * and its report the record; `reportGone` the same with the report gone too (only the status remembers).
 * Not an example: node-scenarios.test.ts asserts it.
 */
export function sourcePermanentScenario(of: "Source" | "Destination"): Record<"failed" | "later" | "reportGone", NodeScenario> {
  const claim = "qwen3-8b-3f9c2a1b7d";
  const running = baseXr(sourceSpec(three), {
    phase: "Hydrating",
    sharedPhase: "Hydrating",
    seed: "Source",
    claimName: claim,
    nodes: [{ name: "gpu-node-0", phase: "Hydrating", claimName: nodeClaimName(claim, "gpu-node-0"), attempts: 1, message: "attempt 1 Hydrating" }],
  });
  const composed = compose(running, {}, undefined, {}, NODE_SOURCE_INPUT).desired.resources;
  const failedReport = report("Failed", PERMANENT[of]);
  const observed: Record<string, ResourceState> = {};
  for (const [key, state] of Object.entries(composed))
    observed[key] = observedObject(
      key,
      state.resource,
      key.startsWith("nodejob-") ? permanentJob : key.startsWith("nodereport-") ? failedReport : key.startsWith("nodevolume-") ? localBound : {},
    );
  const nodes =
    of === "Source"
      ? ({ "gpu-node-0": "Failed", "gpu-node-1": "Blocked", "gpu-node-2": "Blocked" } as const)
      : ({ "gpu-node-0": "Failed", "gpu-node-1": "Pending", "gpu-node-2": "Pending" } as const);
  const common = { input: NODE_SOURCE_INPUT, phase: "Failed" as const, nodes, fromSource: true as const };
  const failed: NodeScenario = {
    ...common,
    name: `source-permanent-${of}-now`,
    why: `gpu-node-0's first attempt failed for good (${of})`,
    xr: running,
    observed,
  };
  // The next pass reads the status the first one wrote, as Crossplane hands it back.
  const wrote = compose(running, observed, undefined, {}, NODE_SOURCE_INPUT).desired.composite?.resource["status"] as JsonObject;
  const xr = { ...running, status: wrote };
  const dropped = Object.fromEntries(Object.entries(observed).filter(([k]) => !k.startsWith("nodejob-")));
  return {
    failed,
    later: { ...common, name: `source-permanent-${of}`, why: `gpu-node-0 failed for good (${of}) earlier`, xr, observed: dropped },
    reportGone: {
      ...common,
      name: `source-permanent-${of}-no-report`,
      why: `gpu-node-0 failed for good (${of}) earlier; its report is gone too`,
      xr,
      observed: Object.fromEntries(Object.entries(dropped).filter(([k]) => !k.startsWith("nodereport-"))),
    },
  };
}
