// Every AllMatchingNodes scenario (test/support/node-scenarios.ts, the examples' source) composes to the
// phase it names, with each node's line in the phase it names, and within restricted pod security.
import { Job } from "kubernetes-models/batch/v1/Job";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, PersistentVolumeClaim, ServiceAccount } from "kubernetes-models/v1";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1";
import { describe, expect, it } from "vitest";
import { field } from "../../common/json.ts";
import type { JsonObject } from "../../sdk/types.ts";
import {
  NEXT_CLAIM,
  newRevisionScenario,
  nodeScenarios,
  reverifyingScenario,
  sourceAllGaveUpScenario,
  sourceGaveUpScenario,
  sourcePermanentScenario,
  sourceToSharedScenario,
  twoUnpinnedScenario,
} from "../../../test/support/node-scenarios.ts";
import { composeScenario, type Scenario } from "../../../test/support/replica-scenarios.ts";
import { keysOfKind, manifestAt, observedObject, statusOf } from "../../../test/support/replica-builders.ts";
import { NODE_ANNOTATION, NODE_KEY, nodeClaimName, nodeJobName, SEED_MOUNT } from "./node-local.ts";
import { PERMANENT_FIX } from "./decide.ts";

describe("AllMatchingNodes scenarios", () => {
  for (const s of nodeScenarios())
    it(`${s.name}: ${s.why}`, () => {
      const rsp = composeScenario(s);
      const status = statusOf(rsp);
      expect(rsp.results?.filter((r) => r.severity === "Fatal") ?? []).toEqual([]);
      expect(status.phase).toBe(s.phase);
      expect(Object.fromEntries((status.nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(s.nodes);
      // Every node Job: pinned to its node by name, reading the shared copy read-only, expecting its digest, no hostPath.
      for (const key of keysOfKind(rsp, "Job").filter((k) => k.startsWith("nodejob-"))) {
        const job = manifestAt(rsp, key);
        const node = field(job, "metadata", "annotations", NODE_ANNOTATION);
        const pod = field(job, "spec", "template", "spec");
        expect(field(pod, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")).toEqual([
          { matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] },
        ]);
        expect(JSON.stringify(pod)).not.toContain("hostPath");
        const [container] = field(pod, "containers") as JsonObject[];
        const args = field(container, "args") as string[];
        if (s.fromSource === true) {
          // From the source: its own URI, no seed volume; pinned once a first node verified (or the fleet pinned).
          expect(args.slice(0, 3)).toEqual(["hydrate", "--source", "hf://Qwen/Qwen3-8B@main"]);
          expect(JSON.stringify(field(pod, "volumes"))).not.toContain('"seed"');
          if (status.manifestDigest !== undefined) expect(args[args.indexOf("--expect-manifest-digest") + 1]).toBe(status.manifestDigest);
        } else {
          expect(args.slice(0, 3)).toEqual(["hydrate", "--source", `file://${SEED_MOUNT}`]);
          expect(args).toContain("--expect-manifest-digest");
          expect(field(pod, "volumes")).toContainEqual({ name: "seed", persistentVolumeClaim: { claimName: "qwen3-8b-3f9c2a1b7d", readOnly: true } });
        }
      }
      // From the source there is no shared copy: no shared claim or Job, and the replica says where its bytes come from.
      if (s.fromSource === true) {
        expect(Object.keys(rsp.desired.resources).filter((k) => k.startsWith("volume-") || k.startsWith("job-"))).toEqual([]);
        expect(status.seed).toBe("Source");
      }
    });
});

/** The volume types the restricted Pod Security Standard allows. */
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

describe("what a node copy composes is valid Kubernetes and passes restricted pod security", () => {
  const MODELS: Record<string, (m: JsonObject) => { validate(): void }> = {
    Job: (m) => new Job(m as never),
    PersistentVolumeClaim: (m) => new PersistentVolumeClaim(m as never),
    ConfigMap: (m) => new ConfigMap(m as never),
    ServiceAccount: (m) => new ServiceAccount(m as never),
    Role: (m) => new Role(m as never),
    RoleBinding: (m) => new RoleBinding(m as never),
    StorageClass: (m) => new StorageClass(m as never),
  };
  const nodeKeys = (k: string) => k.startsWith("node");
  for (const s of nodeScenarios()) {
    const rsp = composeScenario(s);
    for (const [key, state] of Object.entries(rsp.desired.resources).filter(([k]) => nodeKeys(k)))
      it(`${s.name} ${key}`, () => {
        const m = field(state.resource, "spec", "forProvider", "manifest") as JsonObject;
        const model = MODELS[String(m["kind"])];
        expect(model, `a schema for ${String(m["kind"])}`).toBeDefined();
        // An observed-only object (the node-local StorageClass) names what to read, not a whole manifest.
        const observeOnly = JSON.stringify(field(state.resource, "spec", "managementPolicies")) === '["Observe"]';
        if (observeOnly) expect(Object.keys(m).sort()).toEqual(["apiVersion", "kind", "metadata"]);
        else expect(() => model?.(m).validate()).not.toThrow();
        if (m["kind"] === "Role") {
          // An empty resourceNames would grant every ConfigMap: never composed so.
          const names = field(m, "rules") as JsonObject[];
          expect((names[0]?.["resourceNames"] as string[]).length).toBeGreaterThan(0);
        }
        if (m["kind"] !== "Job") return;
        const pod = field(m, "spec", "template", "spec") as JsonObject;
        expect(field(pod, "securityContext", "runAsNonRoot")).toBe(true);
        expect((pod["volumes"] as JsonObject[]).every((v) => Object.keys(v).some((k) => RESTRICTED_VOLUMES.includes(k)))).toBe(true);
        for (const c of pod["containers"] as JsonObject[]) {
          expect(field(c, "securityContext", "allowPrivilegeEscalation")).toBe(false);
          expect(field(c, "securityContext", "capabilities", "drop")).toEqual(["ALL"]);
          expect(field(c, "securityContext", "seccompProfile", "type") ?? field(pod, "securityContext", "seccompProfile", "type")).toBe("RuntimeDefault");
        }
      });
  }
});

describe("the cluster level checks the platform's node policy again (a replica may be written by hand)", () => {
  const [first] = nodeScenarios();
  it.each([
    [
      "more nodes than tenancy.nodeLocal.maxNodesPerCluster",
      { storageClassNames: ["local-nvme"], maxNodesPerCluster: 2 },
      "spec.cluster.nodes: names 3 nodes, more than the 2",
    ],
    ["no node-local class offered", {}, "spec.replication: AllMatchingNodes is not offered here"],
    ["more disk per node than allowed", { storageClassNames: ["local-nvme"], maxSize: "10Gi" }, "spec.nodeLocal.size: 40Gi is more than the 10Gi"],
  ])("%s: Blocked, nothing new composed", (_why, nodeLocal, message) => {
    if (first === undefined) throw new Error("no scenario");
    const rsp = composeScenario({ ...first, input: { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", tenancy: { nodeLocal } } });
    expect(statusOf(rsp).phase).toBe("Blocked");
    expect(statusOf(rsp).message).toContain(message);
    expect(Object.keys(rsp.desired.resources)).toEqual([]);
  });
});

describe("no shared copy: the first node from the source pins the rest", () => {
  const byName = (name: string) => {
    const s = nodeScenarios().find((x) => x.name === name);
    if (s === undefined) throw new Error(`no scenario ${name}`);
    return composeScenario(s);
  };
  const jobsByNode = (rsp: ReturnType<typeof composeScenario>) =>
    Object.fromEntries(
      keysOfKind(rsp, "Job")
        .filter((k) => k.startsWith("nodejob-"))
        .map((k) => {
          const job = manifestAt(rsp, k);
          const [container] = field(job, "spec", "template", "spec", "containers") as JsonObject[];
          const args = field(container, "args") as string[];
          const i = args.indexOf("--expect-manifest-digest");
          return [String(field(job, "metadata", "annotations", NODE_ANNOTATION)), i < 0 ? "unpinned" : args[i + 1]];
        }),
    );
  const claimsOn = (rsp: ReturnType<typeof composeScenario>) =>
    keysOfKind(rsp, "PersistentVolumeClaim").map((k) => String(field(manifestAt(rsp, k), "metadata", "annotations", NODE_ANNOTATION)));

  it("first pass: one Job, on the first node by name, unpinned; nothing at all on the nodes that wait", () => {
    const rsp = byName("source-first-pass");
    expect(jobsByNode(rsp)).toEqual({ "gpu-node-0": "unpinned" });
    expect(claimsOn(rsp)).toEqual(["gpu-node-0"]);
    expect(statusOf(rsp).sharedPhase).toBe("Pending");
  });
  it("once the first node verified: its digest is the replica's (what the fleet pins) and every other node's Job expects it", () => {
    const rsp = byName("source-pinned");
    const status = statusOf(rsp);
    expect(status.sharedPhase).toBe("Ready");
    expect(status.manifestDigest).toMatch(/^sha256:/);
    expect(jobsByNode(rsp)).toEqual({ "gpu-node-1": status.manifestDigest, "gpu-node-2": status.manifestDigest });
    expect(claimsOn(rsp).sort()).toEqual(["gpu-node-0", "gpu-node-1", "gpu-node-2"]);
  });
});

describe("the shared copy verifying again while a node copies it: nothing running is dropped, nothing new starts", () => {
  const { before, after } = reverifyingScenario();
  const was = composeScenario(before);
  const rsp = composeScenario(after);
  const onNode = (r: ReturnType<typeof composeScenario>, node: string) =>
    Object.keys(r.desired.resources)
      .filter((k) => field(r.desired.resources[k]?.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION) === node)
      .sort();
  const keyed = (r: ReturnType<typeof composeScenario>, prefix: string, node: string) => onNode(r, node).filter((k) => k.startsWith(prefix));

  it("with the shared copy verified (before): gpu-node-1 copies, gpu-node-2's Job starts", () => {
    expect(statusOf(was).sharedPhase).toBe("Ready");
    expect(keyed(was, "nodejob-", "gpu-node-1")).toHaveLength(1);
    expect(keyed(was, "nodejob-", "gpu-node-2")).toHaveLength(1);
  });
  it("the replica says the shared copy is verifying; every node line says where it stands", () => {
    const status = statusOf(rsp);
    expect(status.sharedPhase).toBe("Verifying");
    expect(status.phase).toBe("Verifying");
    const line = (n: string) => status.nodes?.find((x) => x.name === n);
    expect(line("gpu-node-0")).toEqual(statusOf(was).nodes?.find((x) => x.name === "gpu-node-0"));
    expect(line("gpu-node-1")).toEqual({
      name: "gpu-node-1",
      phase: "Hydrating",
      claimName: line("gpu-node-1")?.claimName,
      attempts: 1,
      message: expect.stringMatching(
        /^copying from the cluster's copy: 4\.00 GiB of 15\.26 GiB \(26%\), about 11s left; the cluster's shared copy is not verified now \(Verifying: .*\): this Job goes on, and no new one starts until it is$/,
      ),
      bytesDone: 4294967296,
      bytesTotal: 16389206016,
      bytesPerSecond: 1073741824,
      etaSeconds: 11,
    });
    expect(line("gpu-node-2")).toEqual({
      name: "gpu-node-2",
      phase: "Pending",
      claimName: line("gpu-node-2")?.claimName,
      message: expect.stringMatching(/^waiting for the cluster's shared copy to be verified first: Verifying/),
    });
  });
  it("gpu-node-1's Job is kept exactly as observed; its claim and report composed as before", () => {
    const [job] = keyed(rsp, "nodejob-", "gpu-node-1");
    expect(job).toBeDefined();
    const observedJob = after.observed[job ?? ""]?.resource;
    expect(rsp.desired.resources[job ?? ""]?.resource).toEqual({
      apiVersion: observedJob?.["apiVersion"],
      kind: observedJob?.["kind"],
      spec: observedJob?.["spec"],
    });
    expect(onNode(rsp, "gpu-node-1")).toEqual(onNode(was, "gpu-node-1"));
    for (const key of onNode(rsp, "gpu-node-1").filter((k) => !k.startsWith("nodejob-")))
      expect(rsp.desired.resources[key]?.resource, key).toEqual(was.desired.resources[key]?.resource);
  });
  it("gpu-node-0 (Ready) is unchanged: the same claim and report, no Job", () => {
    expect(onNode(rsp, "gpu-node-0")).toEqual(onNode(was, "gpu-node-0"));
    for (const key of onNode(rsp, "gpu-node-0")) expect(rsp.desired.resources[key]?.resource, key).toEqual(was.desired.resources[key]?.resource);
    expect(keyed(rsp, "nodejob-", "gpu-node-0")).toEqual([]);
  });
  it("no new Job starts anywhere: gpu-node-2 gets nothing, the only node Job is gpu-node-1's", () => {
    expect(onNode(rsp, "gpu-node-2")).toEqual([]);
    expect(keysOfKind(rsp, "Job").filter((k) => k.startsWith("nodejob-"))).toEqual(keyed(rsp, "nodejob-", "gpu-node-1"));
  });
  it("the node account's Role still names gpu-node-1's report (its Job can write it) and gpu-node-0's", () => {
    const reports = ["gpu-node-0", "gpu-node-1"].flatMap((n) => keyed(rsp, "nodereport-", n).map((k) => String(field(manifestAt(rsp, k), "metadata", "name"))));
    expect(reports).toHaveLength(2);
    const role = manifestAt(rsp, "node-hydrator-role");
    expect(field(role, "rules")).toEqual([
      { apiGroups: [""], resources: ["configmaps"], resourceNames: [...reports].sort(), verbs: ["get", "update", "patch"] },
    ]);
    for (const key of ["node-hydrator-serviceaccount", "node-hydrator-rolebinding"])
      expect(rsp.desired.resources[key]?.resource, key).toEqual(was.desired.resources[key]?.resource);
  });
  it("every node object desired: the before set less gpu-node-2's Job, claim and report (never created)", () => {
    const gone = new Set(onNode(was, "gpu-node-2"));
    const nodeKeys = (r: ReturnType<typeof composeScenario>) =>
      Object.keys(r.desired.resources)
        .filter((k) => k.startsWith("node"))
        .sort();
    expect(gone.size).toBe(3);
    expect(nodeKeys(rsp)).toEqual(nodeKeys(was).filter((k) => !gone.has(k)));
  });
});

describe("the seed turns from the source to a shared copy while nodes copy from the source: their Jobs go on", () => {
  const { before, after } = sourceToSharedScenario();
  const was = composeScenario(before);
  const rsp = composeScenario(after);
  const nodeJobs = (r: ReturnType<typeof composeScenario>) => keysOfKind(r, "Job").filter((k) => k.startsWith("nodejob-"));

  it("the shared copy has only started: the replica waits on it, no node line is lost", () => {
    const status = statusOf(rsp);
    expect(status.sharedPhase).not.toBe("Ready");
    expect(Object.fromEntries((status.nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(after.nodes);
  });
  it("gpu-node-1's and gpu-node-2's Jobs (from the source) are kept exactly as observed; no other node Job", () => {
    expect(nodeJobs(was)).toHaveLength(2);
    expect(nodeJobs(rsp)).toEqual(nodeJobs(was));
    for (const key of nodeJobs(rsp)) {
      const observed = after.observed[key]?.resource;
      expect(rsp.desired.resources[key]?.resource, key).toEqual({ apiVersion: observed?.["apiVersion"], kind: observed?.["kind"], spec: observed?.["spec"] });
    }
  });
  it("every node claim and report stays, and the Role names the reports the kept Jobs write", () => {
    const nodeKeys = (r: ReturnType<typeof composeScenario>) =>
      Object.keys(r.desired.resources)
        .filter((k) => k.startsWith("nodevolume-") || k.startsWith("nodereport-"))
        .sort();
    expect(nodeKeys(rsp)).toEqual(nodeKeys(was));
    expect(field(manifestAt(rsp, "node-hydrator-role"), "rules")).toEqual(field(manifestAt(was, "node-hydrator-role"), "rules"));
  });
});

describe("a refetch or a new revision while a node copies: the old run's node Job stops, as the shared copy's does", () => {
  // The decided rule (docs/design.md, "Nodes joining, leaving, cordoned"): a node Job belongs to one run (claim,
  // refetch token, attempt). A refetch copies into the same node claim again, so the old Job may not write beside
  // the new one; a new revision's old Job copies superseded bytes into a claim no workload mounts before it is verified.
  const { before } = reverifyingScenario();
  const was = composeScenario(before);
  const spec = before.xr["spec"] as JsonObject;
  const next = (more: JsonObject) => composeScenario({ ...before, xr: { ...before.xr, spec: { ...spec, ...more } } });
  const onNode = (r: ReturnType<typeof composeScenario>, node: string, prefix: string) =>
    Object.keys(r.desired.resources)
      .filter((k) => k.startsWith(prefix))
      .filter((k) => field(r.desired.resources[k]?.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION) === node)
      .sort();

  it("a refetch: every node Job is gone (none new before the shared copy is verified again), every node claim stays, lines wait", () => {
    const rsp = next({ refetch: "2026-12-03" });
    expect(statusOf(rsp).sharedPhase).not.toBe("Ready");
    expect(keysOfKind(rsp, "Job").filter((k) => k.startsWith("nodejob-"))).toEqual([]);
    for (const node of ["gpu-node-0", "gpu-node-1"]) expect(onNode(rsp, node, "nodevolume-"), node).toEqual(onNode(was, node, "nodevolume-"));
    expect((statusOf(rsp).nodes ?? []).map((n) => [n.name, n.phase])).toEqual([
      ["gpu-node-0", "Pending"],
      ["gpu-node-1", "Pending"],
      ["gpu-node-2", "Pending"],
    ]);
  });
  it("a new revision (a new claim): the old node Job is gone, the old node claims stay, no Job on the new ones yet", () => {
    const rsp = next({ claimName: "qwen3-8b-7e0d4c2b91" });
    expect(statusOf(rsp).sharedPhase).not.toBe("Ready");
    expect(keysOfKind(rsp, "Job").filter((k) => k.startsWith("nodejob-"))).toEqual([]);
    for (const node of ["gpu-node-0", "gpu-node-1"]) {
      const old = onNode(was, node, "nodevolume-");
      expect(
        onNode(rsp, node, "nodevolume-").filter((k) => old.includes(k)),
        node,
      ).toEqual(old);
      for (const key of old) expect(rsp.desired.resources[key]?.resource, key).toEqual(keptAs(before.observed[key]?.resource));
    }
  });
});

function keptAs(r: JsonObject | undefined): Record<string, unknown> {
  return { apiVersion: r?.["apiVersion"], kind: r?.["kind"], spec: r?.["spec"] };
}

/** An earlier claim let go: as observed, its deletion allowed (retention's `*`), dropped on the next pass. */
function released(r: JsonObject | undefined): Record<string, unknown> {
  return { apiVersion: r?.["apiVersion"], kind: r?.["kind"], spec: { ...(r?.["spec"] as JsonObject), managementPolicies: ["*"] } };
}

/** Node claims desired that are neither on the cluster already (observed) nor filled by a node Job composed with them. */
function danglingClaims(rsp: ReturnType<typeof composeScenario>, observed: Scenario["observed"]): string[] {
  const filled = new Set(
    keysOfKind(rsp, "Job")
      .filter((k) => k.startsWith("nodejob-"))
      .flatMap((k) =>
        (field(manifestAt(rsp, k), "spec", "template", "spec", "volumes") as JsonObject[]).map((v) => field(v, "persistentVolumeClaim", "claimName")),
      ),
  );
  return keysOfKind(rsp, "PersistentVolumeClaim").filter(
    (k) => k.startsWith("nodevolume-") && observed[k] === undefined && !filled.has(field(manifestAt(rsp, k), "metadata", "name")),
  );
}

describe("a node claim is composed together with the Job that fills it, and kept once it is there", () => {
  const spec = (s: Scenario) => s.xr["spec"] as JsonObject;
  const changed = (s: Scenario, more: JsonObject): Scenario => ({ ...s, xr: { ...s.xr, spec: { ...spec(s), ...more } } });
  const cases: [string, Scenario][] = [
    ...nodeScenarios().map((s): [string, Scenario] => [s.name, s]),
    ["reverifying", reverifyingScenario().after],
    ["a refetch while nodes copy", changed(reverifyingScenario().before, { refetch: "2026-12-03" })],
    ["a new revision while nodes copy", changed(reverifyingScenario().before, { claimName: NEXT_CLAIM })],
    ...(["hydrating", "seeded", "ready"] as const).flatMap((p): [string, Scenario][] => [
      [`a new revision, ${p}`, newRevisionScenario()[p]],
      [`a new revision from the source, ${p}`, newRevisionScenario(true)[p]],
    ]),
    ["from the source, the first node's sixth attempt just failed", sourceGaveUpScenario().failed],
    ["from the source, the first node gave up earlier", sourceGaveUpScenario().gaveUp],
    [
      "a new revision while every node is cordoned",
      (() => {
        const s = newRevisionScenario().seeded;
        const cluster = spec(s)["cluster"] as JsonObject;
        return changed(s, { cluster: { ...cluster, nodes: (cluster["nodes"] as JsonObject[]).map((n) => ({ ...n, cordoned: true })) } });
      })(),
    ],
    [
      "a new revision while the node-local class is missing",
      (() => {
        const s = newRevisionScenario().seeded;
        const observed = Object.fromEntries(Object.entries(s.observed).filter(([k]) => k !== "node-storage-class"));
        const missing = composeScenario(s).desired.resources["node-storage-class"]?.resource ?? {};
        return { ...s, observed: { ...observed, "node-storage-class": observedObject("node-storage-class", missing, { missing: true }) } };
      })(),
    ],
  ];
  it.each(cases)("%s: no node claim without its Job", (_name, s) => {
    expect(danglingClaims(composeScenario(s), s.observed)).toEqual([]);
  });
});

describe("a new revision on a cluster whose nodes hold the earlier one: the earlier copy stays until the new one is verified", () => {
  for (const fromSource of [false, true]) {
    const passes = newRevisionScenario(fromSource);
    const was = composeScenario(passes.before);
    const oldClaims = keysOfKind(was, "PersistentVolumeClaim").filter((k) => k.startsWith("nodevolume-"));
    const newClaims = (r: ReturnType<typeof composeScenario>) => keysOfKind(r, "PersistentVolumeClaim").filter((k) => k.startsWith(`nodevolume-${NEXT_CLAIM}`));
    const nodeJobs = (r: ReturnType<typeof composeScenario>) => keysOfKind(r, "Job").filter((k) => k.startsWith("nodejob-"));
    const from = fromSource ? "from the source" : "from a shared copy";

    it(`${from}, its seed not verified yet: every node keeps its earlier claim as observed; only a node whose Job starts gets its new claim`, () => {
      const rsp = composeScenario(passes.hydrating);
      expect(oldClaims).toHaveLength(3);
      for (const key of oldClaims) expect(rsp.desired.resources[key]?.resource, key).toEqual(keptAs(passes.hydrating.observed[key]?.resource));
      // From the source the first node (by name) copies first, its claim with its Job; from a shared copy, no node yet.
      expect(newClaims(rsp).length).toBe(fromSource ? 1 : 0);
      expect(nodeJobs(rsp).length).toBe(fromSource ? 1 : 0);
      expect(Object.fromEntries((statusOf(rsp).nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(passes.hydrating.nodes);
    });
    it(`${from}, its seed verified: each node's new claim comes with its Job; an earlier claim kept as observed until that node's new copy is Ready`, () => {
      const rsp = composeScenario(passes.seeded);
      // From the source, gpu-node-0's verified copy is the seed: its earlier claim is let go, the other two start.
      const starting = fromSource ? 2 : 3;
      expect(nodeJobs(rsp)).toHaveLength(starting);
      expect(newClaims(rsp)).toHaveLength(3);
      const ready = new Set((statusOf(rsp).nodes ?? []).filter((n) => n.phase === "Ready").map((n) => n.name));
      expect(ready.size).toBe(3 - starting);
      for (const key of oldClaims) {
        const node = field(passes.seeded.observed[key]?.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION);
        const want = ready.has(String(node)) ? released(passes.seeded.observed[key]?.resource) : keptAs(passes.seeded.observed[key]?.resource);
        expect(rsp.desired.resources[key]?.resource, key).toEqual(want);
      }
    });
    it(`${from}, every node's new copy verified: the earlier claims are let go (deletion allowed, then dropped)`, () => {
      const rsp = composeScenario(passes.ready);
      expect(statusOf(rsp).phase).toBe("Ready");
      expect(newClaims(rsp)).toHaveLength(3);
      for (const key of oldClaims) {
        const left = rsp.desired.resources[key]?.resource;
        if (left !== undefined) expect(field(left, "spec", "managementPolicies"), key).toEqual(["*"]);
      }
    });
  }
});

describe("a node's line is read from what is observed, not only remembered: a lost status never turns a verified copy Pending", () => {
  const { before, after } = reverifyingScenario();
  /** The scenario with the replica's status.nodes lost (e.g. the status written by an older version, or restored without it). */
  const noLines = (s: Scenario): Scenario => {
    const { nodes: _lost, ...status } = s.xr["status"] as JsonObject;
    return { ...s, xr: { ...s.xr, status } };
  };
  /** gpu-node-0's copy verified on its second attempt: what attempt 2 left (its report; the Job dropped once verified), none of attempt 1. */
  const secondAttempt = (s: Scenario): Scenario => {
    const claim = nodeClaimName("qwen3-8b-3f9c2a1b7d", "gpu-node-0");
    const [first, second] = [nodeJobName(claim, "", 1), nodeJobName(claim, "", 2)];
    const report = s.observed[NODE_KEY.report(first)];
    if (report === undefined) throw new Error("no report of gpu-node-0's first attempt");
    const observed = Object.fromEntries(Object.entries(s.observed).filter(([k]) => k !== NODE_KEY.report(first)));
    observed[NODE_KEY.report(second)] = JSON.parse(JSON.stringify(report).split(first).join(second)) as typeof report;
    return { ...s, observed };
  };
  const line = (r: ReturnType<typeof composeScenario>, node: string) => statusOf(r).nodes?.find((n) => n.name === node);
  const onNode = (r: ReturnType<typeof composeScenario>, node: string) =>
    Object.keys(r.desired.resources)
      .filter((k) => field(r.desired.resources[k]?.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION) === node)
      .sort();

  it("the shared copy re-verifying, the Ready node's previous line missing: Ready, its line as with the line there, its objects as before", () => {
    const remembered = composeScenario(after);
    const rsp = composeScenario(noLines(after));
    expect(line(rsp, "gpu-node-0")?.phase).toBe("Ready");
    expect(line(rsp, "gpu-node-0")).toEqual(line(remembered, "gpu-node-0"));
    expect(onNode(rsp, "gpu-node-0")).toEqual(onNode(remembered, "gpu-node-0"));
    expect(statusOf(rsp).nodes).toEqual(statusOf(remembered).nodes);
  });
  it("the shared copy verified, a node verified on its second attempt, the lines missing: Ready on attempt 2, no Job started again, attempt 2's report kept", () => {
    const s = secondAttempt(noLines(before));
    const rsp = composeScenario(s);
    expect(line(rsp, "gpu-node-0")).toMatchObject({ phase: "Ready", attempts: 2 });
    expect(onNode(rsp, "gpu-node-0").filter((k) => k.startsWith("nodejob-"))).toEqual([]);
    const claim = nodeClaimName("qwen3-8b-3f9c2a1b7d", "gpu-node-0");
    expect(onNode(rsp, "gpu-node-0")).toEqual([NODE_KEY.report(nodeJobName(claim, "", 2)), NODE_KEY.volume(claim)].sort());
  });
  it("the shared copy re-verifying, a node verified on its second attempt, the lines missing: Ready on attempt 2, its objects kept", () => {
    const s = secondAttempt(noLines(after));
    const rsp = composeScenario(s);
    expect(line(rsp, "gpu-node-0")).toMatchObject({ phase: "Ready", attempts: 2 });
    const claim = nodeClaimName("qwen3-8b-3f9c2a1b7d", "gpu-node-0");
    expect(onNode(rsp, "gpu-node-0")).toEqual([NODE_KEY.report(nodeJobName(claim, "", 2)), NODE_KEY.volume(claim)].sort());
  });
});

describe("no shared copy, no pin: the first node gave up (every attempt failed), so the next one tries, one at a time", () => {
  const jobsOn = (r: ReturnType<typeof composeScenario>) =>
    keysOfKind(r, "Job")
      .filter((k) => k.startsWith("nodejob-"))
      .map((k) => String(field(manifestAt(r, k), "metadata", "annotations", NODE_ANNOTATION)));
  const claimsOn = (r: ReturnType<typeof composeScenario>) =>
    keysOfKind(r, "PersistentVolumeClaim").map((k) => String(field(manifestAt(r, k), "metadata", "annotations", NODE_ANNOTATION)));
  const { failed, gaveUp } = sourceGaveUpScenario();
  for (const [when, s] of [
    ["the pass that sees its sixth attempt fail", failed],
    ["a later pass (its Job dropped, its report the record)", gaveUp],
  ] as const)
    describe(when, () => {
      const rsp = composeScenario(s);
      const status = statusOf(rsp);
      const line = (n: string) => status.nodes?.find((x) => x.name === n);
      it("gpu-node-1 gets its claim and an unpinned Job from the source; gpu-node-2 nothing (never two unpinned copies at once)", () => {
        expect(jobsOn(rsp)).toEqual(["gpu-node-1"]);
        const job = manifestAt(rsp, keysOfKind(rsp, "Job").find((k) => k.startsWith("nodejob-")) ?? "");
        const [container] = field(job, "spec", "template", "spec", "containers") as JsonObject[];
        expect(field(container, "args")).not.toContain("--expect-manifest-digest");
        expect(claimsOn(rsp).sort()).toEqual(["gpu-node-0", "gpu-node-1"]);
      });
      it("gpu-node-0 is Failed, saying it gave up and how to try again; its claim and report stay, its Job goes", () => {
        expect(line("gpu-node-0")).toMatchObject({ phase: "Failed", attempts: 6 });
        expect(line("gpu-node-0")?.message).toMatch(/gave up: set a new refetch value on the ModelCache to try again$/);
        expect(line("gpu-node-0")?.message).toContain("no space left on device");
        expect(Object.keys(rsp.desired.resources).filter((k) => k.startsWith("nodereport-"))).toHaveLength(2);
      });
      it("gpu-node-2 waits for gpu-node-1, the line naming the node that gave up and the way to retry it", () => {
        expect(line("gpu-node-2")).toEqual({
          name: "gpu-node-2",
          phase: "Pending",
          claimName: line("gpu-node-2")?.claimName,
          message:
            "waiting for node gpu-node-1 to verify the first copy from the source (node gpu-node-0 gave up; set a new refetch value on the ModelCache to try it again): every other node then hydrates exactly those bytes",
        });
      });
      it("the replica is Failed naming gpu-node-0 (a person acts on it), nothing pinned yet", () => {
        expect(status.phase).toBe(s.phase);
        expect(status.message).toContain("failed on: gpu-node-0");
        expect(status.sharedPhase).toBe("Pending");
        expect(status.manifestDigest).toBeUndefined();
        expect(Object.fromEntries((status.nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(s.nodes);
      });
    });
});

describe("no shared copy, no pin, two nodes found copying unpinned at once: the first by name holds the turn, the other's Job goes on but never retries", () => {
  const s = twoUnpinnedScenario();
  const jobOf = (r: ReturnType<typeof composeScenario>, node: string) =>
    keysOfKind(r, "Job").filter((k) => k.startsWith("nodejob-") && field(manifestAt(r, k), "metadata", "annotations", NODE_ANNOTATION) === node);
  it("gpu-node-0 holds the turn (its Job composed as before); gpu-node-1's Job kept exactly as observed; gpu-node-2 gets nothing", () => {
    const rsp = composeScenario(s);
    const [held] = jobOf(rsp, "gpu-node-0");
    const [kept] = jobOf(rsp, "gpu-node-1");
    expect(held).toBeDefined();
    expect(rsp.desired.resources[kept ?? ""]?.resource).toEqual(keptAs(s.observed[kept ?? ""]?.resource));
    expect(jobOf(rsp, "gpu-node-2")).toEqual([]);
    expect(Object.fromEntries((statusOf(rsp).nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(s.nodes);
    expect(statusOf(rsp).nodes?.find((n) => n.name === "gpu-node-1")?.message).toMatch(
      /^copying from the source: .*; waiting for node gpu-node-0 to verify the first copy from the source: every other node then hydrates exactly those bytes: this Job goes on, and no new one starts until it is$/,
    );
  });
  it("gpu-node-1's attempt fails: no retry starts (its failed Job kept), it waits for gpu-node-0's copy", () => {
    const [kept] = jobOf(composeScenario(s), "gpu-node-1");
    const key = kept ?? "";
    const observed = { ...s.observed };
    const state = observed[key];
    if (state === undefined) throw new Error("no Job on gpu-node-1");
    const failedAt = "2024-01-01T00:30:00Z";
    const manifest = field(state.resource, "status", "atProvider", "manifest") as JsonObject;
    observed[key] = {
      ...state,
      resource: {
        ...state.resource,
        status: {
          ...(state.resource["status"] as JsonObject),
          atProvider: {
            manifest: {
              ...manifest,
              status: { failed: 5, conditions: [{ type: "Failed", status: "True", message: "BackoffLimitExceeded", lastTransitionTime: failedAt }] },
            },
          },
        },
      },
    };
    const rsp = composeScenario({ ...s, observed });
    expect(jobOf(rsp, "gpu-node-1")).toEqual([key]);
    expect(rsp.desired.resources[key]?.resource).toEqual(keptAs(observed[key]?.resource));
    expect(statusOf(rsp).nodes?.find((n) => n.name === "gpu-node-1")).toMatchObject({ phase: "Pending", attempts: 1 });
  });
});

describe("a node that gave up, its last pod killed before it wrote Failed (its report still says Hydrating): never re-run, the turn passes on", () => {
  const s = sourceGaveUpScenario().stale;
  const rsp = composeScenario(s);
  const status = statusOf(rsp);
  it("gpu-node-0 stays Failed (gave up), no Job re-created on it; gpu-node-1 gets the only node Job", () => {
    expect(status.nodes?.find((n) => n.name === "gpu-node-0")).toMatchObject({
      phase: "Failed",
      attempts: 6,
      message: "gave up after 6 attempts: hydration failed; set a new refetch value on the ModelCache to try again",
    });
    expect(
      keysOfKind(rsp, "Job")
        .filter((k) => k.startsWith("nodejob-"))
        .map((k) => field(manifestAt(rsp, k), "metadata", "annotations", NODE_ANNOTATION)),
    ).toEqual(["gpu-node-1"]);
    expect(Object.fromEntries((status.nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(s.nodes);
    expect(status.phase).toBe("Failed");
  });
});

describe("no shared copy, no pin, every node gave up (a failure of the source itself, found on each in turn): nothing runs until a refetch", () => {
  const s = sourceAllGaveUpScenario();
  const rsp = composeScenario(s);
  const status = statusOf(rsp);
  it("no node Job; every line Failed; the replica Failed naming them all; sharedPhase Failed (no copy to pin the bytes)", () => {
    expect(keysOfKind(rsp, "Job").filter((k) => k.startsWith("nodejob-"))).toEqual([]);
    expect(Object.fromEntries((status.nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(s.nodes);
    expect(status.phase).toBe("Failed");
    expect(status.message).toContain("failed on: gpu-node-0, gpu-node-1, gpu-node-2");
    expect(status.sharedPhase).toBe("Failed");
    expect(keysOfKind(rsp, "PersistentVolumeClaim").filter((k) => k.startsWith("nodevolume-"))).toHaveLength(3);
  });
  it("a refetch: the first node by name tries again, alone", () => {
    const spec = s.xr["spec"] as JsonObject;
    const again = composeScenario({ ...s, xr: { ...s.xr, spec: { ...spec, refetch: "2026-12-03" } } });
    expect(
      keysOfKind(again, "Job")
        .filter((k) => k.startsWith("nodejob-"))
        .map((k) => field(manifestAt(again, k), "metadata", "annotations", NODE_ANNOTATION)),
    ).toEqual(["gpu-node-0"]);
  });
});

/** The nodes that have a Job, and a claim, in a response (from their annotation). */
const nodeJobsIn = (r: ReturnType<typeof composeScenario>) =>
  keysOfKind(r, "Job")
    .filter((k) => k.startsWith("nodejob-"))
    .map((k) => String(field(manifestAt(r, k), "metadata", "annotations", NODE_ANNOTATION)));
const nodeClaimsIn = (r: ReturnType<typeof composeScenario>) =>
  keysOfKind(r, "PersistentVolumeClaim")
    .filter((k) => k.startsWith("nodevolume-"))
    .map((k) => String(field(manifestAt(r, k), "metadata", "annotations", NODE_ANNOTATION)));

describe("a node that gave up keeps its cause once its Job and report no longer say it (its line's lastError, kept in status)", () => {
  // The pass that saw the sixth attempt fail wrote the line; on the next, the Job is dropped and the killed pod's
  // report says Hydrating: only the status still knows why. (The report here has no `permanent`: an older
  // hydrator's, read as transient, so attempts and the hand-over go as they always did.)
  const { failed, stale } = sourceGaveUpScenario();
  const wrote = composeScenario(failed).desired.composite?.resource["status"] as JsonObject;
  const rsp = composeScenario({ ...stale, xr: { ...stale.xr, status: wrote } });
  const line = statusOf(rsp).nodes?.find((n) => n.name === "gpu-node-0");
  it("the pass that gives up records the error on the line", () => {
    expect((wrote["nodes"] as JsonObject[])[0]).toMatchObject({ name: "gpu-node-0", phase: "Failed", lastError: "writing /cache: no space left on device" });
  });
  it("a later pass still names it: lastError kept and in the message, not 'hydration failed'", () => {
    expect(line).toMatchObject({
      phase: "Failed",
      attempts: 6,
      lastError: "writing /cache: no space left on device",
      message: "gave up after 6 attempts: writing /cache: no space left on device; set a new refetch value on the ModelCache to try again",
    });
  });
});

describe("no shared copy, no pin: the first node's copy failed for good for a cause of the source itself (a refused token): no retry, not handed on", () => {
  const passes = sourcePermanentScenario("Source");
  for (const [when, s] of [
    ["the pass that sees its Job fail", passes.failed],
    ["a later pass (its Job dropped, its report the record)", passes.later],
    ["a later pass with its report gone too (only the status remembers)", passes.reportGone],
  ] as const)
    describe(when, () => {
      const rsp = composeScenario(s);
      const status = statusOf(rsp);
      const line = (n: string) => status.nodes?.find((x) => x.name === n);
      it("no node Job at all: gpu-node-0's is not retried, and no other node starts the source that refused it", () => {
        expect(nodeJobsIn(rsp)).toEqual([]);
        expect(nodeClaimsIn(rsp)).toEqual(["gpu-node-0"]);
      });
      it("gpu-node-0 is Failed with the cause (redacted: the echoed token is not in status) and what to fix", () => {
        const l = line("gpu-node-0");
        expect(l).toMatchObject({ phase: "Failed", attempts: 1, permanentFailure: "Source" });
        expect(l?.lastError).toBe('hf://Qwen/Qwen3-8B@main: 401 Unauthorized: the hub refused the token (its page says "Authorization: ***")');
        expect(l?.message).toBe(`attempt 1 failed: ${l?.lastError ?? ""}; not retried: ${PERMANENT_FIX.Source}`);
        expect(JSON.stringify(status)).not.toContain("not-a-real-token-0123");
      });
      it("the other nodes are Blocked, naming gpu-node-0 and the fix", () => {
        for (const n of ["gpu-node-1", "gpu-node-2"])
          expect(line(n)).toEqual({
            name: n,
            phase: "Blocked",
            claimName: line(n)?.claimName,
            message: `not started: the first copy from the source failed for good on node gpu-node-0, a failure of the source itself that every node would meet (its line has the error); ${PERMANENT_FIX.Source}`,
          });
      });
      it("the replica is Failed with reason PermanentFailure, naming gpu-node-0 and its cause (the ModelCache's line for the cluster says why); nothing pinned", () => {
        expect(status.phase).toBe("Failed");
        expect(status.message).toMatch(/; failed on: gpu-node-0 \(gpu-node-0: hf:\/\/Qwen\/Qwen3-8B@main: 401 Unauthorized: .*"Authorization: \*\*\*"\)\)$/);
        expect(rsp.conditions?.find((c) => c.type === "Hydrated")).toMatchObject({ status: "False", reason: "PermanentFailure" });
        expect(status.sharedPhase).toBe("Failed");
        expect(status.manifestDigest).toBeUndefined();
        expect(Object.fromEntries((status.nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(s.nodes);
      });
    });
  it("a refetch clears it: the first node by name tries again (attempt 1 under the new token), alone", () => {
    const s = passes.later;
    const spec = s.xr["spec"] as JsonObject;
    const again = composeScenario({ ...s, xr: { ...s.xr, spec: { ...spec, refetch: "2026-12-03" } } });
    expect(nodeJobsIn(again)).toEqual(["gpu-node-0"]);
    const l = statusOf(again).nodes?.find((n) => n.name === "gpu-node-0");
    expect(l).toMatchObject({ phase: "Pending", attempts: 1 });
    expect(l?.permanentFailure).toBeUndefined();
    expect(l?.lastError).toBeUndefined();
  });
});

describe("no shared copy, no pin: the first node's copy failed for good on its own volume (full): no retry there, the next node tries", () => {
  const passes = sourcePermanentScenario("Destination");
  for (const [when, s] of [
    ["the pass that sees its Job fail", passes.failed],
    ["a later pass (its Job dropped, its report the record)", passes.later],
    ["a later pass with its report gone too (only the status remembers)", passes.reportGone],
  ] as const)
    describe(when, () => {
      const rsp = composeScenario(s);
      const status = statusOf(rsp);
      const line = (n: string) => status.nodes?.find((x) => x.name === n);
      it("gpu-node-0 is Failed for good (Destination) and not retried; gpu-node-1 gets the one unpinned Job", () => {
        expect(line("gpu-node-0")).toMatchObject({ phase: "Failed", attempts: 1, permanentFailure: "Destination" });
        expect(line("gpu-node-0")?.message).toMatch(
          /^attempt 1 failed: \/cache: not enough free space in \/cache: .*; not retried: the volume itself failed it \(full, /,
        );
        expect(nodeJobsIn(rsp)).toEqual(["gpu-node-1"]);
      });
      it("gpu-node-2 waits for gpu-node-1, naming the node that gave up", () => {
        expect(line("gpu-node-2")?.message).toBe(
          "waiting for node gpu-node-1 to verify the first copy from the source (node gpu-node-0 gave up; set a new refetch value on the ModelCache to try it again): every other node then hydrates exactly those bytes",
        );
        expect(status.phase).toBe("Failed");
        expect(Object.fromEntries((status.nodes ?? []).map((n) => [n.name, n.phase]))).toEqual(s.nodes);
      });
    });
});
