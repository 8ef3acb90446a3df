import { describe, expect, it } from "vitest";
import { checkNodeLocal } from "../tenancy/node-local.ts";
import { NodeLocalPolicy } from "../../api/node-local.ts";
import { decideSeed, firstCopy, needsSharedClass, type FirstCopy, type FirstCopyCandidate, type SeedInputs, type SeedMode } from "./node-seed.ts";

/** A cluster with a class for the shared copy, nothing composed yet, the seed unset, the platform's default. Each row changes what it is about. */
const base: SeedInputs = { seed: undefined, policy: "Deny", backend: "PVC", storageClassName: "nfs-client", sharedObserved: false, cluster: "prod-east" };
const SOURCE_WHY = "spec.nodeLocal.seed is Source: each node hydrates from the source, no shared copy is made";
const AUTO_WHY =
  "cluster prod-east has no storage class for a shared copy (spec.nodeLocal.seed Auto, input.tenancy.nodeLocal.seedFromSource Allow): each node hydrates from the source";

describe("decideSeed: where a cluster's node copies come from", () => {
  it.each<{ reason: string; given: Partial<SeedInputs>; want: SeedMode }>([
    { reason: "unset (Auto) on a cluster with a class: the shared copy, one download per cluster", given: {}, want: { kind: "SharedCopy" } },
    {
      reason: "Auto on a cluster with no class, the platform allowing the source: each node hydrates from the source",
      given: { storageClassName: undefined, policy: "Allow" },
      want: { kind: "Source", why: AUTO_WHY },
    },
    {
      reason: "Auto spelled out behaves as unset",
      given: { seed: "Auto", storageClassName: undefined, policy: "Allow" },
      want: { kind: "Source", why: AUTO_WHY },
    },
    {
      reason: "Auto on a cluster with no class, the platform not allowing the source: the shared copy (Blocked for want of a class, as before)",
      given: { storageClassName: undefined },
      want: { kind: "SharedCopy" },
    },
    {
      reason:
        "Auto, the cluster's class missing from its object while a shared copy is on the cluster: a transient gap never switches away from (and drops) the copy",
      given: { storageClassName: undefined, policy: "Allow", sharedObserved: true },
      want: { kind: "SharedCopy" },
    },
    {
      reason: "Auto with an existing claim the user brings: the nodes copy that claim",
      given: { storageClassName: undefined, policy: "Allow", backend: "ExistingPVC" },
      want: { kind: "SharedCopy" },
    },
    {
      reason: "SharedCopy on a cluster with no class, the platform allowing the source: still the shared copy, as asked",
      given: { seed: "SharedCopy", storageClassName: undefined, policy: "Allow" },
      want: { kind: "SharedCopy" },
    },
    {
      reason: "Source on a cluster with a class: every node from the source, as asked (the platform allowed it)",
      given: { seed: "Source", policy: "Allow" },
      want: { kind: "Source", why: SOURCE_WHY },
    },
    {
      reason: "Source while an earlier shared copy is there (the tenant switched): from the source; the old copy is kept until the nodes are Ready",
      given: { seed: "Source", policy: "Allow", sharedObserved: true },
      want: { kind: "Source", why: SOURCE_WHY },
    },
  ])("$reason", ({ given, want }) => {
    expect(decideSeed({ ...base, ...given })).toEqual(want);
  });
});

describe("needsSharedClass: whether the fleet Blocks a selected cluster without a class for the shared copy", () => {
  it.each<{ reason: string; seed: "SharedCopy" | "Source" | "Auto" | undefined; policy: "Deny" | "Allow"; want: boolean }>([
    { reason: "unset, the platform's default: a cluster without a class is Blocked, as before", seed: undefined, policy: "Deny", want: true },
    { reason: "unset, the platform allowing the source: the replica seeds its nodes from the source", seed: undefined, policy: "Allow", want: false },
    { reason: "SharedCopy always needs the class", seed: "SharedCopy", policy: "Allow", want: true },
    { reason: "Source never does", seed: "Source", policy: "Allow", want: false },
    { reason: "Auto, the platform denying the source: needs the class", seed: "Auto", policy: "Deny", want: true },
  ])("$reason", ({ seed, policy, want }) => {
    expect(needsSharedClass(seed, policy)).toBe(want);
  });
});

describe("checkNodeLocal: the platform decides whether nodes may hydrate from the source", () => {
  const policy = (seedFromSource: "Deny" | "Allow") => NodeLocalPolicy.parse({ storageClassNames: ["local-nvme"], seedFromSource });
  it.each<{ reason: string; seed: "SharedCopy" | "Source" | "Auto" | undefined; allow: "Deny" | "Allow"; want: ReturnType<typeof checkNodeLocal> }>([
    {
      reason: "Source where the platform denies it: refused, naming the field and the knob",
      seed: "Source",
      allow: "Deny",
      want: {
        refused: [
          {
            field: "spec.nodeLocal.seed",
            rule: "tenancy.nodeLocal.seedFromSource",
            message: "Source is not offered here: the platform does not let nodes hydrate from the source (each node copies the cluster's shared copy)",
          },
        ],
        storageClassName: undefined,
      },
    },
    { reason: "Source where the platform allows it", seed: "Source", allow: "Allow", want: { refused: [], storageClassName: "local-nvme" } },
    {
      reason: "Auto where the platform denies the source: allowed (it means the shared copy there)",
      seed: "Auto",
      allow: "Deny",
      want: { refused: [], storageClassName: "local-nvme" },
    },
    { reason: "unset: allowed", seed: undefined, allow: "Deny", want: { refused: [], storageClassName: "local-nvme" } },
  ])("$reason", ({ seed, allow, want }) => {
    expect(checkNodeLocal({ size: "40Gi", ...(seed !== undefined ? { seed } : {}) }, policy(allow), "spec")).toEqual(want);
  });
});

