import { describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1";
import { PersistentVolume, PersistentVolumeClaim, PodTemplateSpec, Service } from "kubernetes-models/v1";
import type { ConsumerMount } from "../../api/serving.ts";
import type { FunctionResponse, JsonObject } from "../../sdk/types.ts";
import { field, isObject } from "../../common/json.ts";
import { runFunction } from "../run-function.ts";
import { composeServing } from "./compose.ts";
import { composeScenario, deliver, requestOf, scenarios, type Scenario } from "../../../test/support/serving-scenarios.ts";
import {
  CLUSTER,
  V1_CLAIM,
  V1_PIN,
  V2_CLAIM,
  V2_PIN,
  deployment,
  modelCache,
  servingInput,
  servingRequest,
  wrapped,
} from "../../../test/support/serving-builders.ts";

/** The read-only claim bridging mc-ml-team/V1_CLAIM into namespace serving: the cache claim's name, "-ro-", a digest. */
const BRIDGED = "qwen3-8b-9b1e4d2c6a-ro-5c5fced115";

function lines(rsp: FunctionResponse): ConsumerMount[] {
  return (field(rsp.desired.composite?.resource, "status", "modelCaches") ?? []) as unknown as ConsumerMount[];
}
function workload(rsp: FunctionResponse): JsonObject {
  const m = field(rsp.desired.resources["workload"]?.resource, "spec", "forProvider", "manifest");
  if (!isObject(m)) throw new Error("no workload");
  return m;
}
const byName = (name: string): Scenario => {
  const s = scenarios().find((x) => x.name === name);
  if (s === undefined) throw new Error(name);
  return s;
};

describe("composeServing scenarios", () => {
  it.each(scenarios().map((s) => [s.name, s] as const))("%s", (_n, s) => {
    const rsp = composeScenario(s);
    expect(lines(rsp).map((l) => l.state)).toStrictEqual(s.want);
    expect(rsp.desired.resources["workload"] !== undefined).toBe(s.composedAfter);
    expect(rsp.results.filter((r) => r.severity === "Fatal")).toEqual([]);
    const c = rsp.conditions.find((x) => x.type === "ModelCachesReady");
    expect(c?.status).toBe(s.want.every((w) => w === "Mounted") ? "True" : "False");
    // Whatever else the platform's step composed passes through as it was.
    for (const [k, r] of Object.entries(s.composed)) if (k !== "workload") expect(rsp.desired.resources[k]?.resource).toStrictEqual(r);
  });
});

describe("what each state composes", () => {
  it("held: the condition names the cache, the cluster, phase, bytes and ETA; the XR is not ready", () => {
    const rsp = composeScenario(byName("hydrating-held"));
    const c = rsp.conditions.find((x) => x.type === "ModelCachesReady");
    expect(c).toStrictEqual({
      type: "ModelCachesReady",
      status: "False",
      reason: "Held",
      target: "Composite",
      message: `Held: ml-team/qwen3-8b on cluster ${CLUSTER}: Hydrating, 12.00 GiB of 16.00 GiB (75%), about 41s left; LeaderWorkerSet mc-ml-team/qwen3-8b-gang is not composed until then`,
    });
    expect(lines(rsp)).toStrictEqual([
      {
        resource: "workload",
        workload: "LeaderWorkerSet mc-ml-team/qwen3-8b-gang",
        cache: "ml-team/qwen3-8b",
        cluster: CLUSTER,
        state: "Held",
        phase: "Hydrating",
        bytesDone: 12 * 2 ** 30,
        bytesTotal: 16 * 2 ** 30,
        etaSeconds: 41,
        message: (c?.message ?? "").slice("Held: ".length),
      },
    ]);
    expect(rsp.desired.composite?.ready).toBe("False");
    expect(rsp.ttlSeconds).toBe(15);
    expect(rsp.requirements.resources).toStrictEqual({
      "modelcache.ml-team.qwen3-8b": { apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache", match: { name: "qwen3-8b" }, namespace: "ml-team" },
    });
  });

  it("mounted: the LeaderWorkerSet's leader and workers mount the verified claim; the record names claim and digest", () => {
    const rsp = composeScenario(byName("ready-mounted"));
    const m = workload(rsp);
    for (const t of ["leaderTemplate", "workerTemplate"]) {
      const tpl = field(m, "spec", "leaderWorkerTemplate", t) as JsonObject;
      expect(field(tpl, "spec", "volumes")).toContainEqual({ name: "mc-qwen3-8b", persistentVolumeClaim: { claimName: V1_CLAIM, readOnly: true } });
      expect(() => new PodTemplateSpec(tpl as never).validate()).not.toThrow();
    }
    expect(field(m, "metadata", "annotations", "modelcache.dev/mounts")).toBe(`ml-team/qwen3-8b=mc-ml-team/${V1_CLAIM}@${V1_PIN}`);
    expect(rsp.conditions).toStrictEqual([
      {
        type: "ModelCachesReady",
        status: "True",
        reason: "Mounted",
        target: "Composite",
        message: `1 cache mount(s) verified: ml-team/qwen3-8b on ${CLUSTER} for LeaderWorkerSet mc-ml-team/qwen3-8b-gang`,
      },
    ]);
    expect(() => new Service(field(rsp.desired.resources["service"]?.resource, "spec", "forProvider", "manifest") as never).validate()).not.toThrow();
  });

  it("a mounted workload is recorded for the control plane: one ConfigMap per workload and cache, labelled to be selected by cache, cluster and claim", () => {
    const rsp = composeScenario(byName("ready-mounted"));
    const leases = Object.entries(rsp.desired.resources).filter(([k]) => k.startsWith("modelcache-mount-"));
    expect(leases).toHaveLength(1);
    const [, st] = leases[0] ?? ["", { resource: {} }];
    expect(st.resource).toStrictEqual({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: expect.stringMatching(/^qwen3-8b-mount-[0-9a-f]{10}$/) as unknown as string,
        namespace: "ml-team",
        labels: {
          "modelcache.dev/cache": "qwen3-8b",
          "modelcache.dev/cache-namespace": "ml-team",
          "modelcache.dev/cluster": CLUSTER,
          "modelcache.dev/use": "Mounted",
          "modelcache.dev/claim": V1_CLAIM,
        },
      },
      data: {
        cache: "ml-team/qwen3-8b",
        cluster: CLUSTER,
        use: "Mounted",
        claim: `mc-ml-team/${V1_CLAIM}`,
        manifestDigest: V1_PIN,
        workload: "LeaderWorkerSet mc-ml-team/qwen3-8b-gang",
        consumer: "ServedModel ml-team/qwen3-8b",
      },
    });
  });

  it("a workload waiting for a cache records the demand (use Waiting, no claim); a refused or blocked one records nothing", () => {
    const records = (name: string) =>
      Object.entries(composeScenario(byName(name)).desired.resources)
        .filter(([k]) => k.startsWith("modelcache-mount-"))
        .map(([, r]) => r.resource);
    for (const name of ["hydrating-held", "drift-stopped"]) {
      const [r, ...more] = records(name);
      expect(more, name).toEqual([]);
      expect(field(r, "metadata", "labels"), name).toStrictEqual({
        "modelcache.dev/cache": "qwen3-8b",
        "modelcache.dev/cache-namespace": "ml-team",
        "modelcache.dev/cluster": CLUSTER,
        "modelcache.dev/use": "Waiting",
      });
      expect(field(r, "data", "claim"), name).toBeUndefined();
    }
    for (const name of ["tenancy-refused", "other-namespace-rwo", "no-cluster"]) expect(records(name), name).toEqual([]);
  });

  it("rollout, the old revision kept: the record names the old claim", () => {
    const rsp = composeScenario(byName("rollout-old-kept"));
    const lease = Object.entries(rsp.desired.resources).find(([k]) => k.startsWith("modelcache-mount-"))?.[1];
    expect(field(lease?.resource, "metadata", "labels", "modelcache.dev/claim")).toBe(V1_CLAIM);
  });

  it("rollout, new revision hydrating: the workload is exactly what it was on v1", () => {
    const s = byName("rollout-old-kept");
    const rsp = composeScenario(s);
    expect(workload(rsp)).toStrictEqual(field(s.observed["workload"]?.resource, "spec", "forProvider", "manifest"));
    expect(field(workload(rsp), "spec", "template", "spec", "volumes")).toContainEqual({
      name: "mc-qwen3-8b",
      persistentVolumeClaim: { claimName: V1_CLAIM, readOnly: true },
    });
    expect(lines(rsp)[0]?.message).toMatch(/new revision not verified yet .*Hydrating.*; the workload keeps qwen3-8b-9b1e4d2c6a$/);
  });

  it("rollout, new revision verified here: the workload moves to the new claim and records the new digest", () => {
    const rsp = composeScenario(byName("rollout-new-mounted"));
    const m = workload(rsp);
    expect(field(m, "spec", "template", "spec", "volumes")).toStrictEqual([
      { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "16Gi" } },
      { name: "mc-qwen3-8b", persistentVolumeClaim: { claimName: V2_CLAIM, readOnly: true } },
    ]);
    expect(field(m, "metadata", "annotations", "modelcache.dev/mounts")).toBe(`ml-team/qwen3-8b=mc-ml-team/${V2_CLAIM}@${V2_PIN}`);
    expect(lines(rsp)[0]?.message).toBe(`ml-team/qwen3-8b revision verified on cluster ${CLUSTER} (${V2_PIN}): moving from ${V1_CLAIM} to ${V2_CLAIM}`);
    expect(() => new Deployment(m as never).validate()).not.toThrow();
  });

  it("drift under a running Deployment: scaled to zero, same volumes, a Warning", () => {
    const rsp = composeScenario(byName("drift-stopped"));
    const m = workload(rsp);
    expect(field(m, "spec", "replicas")).toBe(0);
    expect(field(m, "spec", "template", "spec", "volumes")).toContainEqual({
      name: "mc-qwen3-8b",
      persistentVolumeClaim: { claimName: V1_CLAIM, readOnly: true },
    });
    expect(rsp.results.map((r) => r.reason)).toStrictEqual(["WorkloadStopped"]);
    expect(rsp.conditions[0]?.reason).toBe("Stopped");
  });

  it("another namespace: a Retain, read-only static volume with the same CSI handle, bound to a claim of its own name; the workload mounts that", () => {
    const rsp = composeScenario(byName("other-namespace"));
    const manifests = Object.values(rsp.desired.resources).map((r) => field(r.resource, "spec", "forProvider", "manifest") as JsonObject);
    const pv = manifests.find((m) => m["kind"] === "PersistentVolume" && field(m, "spec", "csi") !== undefined);
    expect(field(pv, "spec")).toStrictEqual({
      capacity: { storage: "40Gi" },
      accessModes: ["ReadOnlyMany"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      csi: {
        driver: "filestore.csi.storage.gke.io",
        volumeHandle: "modeInstance/us-east1-b/pvc-7d1f0c2e/vol1",
        readOnly: true,
        volumeAttributes: { ip: "10.0.0.2", volume: "vol1" },
      },
      claimRef: { namespace: "serving", name: BRIDGED },
    });
    const pvc = manifests.find((m) => m["kind"] === "PersistentVolumeClaim" && field(m, "metadata", "namespace") === "serving");
    expect(field(pvc, "metadata", "name")).toBe(BRIDGED);
    expect(field(pvc, "spec", "volumeName")).toBe(field(pv, "metadata", "name"));
    // Never the cache claim's name: a tenant's claim of that name in serving would be adopted, and deleted with the bridge.
    expect(manifests.filter((m) => field(m, "metadata", "namespace") === "serving" && field(m, "metadata", "name") === V1_CLAIM)).toStrictEqual([]);
    expect(() => new PersistentVolume(pv as never).validate()).not.toThrow();
    expect(() => new PersistentVolumeClaim(pvc as never).validate()).not.toThrow();
    expect(field(workload(rsp), "spec", "template", "spec", "volumes")).toContainEqual({
      name: "mc-qwen3-8b",
      persistentVolumeClaim: { claimName: BRIDGED, readOnly: true },
    });
  });

  it("another namespace on an RWO volume: Blocked with the fix", () => {
    const rsp = composeScenario(byName("other-namespace-rwo"));
    expect(lines(rsp)[0]?.message).toMatch(
      /is ReadWriteOnce: a single-node volume cannot be mounted from namespace serving; run the workload in namespace mc-ml-team, or set the ModelCache's spec.storage.pvc.accessMode to ReadWriteMany/,
    );
    expect(rsp.results.map((r) => r.reason)).toContain("CacheMountBlocked");
  });

  it("a cache the tenant may not use is neither asked for nor reported on", () => {
    const rsp = composeScenario(byName("tenancy-refused"));
    expect(rsp.requirements.resources).toStrictEqual({});
    expect(lines(rsp)).toStrictEqual([
      {
        resource: "workload",
        workload: "Deployment mc-ml-team/qwen3-8b",
        cache: "shared-models/qwen3-8b",
        cluster: CLUSTER,
        state: "Blocked",
        message:
          "ModelCache shared-models/qwen3-8b is in another namespace than the consumer (ml-team) and no input.serving.tenancy.grants entry lets ml-team mount it; Deployment mc-ml-team/qwen3-8b is not composed until then",
      },
    ]);
  });

  it("a cache just applied beside its consumer (no status yet) holds the workload, with no Blocked Warning: found live, where the consumer's first reconcile came before the cache's", () => {
    const fresh = modelCache("ready");
    delete fresh["status"];
    const rsp = composeServing(servingRequest({ desired: { workload: wrapped(deployment()) }, required: { "modelcache.ml-team.qwen3-8b": [fresh] } }), {
      mountInto: "AllContainers",
      tenancy: { grants: [] },
    });
    expect(rsp.desired.resources["workload"]).toBeUndefined();
    expect(rsp.conditions.find((x) => x.type === "ModelCachesReady")).toStrictEqual({
      type: "ModelCachesReady",
      status: "False",
      reason: "Held",
      target: "Composite",
      message: "Held: ModelCache ml-team/qwen3-8b has not reported its clusters yet; Deployment mc-ml-team/qwen3-8b is not composed until then",
    });
    expect(rsp.results).toStrictEqual([]);
  });

  it("a delivery gap never disturbs a running workload", () => {
    const s = byName("rollout-new-mounted");
    const rsp = composeServing(requestOf(s, {}), { mountInto: "AllContainers", tenancy: { grants: [] } });
    expect(workload(rsp)).toStrictEqual(field(s.observed["workload"]?.resource, "spec", "forProvider", "manifest"));
    expect(lines(rsp)[0]?.state).toBe("Kept");
  });

  it("a workload that asks for nothing passes through, and so does everything else", () => {
    const d = wrapped(deployment({}));
    const req = servingRequest({ desired: { workload: d } });
    const rsp = runFunction(req, { defaultHydratorImage: "x" });
    expect(rsp.desired.resources["workload"]?.resource).toBe(d);
    expect(rsp.conditions).toEqual([]);
    expect(rsp.results).toEqual([]);
  });

  it("a workload naming more caches than it may is Blocked, and Crossplane is asked for none of them", () => {
    const names = Array.from({ length: 17 }, (_, i) => `c${i}`).join(",");
    const rsp = composeServing(servingRequest({ desired: { workload: wrapped(deployment({ "modelcache.dev/caches": names })) } }), {
      mountInto: "AllContainers",
      tenancy: { grants: [] },
    });
    expect(rsp.requirements.resources).toStrictEqual({});
    expect(rsp.desired.resources["workload"]).toBeUndefined();
    expect(lines(rsp)).toHaveLength(16);
    expect(lines(rsp)[0]?.message).toBe(
      "Deployment mc-ml-team/qwen3-8b: modelcache.dev/caches names 17 caches; a workload may mount at most 16; Deployment mc-ml-team/qwen3-8b is not composed until then",
    );
  });

  it("a bad serving Input is Fatal naming the field, and drops nothing", () => {
    const d = wrapped(deployment());
    const rsp = runFunction(servingRequest({ desired: { workload: d }, input: servingInput({ mountInto: "Some" }) }), { defaultHydratorImage: "x" });
    expect(rsp.results).toHaveLength(1);
    expect(rsp.results[0]?.severity).toBe("Fatal");
    expect(rsp.results[0]?.message).toMatch(/^invalid function input: input\.serving\.mountInto: /);
    expect(rsp.desired.resources["workload"]?.resource).toBe(d);
  });

  it("the requirement names the cache exactly as written; Crossplane's answer is matched by name, never guessed", () => {
    const s = byName("deployment-ready");
    const first = composeServing(requestOf(s, {}), { mountInto: "AllContainers", tenancy: { grants: [] } });
    const wrong = {
      "modelcache.ml-team.qwen3-8b": [modelCache("ready", { namespace: "ml-team" })].map((c) => ({
        ...c,
        metadata: { name: "qwen3-8b-other", namespace: "ml-team" },
      })),
    };
    const rsp = composeServing(requestOf(s, wrong), { mountInto: "AllContainers", tenancy: { grants: [] } });
    expect(deliver(first, s.caches)["modelcache.ml-team.qwen3-8b"]).toHaveLength(1);
    expect(lines(rsp)[0]?.state).toBe("Held");
    expect(lines(rsp)[0]?.message).toMatch(/does not exist/);
  });

  it("the validators reject what Kubernetes would (so the checks above can fail)", () => {
    expect(() => new PersistentVolume({ metadata: { name: "x" }, spec: { accessModes: ["Sometimes"] } } as never).validate()).toThrow();
  });
});

describe("the serving examples", () => {
  it("are the scenarios, as scripts/examples/serving.ts writes them (run it after changing one)", async () => {
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { exampleFiles } = await import("../../../scripts/examples/serving.ts");
    const root = join(import.meta.dirname, "../../../examples");
    for (const [path, text] of Object.entries(exampleFiles())) expect(readFileSync(join(root, path), "utf8"), path).toBe(text);
  });
});
