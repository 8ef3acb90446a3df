// The gate's decision table: cache phase x digest x rollout x tenancy, each
// row with its reason and the whole expected decision.
import { describe, expect, it } from "vitest";
import type { CacheOnCluster } from "./cache-view.ts";
import { decideGate, type CacheKnowledge, type GateDecision, type GateInput } from "./gate.ts";

const PIN = "sha256:aaaa";
const OTHER = "sha256:bbbb";
const NEW = "qwen3-8b-v2-1a2b3c";
const OLD = "qwen3-8b-v1-0f0f0f";

function view(over: Partial<CacheOnCluster> = {}): CacheOnCluster {
  return {
    ref: "ml-team/qwen3-8b",
    listed: true,
    reported: true,
    selected: true,
    phase: "Ready",
    drift: false,
    claimName: NEW,
    seed: undefined,
    namespace: "mc-ml-team",
    mountPath: "/models/qwen3-8b",
    manifestDigest: PIN,
    pinnedDigest: PIN,
    pinStale: false,
    accessMode: "ReadWriteMany",
    ...over,
  };
}
const found = (over: Partial<CacheOnCluster> = {}): CacheKnowledge => ({ kind: "found", view: view(over) });
const allowed = { allowed: true } as const;
const refused = { allowed: false, reason: "ModelCache shared/qwen3-8b: not granted to namespace ml-team (input.serving.tenancy.grants)" } as const;
const SOURCE_ONLY =
  "ModelCache ml-team/qwen3-8b on cluster gke-a has node-local copies only, each node hydrated from the source: no shared claim exists there to mount " +
  "(to serve from it: a storage class for a shared copy on the cluster with spec.nodeLocal.seed SharedCopy or Auto, " +
  "or per-node workloads that mount the node claims its ModelCacheReplica lists in status.nodes)";
const STOPPED = (claim: string) => `${SOURCE_ONLY}; the workload is stopped: ${claim}, the shared copy it mounts, is let go once every node is Ready`;
const hydrating = { phase: "Hydrating", bytesDone: 12 * 2 ** 30, bytesTotal: 16 * 2 ** 30, etaSeconds: 120, manifestDigest: undefined } as const;

interface Row {
  reason: string;
  knowledge: CacheKnowledge;
  tenancy?: GateInput["tenancy"];
  previous?: GateInput["previous"];
  want: GateDecision;
}