describe("firstCopy: with no shared copy and no pin, which one node hydrates unpinned (its verified copy pins the rest)", () => {
  /** Three schedulable nodes, none copying, none given up; each row changes what it is about. */
  const node = (name: string, more: Partial<FirstCopyCandidate> = {}): FirstCopyCandidate => ({
    node: name,
    schedulable: true,
    copying: false,
    gaveUp: false,
    ...more,
  });
  it.each<{ reason: string; given: FirstCopyCandidate[]; want: FirstCopy }>([
    {
      reason: "nothing copying yet: the first node by name",
      given: [node("gpu-2"), node("gpu-0"), node("gpu-1")],
      want: { node: "gpu-0", gaveUp: [], sourceFailed: [] },
    },
    {
      reason: "a node already copying keeps the turn, even if it is not the first by name",
      given: [node("gpu-0"), node("gpu-1", { copying: true }), node("gpu-2")],
      want: { node: "gpu-1", gaveUp: [], sourceFailed: [] },
    },
    {
      reason: "the copying node was cordoned: it keeps the turn (a cordon does not evict its Job), no second unpinned copy starts",
      given: [node("gpu-0", { schedulable: false, copying: true }), node("gpu-1"), node("gpu-2")],
      want: { node: "gpu-0", gaveUp: [], sourceFailed: [] },
    },
    {
      reason: "the first node gave up (every attempt failed): the next by name tries, one at a time",
      given: [node("gpu-0", { gaveUp: true }), node("gpu-1"), node("gpu-2")],
      want: { node: "gpu-1", gaveUp: ["gpu-0"], sourceFailed: [] },
    },
    {
      reason: "the first node gave up in this very pass (its failed Job still composed): the next by name tries now",
      given: [node("gpu-0", { copying: true, gaveUp: true }), node("gpu-1"), node("gpu-2")],
      want: { node: "gpu-1", gaveUp: ["gpu-0"], sourceFailed: [] },
    },
    {
      reason: "the first gave up and the second copies: the second keeps the turn, the third waits",
      given: [node("gpu-0", { gaveUp: true }), node("gpu-1", { copying: true }), node("gpu-2")],
      want: { node: "gpu-1", gaveUp: ["gpu-0"], sourceFailed: [] },
    },
    {
      reason: "the next node by name is cordoned: the turn skips it",
      given: [node("gpu-0", { gaveUp: true }), node("gpu-1", { schedulable: false }), node("gpu-2")],
      want: { node: "gpu-2", gaveUp: ["gpu-0"], sourceFailed: [] },
    },
    {
      reason: "every node gave up (a failure of the source itself, shown on each in turn): none tries until a refetch, all named",
      given: [node("gpu-0", { gaveUp: true }), node("gpu-1", { gaveUp: true }), node("gpu-2", { gaveUp: true })],
      want: { node: undefined, gaveUp: ["gpu-0", "gpu-1", "gpu-2"], sourceFailed: [] },
    },
    {
      reason:
        "the first node's copy failed for good for a cause of the source itself (a refused token, a 404): not handed on, every node would meet it; none tries until a refetch",
      given: [node("gpu-0", { sourceFailed: true }), node("gpu-1"), node("gpu-2")],
      want: { node: undefined, gaveUp: [], sourceFailed: ["gpu-0"] },
    },
    {
      reason: "the source failed for good on its last attempt too: named once, as the source's, and still not handed on",
      given: [node("gpu-0", { gaveUp: true, sourceFailed: true }), node("gpu-1"), node("gpu-2")],
      want: { node: undefined, gaveUp: [], sourceFailed: ["gpu-0"] },
    },
    {
      reason: "the node on which the source failed is cordoned now: the source is still what failed, no other node starts",
      given: [node("gpu-0", { schedulable: false, sourceFailed: true }), node("gpu-1"), node("gpu-2")],
      want: { node: undefined, gaveUp: [], sourceFailed: ["gpu-0"] },
    },
    {
      reason: "a node already copying when the source failed on another (a race) keeps its Job: never killed, no third one starts",
      given: [node("gpu-0", { sourceFailed: true }), node("gpu-1", { copying: true }), node("gpu-2")],
      want: { node: "gpu-1", gaveUp: [], sourceFailed: ["gpu-0"] },
    },
    {
      reason: "no schedulable node: none (the replica waits for one)",
      given: [node("gpu-0", { schedulable: false }), node("gpu-1", { schedulable: false })],
      want: { node: undefined, gaveUp: [], sourceFailed: [] },
    },
  ])("$reason", ({ given, want }) => {
    expect(firstCopy(given)).toEqual(want);
  });
});