const rows: Row[] = [
  // Tenancy
  {
    reason: "a cache the tenant may not use is never mounted, however verified",
    knowledge: found(),
    tenancy: refused,
    want: { action: "hold", state: "Blocked", reason: refused.reason },
  },
  {
    reason: "a revoked grant stops a workload that mounts the cache",
    knowledge: found(),
    tenancy: refused,
    previous: { claimName: NEW, manifestDigest: PIN },
    want: { action: "hold", state: "Blocked", reason: refused.reason },
  },
  // What is known about the cache
  {
    reason: "the required resource not delivered yet holds a new workload",
    knowledge: { kind: "waiting" },
    want: { action: "hold", state: "Held", reason: "waiting for ModelCache ml-team/qwen3-8b to be delivered" },
  },
  {
    reason: "a delivery gap never disturbs a workload already mounting",
    knowledge: { kind: "waiting" },
    previous: { claimName: OLD, manifestDigest: PIN },
    want: { action: "keepPrevious", state: "Kept", reason: `waiting for ModelCache ml-team/qwen3-8b to be delivered; the workload keeps ${OLD}` },
  },
  {
    reason: "a missing cache holds a new workload and says how to fix it",
    knowledge: { kind: "notFound" },
    want: { action: "hold", state: "Held", reason: "ModelCache ml-team/qwen3-8b does not exist; create it or fix the modelcache.dev/caches annotation" },
  },
  {
    reason: "a deleted cache does not stop serving: its volume outlives it",
    knowledge: { kind: "notFound" },
    previous: { claimName: NEW, manifestDigest: PIN },
    want: {
      action: "keepPrevious",
      state: "Kept",
      reason: `ModelCache ml-team/qwen3-8b does not exist; the workload keeps ${NEW}, whose volume outlives it per the cache's retention`,
    },
  },
  {
    reason: "an unreadable cache blocks a new workload with the parse error",
    knowledge: { kind: "unreadable", message: "spec.storage: required" },
    want: { action: "hold", state: "Blocked", reason: "ModelCache ml-team/qwen3-8b cannot be read: spec.storage: required" },
  },
  {
    reason: "a cluster the cache does not select blocks: no bytes will ever come",
    knowledge: found({ listed: false, selected: false, phase: undefined, claimName: undefined }),
    want: { action: "hold", state: "Blocked", reason: "ModelCache ml-team/qwen3-8b does not select cluster gke-a" },
  },
  {
    reason:
      "a cache that has not reported its clusters yet (just applied beside its consumer) holds, never blocks: its absence from a list not yet written is no decision",
    knowledge: found({ listed: false, reported: false, selected: false, phase: undefined, claimName: undefined, manifestDigest: undefined }),
    want: { action: "hold", state: "Held", reason: "ModelCache ml-team/qwen3-8b has not reported its clusters yet" },
  },
  {
    reason: "a workload already mounting keeps its claim while the cache has not reported its clusters",
    knowledge: found({ listed: false, reported: false, selected: false, phase: undefined, claimName: undefined, manifestDigest: undefined }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: {
      action: "keepPrevious",
      state: "Kept",
      reason: `ModelCache ml-team/qwen3-8b has not reported its clusters yet; the workload keeps ${NEW}, verified before`,
    },
  },
  // Phase
  {
    reason: "Pending holds",
    knowledge: found({ phase: "Pending", manifestDigest: undefined }),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b on cluster gke-a: Pending" },
  },
  {
    reason: "Hydrating holds, with bytes and ETA",
    knowledge: found(hydrating),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b on cluster gke-a: Hydrating, 12.00 GiB of 16.00 GiB (75%), about 120s left" },
  },
  {
    reason: "Verifying holds: bytes are there but not checked",
    knowledge: found({ phase: "Verifying", manifestDigest: undefined, message: "verifying" }),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b on cluster gke-a: Verifying" },
  },
  {
    reason: "Failed holds with the cluster's error",
    knowledge: found({ phase: "Failed", manifestDigest: undefined, message: "404 from the hub" }),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b on cluster gke-a: Failed (404 from the hub)" },
  },
  {
    reason: "a copy released for disuse holds, saying so (the workload's Waiting record brings it back)",
    knowledge: found({
      phase: "Pending",
      manifestDigest: undefined,
      message: "released at 2025-01-02T00:00:00.000Z: nobody used it for spec.eviction.ttl (24h)",
    }),
    want: {
      action: "hold",
      state: "Held",
      reason: "ml-team/qwen3-8b on cluster gke-a: Pending (released at 2025-01-02T00:00:00.000Z: nobody used it for spec.eviction.ttl (24h))",
    },
  },
  {
    reason: "Blocked holds with what the cluster lacks",
    knowledge: found({ phase: "Blocked", manifestDigest: undefined, message: "no RWX storage class" }),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b on cluster gke-a: Blocked (no RWX storage class)" },
  },
  // Digest
  {
    reason: "Ready with the pinned digest mounts",
    knowledge: found(),
    want: { action: "mount", state: "Mounted", claimName: NEW, manifestDigest: PIN, reason: `ml-team/qwen3-8b verified on cluster gke-a (${PIN})` },
  },
  {
    reason: "Ready before any pin (first cluster of a mutable source still pinning) holds",
    knowledge: found({ pinnedDigest: undefined }),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b: no manifest digest is pinned yet" },
  },
  {
    reason: "Ready on a pin of an earlier source (revision changed, not re-pinned) holds",
    knowledge: found({ pinStale: true, pinnedDigest: undefined }),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b: a new revision is rolling out and is not pinned yet" },
  },
  {
    reason: "Ready with another digest than the pin holds (a drifted cluster)",
    knowledge: found({ manifestDigest: OTHER }),
    want: { action: "hold", state: "Held", reason: `ml-team/qwen3-8b on cluster gke-a verified ${OTHER}, not the pinned ${PIN}` },
  },
  {
    reason: "drift reported by the fleet holds",
    knowledge: found({ phase: "Failed", drift: true, manifestDigest: OTHER, message: "drift" }),
    want: { action: "hold", state: "Held", reason: "ml-team/qwen3-8b on cluster gke-a: Failed (drift)" },
  },
  {
    reason: "a workload mounting the verified claim stays mounted",
    knowledge: found(),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: { action: "mount", state: "Mounted", claimName: NEW, manifestDigest: PIN, reason: `ml-team/qwen3-8b verified on cluster gke-a (${PIN})` },
  },
  {
    reason: "drift under a running workload stops it",
    knowledge: found({ phase: "Ready", drift: true, manifestDigest: OTHER }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: {
      action: "hold",
      state: "Held",
      reason: "ml-team/qwen3-8b on cluster gke-a holds bytes other than the pinned manifest; the workload is stopped until it is verified again",
    },
  },
  {
    reason: "a refetch into the same claim keeps the workload: publish is atomic",
    knowledge: found({ ...hydrating }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: {
      action: "keepPrevious",
      state: "Kept",
      reason: `ml-team/qwen3-8b on cluster gke-a: Hydrating, 12.00 GiB of 16.00 GiB (75%), about 120s left; the workload keeps ${NEW}, verified before`,
    },
  },
  {
    reason: "a failed retry leaves the verified tree: the workload keeps it",
    knowledge: found({ phase: "Failed", manifestDigest: undefined, message: "timeout" }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: { action: "keepPrevious", state: "Kept", reason: `ml-team/qwen3-8b on cluster gke-a: Failed (timeout); the workload keeps ${NEW}, verified before` },
  },
  {
    reason: "a cluster that stopped matching keeps its data (retention): the workload keeps it",
    knowledge: found({ listed: false, selected: false, phase: undefined, claimName: undefined }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: {
      action: "keepPrevious",
      state: "Kept",
      reason: `ModelCache ml-team/qwen3-8b does not select cluster gke-a; the workload keeps ${NEW}, verified before`,
    },
  },
  // No shared copy: the cluster's nodes hydrate from the source (nodeLocal.seed Source)
  {
    reason: "node-local copies seeded from the source block a new workload, even Ready and pinned: the claim it names does not exist there",
    knowledge: found({ seed: "Source" }),
    want: { action: "hold", state: "Blocked", reason: SOURCE_ONLY },
  },
  {
    reason: "node-local copies seeded from the source block while the nodes still hydrate too: waiting will not bring a shared claim",
    knowledge: found({ ...hydrating, seed: "Source" }),
    want: { action: "hold", state: "Blocked", reason: SOURCE_ONLY },
  },
  {
    reason:
      "a switch to seed Source stops a running workload at once, as a revoked grant does: the shared copy it mounts goes when every node is Ready, and nothing says when it has",
    knowledge: found({ ...hydrating, seed: "Source" }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: { action: "hold", state: "Blocked", reason: STOPPED(NEW) },
  },
  {
    reason: "a switch to seed Source that rolls out a new revision too stops the workload on the old revision's shared copy",
    knowledge: found({ ...hydrating, seed: "Source", pinStale: true, pinnedDigest: undefined }),
    previous: { claimName: OLD, manifestDigest: OTHER },
    want: { action: "hold", state: "Blocked", reason: STOPPED(OLD) },
  },
  {
    reason: "every node Ready from the source: a workload still on the shared copy is stopped, never moved to the claim the cache names",
    knowledge: found({ seed: "Source" }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: { action: "hold", state: "Blocked", reason: STOPPED(NEW) },
  },
  {
    reason: "seed Source on a refused tenancy: the platform's word is reported first",
    knowledge: found({ seed: "Source" }),
    tenancy: refused,
    want: { action: "hold", state: "Blocked", reason: refused.reason },
  },
  {
    reason: "a replica whose status cannot be read (its line Pending, the seed not known) keeps a running workload: a gap is not read as a switch",
    knowledge: found({ phase: "Pending", manifestDigest: undefined }),
    previous: { claimName: NEW, manifestDigest: PIN },
    want: { action: "keepPrevious", state: "Kept", reason: `ml-team/qwen3-8b on cluster gke-a: Pending; the workload keeps ${NEW}, verified before` },
  },
  // Rollout
  {
    reason: "rollout: while the new revision hydrates the workload keeps the old volume",
    knowledge: found({ ...hydrating, pinStale: true, pinnedDigest: undefined }),
    previous: { claimName: OLD, manifestDigest: OTHER },
    want: {
      action: "keepPrevious",
      state: "RolloutPending",
      reason: `new revision not verified yet (ml-team/qwen3-8b on cluster gke-a: Hydrating, 12.00 GiB of 16.00 GiB (75%), about 120s left); the workload keeps ${OLD}`,
    },
  },
  {
    reason: "rollout: verified on another cluster first (pinned) but not here yet keeps the old volume",
    knowledge: found({ phase: "Verifying", manifestDigest: undefined }),
    previous: { claimName: OLD, manifestDigest: OTHER },
    want: {
      action: "keepPrevious",
      state: "RolloutPending",
      reason: `new revision not verified yet (ml-team/qwen3-8b on cluster gke-a: Verifying); the workload keeps ${OLD}`,
    },
  },
  {
    reason: "rollout: the new revision drifted here keeps the old volume, never the bad bytes",
    knowledge: found({ drift: true, manifestDigest: OTHER }),
    previous: { claimName: OLD, manifestDigest: OTHER },
    want: {
      action: "keepPrevious",
      state: "RolloutPending",
      reason: `new revision not verified yet (ml-team/qwen3-8b on cluster gke-a holds bytes other than the pinned manifest); the workload keeps ${OLD}`,
    },
  },
  {
    reason: "rollout: verified on this cluster moves the workload to the new volume",
    knowledge: found(),
    previous: { claimName: OLD, manifestDigest: OTHER },
    want: {
      action: "mount",
      state: "Mounted",
      claimName: NEW,
      manifestDigest: PIN,
      reason: `ml-team/qwen3-8b revision verified on cluster gke-a (${PIN}): moving from ${OLD} to ${NEW}`,
    },
  },
  {
    reason: "rollout with a refused tenancy still stops (the platform's word wins)",
    knowledge: found(),
    tenancy: refused,
    previous: { claimName: OLD, manifestDigest: OTHER },
    want: { action: "hold", state: "Blocked", reason: refused.reason },
  },
];

describe("decideGate", () => {
  it.each(rows)("$reason", ({ knowledge, tenancy, previous, want }) => {
    expect(decideGate({ cache: "ml-team/qwen3-8b", cluster: "gke-a", knowledge, tenancy: tenancy ?? allowed, previous })).toStrictEqual(want);
  });

  it("never mounts anything but a Ready, undrifted cluster holding the current pin in a shared claim", () => {
    // Exhaustive over the gate's dimensions: a mount always names the pinned digest and the cache's current claim.
    const phases = ["Pending", "Hydrating", "Verifying", "Ready", "Failed", "Blocked", undefined] as const;
    for (const phase of phases)
      for (const drift of [false, true])
        for (const digest of [PIN, OTHER, undefined])
          for (const pinnedDigest of [PIN, undefined])
            for (const previous of [undefined, { claimName: OLD, manifestDigest: OTHER }, { claimName: NEW, manifestDigest: PIN }])
              for (const tenancy of [allowed, refused])
                for (const seed of [undefined, "Source"] as const) {
                  const d = decideGate({
                    cache: "c",
                    cluster: "gke-a",
                    knowledge: found({ phase, drift, manifestDigest: digest, pinnedDigest, seed }),
                    tenancy,
                    previous,
                  });
                  if (d.action !== "mount") continue;
                  expect({ phase, drift, digest, tenancy: tenancy.allowed, seed }).toStrictEqual({
                    phase: "Ready",
                    drift: false,
                    digest: pinnedDigest,
                    tenancy: true,
                    seed: undefined,
                  });
                  expect(d.claimName).toBe(NEW);
                }
  });
});
