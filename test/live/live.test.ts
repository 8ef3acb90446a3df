// The whole product on a live control plane: a real kube-apiserver, Crossplane
// core running as its own ServiceAccount, the Function installed as a package
// pulled from an OCI registry and served by this checkout with mutual TLS,
// provider-kubernetes applying Objects to two target API servers, and the
// node of each target played by this suite (test/live/support/node.ts). A
// platform's serving Composition (test/live/manifests/serving-*.yaml) runs
// its own step (the platform-step stand-in, installed the same way as
// function-serving-platform-step) and then the function's serving step.
// Started by `npm run test:live` (scripts/live/test.sh), which brings the
// control plane up first. Each step logs what it observed through the API.
import { createHash } from "node:crypto";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../support/function-server.ts";
import { startHubStandin, type HubStandin } from "../support/hf-hub-standin.ts";
import { PLATFORM_STEP_SERVER } from "../support/render.ts";
import { LiveFunction } from "./support/functions.ts";
import { at, conditionStatus, type Json, Kube, liveEnv, log, waitFor } from "./support/kube.ts";
import { NodePlayer } from "./support/node.ts";
import { ReferenceSubstrate, SUBSTRATE_DIR } from "./support/substrate.ts";
import { startGcsServer, type GcsServer } from "../support/gcs-server.ts";
import { startAzurite, type Azurite } from "../support/azurite.ts";
import { readFile } from "node:fs/promises";
import { parse } from "yaml";

const env = liveEnv();
if (env === undefined) throw new Error("the live control plane is not up: run `npm run test:live` (scripts/live/test.sh), which starts it");
const live = env;

const cp = new Kube("cp", live.kubectl, live.cpKubeconfig);
const edge = new Kube("edge", live.kubectl, live.edgeKubeconfig);
const targets = { local: cp, edge } as const;
const STORAGE_CLASS = "rwx-static";
const REPO = "acme/tiny-model";

let hub: HubStandin;
let commit = "";
const nodes: NodePlayer[] = [];
let edgeNode: NodePlayer;
let substrate: ReferenceSubstrate | undefined;
let gcsServer: GcsServer | undefined;
let azurite: Azurite | undefined;
/** ml-team/tiny's volume on edge and its digest, kept (Retain) when the cache is deleted: a pvcClone source later. */
let retainedOnEdge: { claim: string; namespace: string; manifestDigest: string } | undefined;

/**
 * The hydrator image the Jobs name. The node player runs this checkout
 * whatever the Pod names, so any image pinned by digest will do; a released
 * function image carries its own (docs/hydrator.md).
 */
const HYDRATOR_IMAGE = `ghcr.io/function-model-cache/function-model-cache@sha256:${createHash("sha256").update("live suite").digest("hex")}`;

/** The function as Crossplane's External runtime expects it: on the revision's endpoint, with the certificates signed by Crossplane's CA. */
const fn = new LiveFunction(
  "function",
  [BIN, "serve", "--address", `127.0.0.1:${live.fnPort}`, "--tls-certs-dir", live.fnTls, "--hydrator-image", HYDRATOR_IMAGE, "--debug"],
  live.state,
);
/** The platform's own step of the serving Composition, served the same way (by the same server, which asks for a hydrator image it never uses here). */
const platformStep = new LiveFunction(
  "platform-step",
  [
    PLATFORM_STEP_SERVER,
    "--address",
    `127.0.0.1:${live.platformStepPort}`,
    "--tls-certs-dir",
    live.platformStepTls,
    "--hydrator-image",
    HYDRATOR_IMAGE,
    "--debug",
  ],
  live.state,
);

function h100Devices(cluster: string, product = "NVIDIA H100 80GB HBM3"): Json[] {
  return [0, 1].map((g) => ({
    name: `${cluster}-gpu-${g}`,
    driver: "gpu.nvidia.com",
    deviceClassName: "gpu.nvidia.com",
    attributes: { productName: { string: product }, architecture: { string: product.includes("L40S") ? "Ada Lovelace" : "Hopper" } },
    capacity: { memory: { value: "80Gi" } },
  }));
}

/** An InferenceCluster as the seed platform publishes it: labels, cloud source, provider config, RWX class, GPU pools. */
async function inferenceCluster(name: string, labels: Record<string, string>, providerConfig: string, product?: string): Promise<void> {
  await cp.apply({
    apiVersion: "modelplane.ai/v1alpha1",
    kind: "InferenceCluster",
    metadata: { name, labels },
    spec: { cluster: { source: "Existing" }, storage: { csiDrivers: ["SharedFilesystem"] } },
  });
  await cp.patch(
    "inferencecluster",
    name,
    {
      status: {
        providerConfigRef: { kind: "ClusterProviderConfig", name: providerConfig },
        cache: { storageClassName: STORAGE_CLASS },
        gpuPools: [{ name: "pool-0", nodes: 1, devices: h100Devices(name, product) }],
      },
    },
    { subresource: "status" },
  );
}

/** Static volumes for the claims the caches will make: no provisioner runs here, so the binder matches these. */
async function staticVolumes(kube: Kube, count: number): Promise<void> {
  await kube.apply({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: STORAGE_CLASS },
    provisioner: "kubernetes.io/no-provisioner",
    volumeBindingMode: "Immediate",
    reclaimPolicy: "Retain",
  });
  const pvs: Json[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(live.state, "volumes", kube.name, `pv-${i}`);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777);
    pvs.push({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `${kube.name}-pv-${i}` },
      spec: {
        capacity: { storage: "10Gi" },
        accessModes: ["ReadWriteMany", "ReadWriteOnce", "ReadOnlyMany"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: STORAGE_CLASS,
        hostPath: { path: dir },
      },
    });
  }
  await kube.apply(pvs);
}

function modelCache(name: string, namespace: string, revision: string, extra: Json = {}): Json {
  return {
    apiVersion: "modelcache.dev/v1alpha1",
    kind: "ModelCache",
    metadata: { name, namespace },
    spec: {
      artifact: { kind: "Weights", source: { huggingFace: { repo: REPO, revision, endpoint: hub.endpoint } } },
      storage: { backend: "PVC", pvc: { size: "1Gi" } },
      clusterSelector: {
        matchLabels: { region: "lab" },
        cel: 'cluster.devices.exists(d, d.driver == "gpu.nvidia.com" && d.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))',
      },
      ...extra,
    },
  };
}

async function cacheStatus(name: string, namespace: string): Promise<Json> {
  return ((await cp.get("modelcache", name, namespace))?.["status"] ?? {}) as Json;
}

function clusterEntry(status: Json, cluster: string): Json | undefined {
  return ((status["clusters"] as Json[] | undefined) ?? []).find((c) => c["name"] === cluster);
}

const describeCache = (name: string, namespace: string) => async () => {
  const mc = await cp.get("modelcache", name, namespace);
  const st = (mc?.["status"] ?? {}) as Json;
  const conds = ((st["conditions"] as Json[] | undefined) ?? []).map(
    (c) => `${String(c["type"])}=${String(c["status"])}(${String(c["reason"])}${c["message"] ? `: ${String(c["message"]).slice(0, 160)}` : ""})`,
  );
  const clusters = ((st["clusters"] as Json[] | undefined) ?? []).map((c) => `${String(c["name"])}:${String(c["phase"])}`);
  return `ready=${String(st["ready"])} clusters=[${clusters.join(" ")}] ${conds.join(" ")}`;
};

/** Waits until the cache is Ready with every listed cluster Ready; returns its status. */
async function ready(name: string, namespace: string, clusters: string[], timeoutMs = 300_000): Promise<Json> {
  return waitFor(
    `ModelCache ${namespace}/${name} Ready on ${clusters.join(", ")}`,
    async () => {
      const mc = await cp.get("modelcache", name, namespace);
      const st = (mc?.["status"] ?? {}) as Json;
      if (conditionStatus(mc, "Ready") !== "True") return undefined;
      return clusters.every((c) => clusterEntry(st, c)?.["phase"] === "Ready") ? st : undefined;
    },
    { timeoutMs, describe: describeCache(name, namespace) },
  );
}

/** The claim and namespace a cluster holds a cache in, as its status reports them. */
function placement(status: Json, cluster: string): { claim: string; namespace: string } {
  const c = clusterEntry(status, cluster) ?? {};
  return { claim: String(c["claimName"] ?? status["claimName"]), namespace: String(c["namespace"] ?? status["namespace"]) };
}

/** The live suite's consumer: a ServedModel (test/live/manifests/serving-*.yaml) whose workload runs on edge. */
const CONSUMER = "tiny-server";
/** The Deployment its Composition composes, in the cache's namespace on the cluster. */
const WORKLOAD = "tiny-server";

function servedModel(): Json {
  return { apiVersion: "platform.example.org/v1alpha1", kind: "ServedModel", metadata: { name: CONSUMER, namespace: "team-b" }, spec: { model: "tiny" } };
}

function consumerCondition(xr: Json | undefined): Json | undefined {
  return ((at(xr, "status", "conditions") as Json[] | undefined) ?? []).find((c) => c["type"] === "ModelCachesReady");
}

const describeConsumer = async () => {
  const xr = await cp.get("servedmodel", CONSUMER, "team-b");
  const conds = ((at(xr, "status", "conditions") as Json[] | undefined) ?? []).map(
    (c) => `${String(c["type"])}=${String(c["status"])}(${String(c["reason"])}${c["message"] ? `: ${String(c["message"]).slice(0, 240)}` : ""})`,
  );
  const onEdge = (await edge.get("deployment", WORKLOAD, "mc-team-b")) === undefined ? "absent" : "present";
  return `${conds.join(" ") || "no conditions yet"}; Deployment on edge ${onEdge}; ${await describeCache("tiny", "team-b")()}`;
};

/** RunFunction calls the platform's step has answered: one per reconcile of a ServedModel. */
function platformStepCalls(): number {
  return platformStep.output.split('"msg":"RunFunction done"').length - 1;
}

beforeAll(async () => {
  hub = await startHubStandin();
  const files = [
    { path: "config.json", content: Buffer.from(JSON.stringify({ architectures: ["TinyForCausalLM"], hidden_size: 64 })) },
    { path: "tokenizer.json", content: Buffer.from(JSON.stringify({ version: "1.0", model: { type: "BPE" } })) },
    { path: "model.safetensors", content: Buffer.alloc(3 * 1024 * 1024 + 17, 7) },
  ];
  commit = hub.addRepo(REPO, files).commit;
  log(`hub stand-in on ${hub.endpoint}: ${REPO}@main = ${commit}`);
  await fn.start();
  await platformStep.start();
  for (const [kube, port] of [
    [cp, live.cpApiPort],
    [edge, live.edgeApiPort],
  ] as const) {
    await staticVolumes(kube, 16);
    const player = new NodePlayer(kube, port, live.ca, join(live.state, "pods", kube.name));
    player.start();
    nodes.push(player);
    if (kube === edge) edgeNode = player;
  }
  for (const ns of ["ml-team", "team-b"]) await cp.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  await inferenceCluster("local", { region: "lab", tier: "prod" }, "cp");
  await inferenceCluster("edge", { region: "lab", tier: "prod" }, "edge");
  await inferenceCluster("lab-l40s", { region: "lab" }, "edge", "NVIDIA L40S");
  await inferenceCluster("far-h100", { region: "far" }, "edge");
}, 120_000);

afterAll(async () => {
  await substrate?.stop();
  await gcsServer?.stop();
  await azurite?.stop();
  for (const n of nodes) await n.stop();
  await fn.stop("SIGTERM");
  await platformStep.stop("SIGTERM");
  await hub?.stop();
  if (process.env["FMC_LIVE_SHOW_FUNCTION_LOG"]) process.stdout.write(fn.output + platformStep.output);
});

describe("a ModelCache on a live control plane", () => {
  it("the API server itself refuses a spec the XRD refuses", async () => {
    const bad = modelCache("refused", "ml-team", "main");
    const source = at(bad, "spec", "artifact", "source") as Json;
    source["s3"] = { uri: "s3://bucket/prefix/" };
    await expect(cp.apply(bad)).rejects.toThrow(/exactly one|source/i);
    const unknown = modelCache("refused", "ml-team", "main", { replicas: 3 });
    await expect(cp.apply(unknown)).rejects.toThrow(/unknown field "spec.replicas"|replicas/);
  });

  it("fans out to the clusters its labels and CEL select, composes through provider-kubernetes, hydrates and pins", async () => {
    await cp.apply(modelCache("tiny", "ml-team", "main"));
    const replicas = await waitFor(
      "a ModelCacheReplica for each selected cluster (local, edge), none for lab-l40s or far-h100",
      async () => {
        const rs = await cp.list("modelcachereplicas", { namespace: "ml-team" });
        const clusters = rs.map((r) => String(at(r, "spec", "cluster", "name"))).sort();
        return clusters.join(",") === "edge,local" ? rs : undefined;
      },
      { describe: describeCache("tiny", "ml-team") },
    );
    log(
      `replicas: ${replicas.map((r) => `${String(at(r, "metadata", "name"))} -> ${String(at(r, "spec", "cluster", "name"))} (contract ${String(at(r, "spec", "contractHash"))})`).join("; ")}`,
    );

    const hash = String(at(await cacheStatus("tiny", "ml-team"), "replicaContract", "hash"));
    const contract = await cp.get("configmap", `tiny-contract-${hash}`, "ml-team");
    expect(contract, `contract ConfigMap tiny-contract-${hash}`).toBeDefined();
    log(`contract ConfigMap ml-team/tiny-contract-${hash}: ${Object.keys((contract?.["data"] ?? {}) as Json).join(", ")}`);

    const objects = await waitFor("provider-kubernetes Objects for both replicas", async () => {
      const os = await cp.list("objects.kubernetes.m.crossplane.io", { namespace: "ml-team" });
      return os.length >= 2 ? os : undefined;
    });
    log(
      `Objects: ${objects
        .map((o) => `${String(at(o, "spec", "forProvider", "manifest", "kind"))}@${String(at(o, "spec", "providerConfigRef", "name"))}`)
        .sort()
        .join(" ")}`,
    );

    const st = await ready("tiny", "ml-team", ["local", "edge"]);
    expect(at(st, "pin", "resolvedRevision")).toBe(commit);
    expect(String(at(st, "pin", "manifestDigest"))).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(st["ready"]).toBe("2/2");
    const row = await cp.kubectl(["get", "modelcache", "tiny", "-n", "ml-team"]);
    log(`kubectl get modelcache:\n${row}`);
    expect(row).toContain(commit);

    for (const [name, kube] of Object.entries(targets)) {
      const { claim, namespace } = placement(st, name);
      const pvc = await kube.get("pvc", claim, namespace);
      expect(at(pvc, "status", "phase"), `${name}: PVC ${namespace}/${claim}`).toBe("Bound");
      const ns = await kube.get("namespace", namespace);
      expect(at(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce")).toBe("restricted");
      for (const kind of ["serviceaccount", "role", "rolebinding", "configmap", "job"]) {
        const items = await kube.list(kind, { namespace });
        log(`${name}: ${kind}s in ${namespace}: ${items.map((i) => String(at(i, "metadata", "name"))).join(", ")}`);
      }
      const report = (await kube.list("configmap", { namespace })).find((c) => typeof at(c, "data", "report.json") === "string");
      expect(report, `${name}: a report ConfigMap the hydrator wrote through the API server`).toBeDefined();
      expect(JSON.parse(String(at(report, "data", "report.json")))).toMatchObject({ phase: "Ready" });
    }
    expect(nodes.flatMap((n) => n.runs).filter((r) => r.exitCode === 0).length).toBeGreaterThanOrEqual(2);
  });

  // A platform's consumer (test/live/manifests/serving-*.yaml): a ServedModel in team-b whose Composition runs the
  // platform's own step (a Deployment on edge, in an Object, asking for the cache `tiny`) and then the serving step.
  // team-b's cache is made here, beside the consumer, while edge's node does not start Pods: its replica on edge
  // cannot be Ready until the node is let go.
  it("a second team's cache with a consumer on edge: while edge's replica is not Ready, the workload is not on edge and the consumer says why", async () => {
    edgeNode.held = true;
    await cp.apply([modelCache("tiny", "team-b", "main", { clusterSelector: { matchLabels: { region: "lab", tier: "prod" } } }), servedModel()]);
    // Each new observation of the consumer is logged: whatever it says before the cache reports edge shows here.
    const held = await waitFor(
      "the ServedModel held: ModelCachesReady False (Held), naming team-b/tiny and edge",
      async () => {
        const c = consumerCondition(await cp.get("servedmodel", CONSUMER, "team-b"));
        return c?.["status"] === "False" && c["reason"] === "Held" && /team-b\/tiny/.test(String(c["message"])) && /\bedge\b/.test(String(c["message"]))
          ? c
          : undefined;
      },
      { timeoutMs: 180_000, describe: describeConsumer },
    );
    log(`ModelCachesReady=${String(held["status"])} (${String(held["reason"])}): ${String(held["message"])}`);
    // local hydrates meanwhile: the gate is per cluster, the consumer's cluster is edge.
    await waitFor(
      "team-b/tiny Ready on local, not on edge",
      async () => {
        const s = await cacheStatus("tiny", "team-b");
        return clusterEntry(s, "local")?.["phase"] === "Ready" ? s : undefined;
      },
      { timeoutMs: 300_000, describe: describeCache("tiny", "team-b") },
    );
    // Whole reconciles of the consumer after local became Ready (its requeue while held is 15 s) still hold it: the
    // platform's step runs once at the start of each, so its second call means the first one's pipeline ended.
    const calls = platformStepCalls();
    await waitFor("two more reconciles of the ServedModel", async () => (platformStepCalls() >= calls + 2 ? true : undefined), {
      timeoutMs: 120_000,
      describe: describeConsumer,
    });
    const after = consumerCondition(await cp.get("servedmodel", CONSUMER, "team-b")) ?? {};
    expect(after["status"]).toBe("False");
    expect(after["reason"]).toBe("Held");
    const st = await cacheStatus("tiny", "team-b");
    const edgeLine = clusterEntry(st, "edge");
    log(`team-b/tiny: local ${String(clusterEntry(st, "local")?.["phase"])}, edge ${String(edgeLine?.["phase"])} (its pod not started)`);
    expect(edgeLine?.["phase"]).not.toBe("Ready");
    expect(await edge.get("deployment", WORKLOAD, "mc-team-b"), "no Deployment on edge while its replica there is not Ready").toBeUndefined();
    const objects = await cp.list("objects.kubernetes.m.crossplane.io", { namespace: "team-b", selector: `crossplane.io/composite=${CONSUMER}` });
    log(
      `Objects of the ServedModel: ${objects.length === 0 ? "none" : objects.map((o) => String(at(o, "spec", "forProvider", "manifest", "kind"))).join(", ")}`,
    );
    expect(objects).toEqual([]);
    const lines = (at(await cp.get("servedmodel", CONSUMER, "team-b"), "status", "modelCaches") ?? []) as Json[];
    log(`status.modelCaches: ${JSON.stringify(lines)}`);
    expect(lines).toMatchObject([{ cache: "team-b/tiny", cluster: "edge", state: "Held" }]);
    const waiting = await cp.list("configmap", { namespace: "team-b", selector: "modelcache.dev/cache=tiny,modelcache.dev/use=Waiting" });
    log(
      `records of use: ${waiting.map((c) => `${String(at(c, "metadata", "name"))} (${String(at(c, "data", "use"))} on ${String(at(c, "data", "cluster"))})`).join(", ")}`,
    );
    expect(waiting.map((c) => at(c, "data", "cluster"))).toEqual(["edge"]);
  });

  it("once edge's replica is Ready, the workload appears on edge with the cache's claim mounted read-only at the cache's mountPath", async () => {
    log("letting edge's node start Pods");
    edgeNode.held = false;
    const st = await ready("tiny", "team-b", ["local", "edge"]);
    const { claim, namespace } = placement(st, "edge");
    expect(namespace).toBe("mc-team-b");
    const mountPath = String(st["mountPath"]);
    const dep = await waitFor(`Deployment ${namespace}/${WORKLOAD} on edge`, async () => edge.get("deployment", WORKLOAD, namespace), {
      timeoutMs: 180_000,
      describe: describeConsumer,
    });
    const pod = (at(dep, "spec", "template", "spec") ?? {}) as Json;
    const volumes = (pod["volumes"] as Json[] | undefined) ?? [];
    const mounts = (at(pod, "containers", 0, "volumeMounts") as Json[] | undefined) ?? [];
    log(`edge: Deployment ${namespace}/${WORKLOAD}: volumes ${JSON.stringify(volumes)}; server mounts ${JSON.stringify(mounts)}`);
    const volume = volumes.find((v) => at(v, "persistentVolumeClaim", "claimName") === claim);
    expect(volume, `a volume of claim ${claim}`).toMatchObject({ persistentVolumeClaim: { claimName: claim, readOnly: true } });
    expect(mounts).toContainEqual(expect.objectContaining({ name: volume?.["name"], mountPath, readOnly: true }));
    expect(at(dep, "metadata", "annotations", "modelcache.dev/mounts")).toBe(`team-b/tiny=${namespace}/${claim}@${String(at(st, "pin", "manifestDigest"))}`);
    const c = await waitFor(
      "the ServedModel's ModelCachesReady True (Mounted)",
      async () => {
        const cond = consumerCondition(await cp.get("servedmodel", CONSUMER, "team-b"));
        return cond?.["status"] === "True" ? cond : undefined;
      },
      { describe: describeConsumer },
    );
    log(`ModelCachesReady=${String(c["status"])} (${String(c["reason"])}): ${String(c["message"])}`);
    expect(c["reason"]).toBe("Mounted");
    const mounted = await cp.list("configmap", { namespace: "team-b", selector: "modelcache.dev/cache=tiny,modelcache.dev/use=Mounted" });
    expect(mounted.map((m) => at(m, "data", "claim"))).toEqual([`${namespace}/${claim}`]);
  });

  it("a changed revision rolls out on a new volume, with the function restarted mid-reconcile; the old volume goes once the new one is verified", async () => {
    const before = await cacheStatus("tiny", "ml-team");
    const old = placement(before, "edge");
    await cp.patch("modelcache", "tiny", { spec: { artifact: { source: { huggingFace: { revision: commit } } } } }, { namespace: "ml-team" });
    await new Promise((r) => setTimeout(r, 1500));
    log("killing the function mid-reconcile (SIGKILL), then starting it again");
    await fn.stop("SIGKILL");
    await new Promise((r) => setTimeout(r, 3000));
    await fn.start();
    const st = await waitFor(
      "the new revision Ready on both clusters under a new claim",
      async () => {
        const s = await cacheStatus("tiny", "ml-team");
        const now = placement(s, "edge");
        return s["ready"] === "2/2" && now.claim !== old.claim && clusterEntry(s, "edge")?.["phase"] === "Ready" ? s : undefined;
      },
      { timeoutMs: 300_000, describe: describeCache("tiny", "ml-team") },
    );
    const fresh = placement(st, "edge");
    log(`edge: ${old.claim} -> ${fresh.claim}`);
    expect(at(await edge.get("pvc", fresh.claim, fresh.namespace), "status", "phase")).toBe("Bound");
    await waitFor(`the old claim ${old.claim} removed from edge`, async () =>
      (await edge.get("pvc", old.claim, old.namespace)) === undefined ? true : undefined,
    );
  });

  it("a refetch annotation hydrates again under a new Job", async () => {
    const runs = nodes.flatMap((n) => n.runs).length;
    await cp.kubectl(["annotate", "modelcache", "tiny", "-n", "ml-team", "modelcache.dev/refetch=live-1", "--overwrite"]);
    await waitFor("a new hydration pod on each cluster", async () => (nodes.flatMap((n) => n.runs).length >= runs + 2 ? true : undefined), {
      timeoutMs: 240_000,
      describe: describeCache("tiny", "ml-team"),
    });
    await ready("tiny", "ml-team", ["local", "edge"]);
    const replicas = await cp.list("modelcachereplicas", { namespace: "ml-team" });
    for (const r of replicas) expect(at(r, "status", "observedRefetch")).toBe("live-1");
  });

  it("a cluster that stops matching keeps its replica and its data (Retain)", async () => {
    const st0 = await cacheStatus("tiny", "ml-team");
    const { claim, namespace } = placement(st0, "edge");
    await cp.kubectl(["label", "inferencecluster", "edge", "region=far", "--overwrite"]);
    await waitFor(
      "edge reported as no longer selected",
      async () => {
        const s = await cacheStatus("tiny", "ml-team");
        return clusterEntry(s, "edge")?.["selected"] === false ? s : undefined;
      },
      { describe: describeCache("tiny", "ml-team") },
    );
    expect((await cp.list("modelcachereplicas", { namespace: "ml-team" })).length).toBe(2);
    expect(await edge.get("pvc", claim, namespace)).toBeDefined();
    await cp.kubectl(["label", "inferencecluster", "edge", "region=lab", "--overwrite"]);
    // A retained cluster keeps its last phase (Ready): wait until it is selected again, not merely Ready.
    await waitFor(
      "edge selected again",
      async () => {
        const s = await cacheStatus("tiny", "ml-team");
        return s["ready"] === "2/2" && clusterEntry(s, "edge")?.["selected"] !== false ? s : undefined;
      },
      { describe: describeCache("tiny", "ml-team") },
    );
  });

  it("a deleted cluster keeps its replica and its data: a vanished cluster is a gap, not a decision", async () => {
    const st0 = await cacheStatus("tiny", "ml-team");
    const { claim, namespace } = placement(st0, "edge");
    const saved = await cp.get("inferencecluster", "edge");
    await cp.delete("inferencecluster", "edge", undefined, true);
    expect(await cp.get("inferencecluster", "edge")).toBeUndefined();
    // Crossplane does not watch required resources: nudge a reconcile rather than wait for the poll.
    await cp.kubectl(["annotate", "modelcache", "tiny", "-n", "ml-team", "live.modelcache.dev/nudge=deleted", "--overwrite"]);
    // A gap is not a decision: the replica, its last phase and its place in the count stay; its line says why.
    await waitFor(
      "the cache reports edge as not delivered and keeps its replica",
      async () => {
        const s = await cacheStatus("tiny", "ml-team");
        const e = clusterEntry(s, "edge");
        return String(e?.["message"] ?? "").includes("is not among the delivered InferenceClusters; its replica is kept unchanged") ? s : undefined;
      },
      { timeoutMs: 300_000, describe: describeCache("tiny", "ml-team") },
    );
    expect((await cp.list("modelcachereplicas", { namespace: "ml-team" })).map((r) => at(r, "spec", "cluster", "name")).sort()).toEqual(["edge", "local"]);
    expect(await edge.get("pvc", claim, namespace)).toBeDefined();
    // The cluster comes back: the cache converges again.
    await inferenceCluster("edge", (at(saved, "metadata", "labels") ?? {}) as Record<string, string>, "edge");
    await ready("tiny", "ml-team", ["local", "edge"]);
  });

  it("deleting a ModelCache removes its replicas and Jobs, keeps its volumes (Retain), and touches nothing of another cache", async () => {
    const a = await cacheStatus("tiny", "ml-team");
    retainedOnEdge = { ...placement(a, "edge"), manifestDigest: String(at(a, "pin", "manifestDigest")) };
    const b = await cacheStatus("tiny", "team-b");
    await cp.delete("modelcache", "tiny", "ml-team");
    await waitFor(
      "ml-team/tiny and its replicas gone",
      async () => {
        const mc = await cp.get("modelcache", "tiny", "ml-team");
        const rs = await cp.list("modelcachereplicas", { namespace: "ml-team" });
        return mc === undefined && rs.length === 0 ? true : undefined;
      },
      { timeoutMs: 180_000 },
    );
    for (const [name, kube] of Object.entries(targets)) {
      const pa = placement(a, name);
      const pb = placement(b, name);
      expect(await kube.get("pvc", pa.claim, pa.namespace), `${name}: ml-team's volume kept (Retain)`).toBeDefined();
      expect(at(await kube.get("pvc", pb.claim, pb.namespace), "status", "phase"), `${name}: team-b's volume untouched`).toBe("Bound");
    }
    const still = await ready("tiny", "team-b", ["local", "edge"], 60_000);
    expect(at(still, "pin", "resolvedRevision")).toBe(commit);
  });
});

// The Custom backend end to end: the reference substrate (examples/custom-backend-reference, its CRD, RBAC and
// controller as a reader would copy them) serves a cache on edge; the function composes its ModelVolume through
// provider-kubernetes, reads back what the controller reports, and pins the fleet from it.
describe("a ModelCache on the Custom backend's reference substrate", () => {
  it("the platform allows the substrate; the controller fills and verifies a claim on edge; the cache is Ready with the digest it reports", async () => {
    substrate = new ReferenceSubstrate(edge, live.edgeApiPort, live.ca, join(live.state, "substrate"), { image: HYDRATOR_IMAGE, storageClass: STORAGE_CLASS });
    await substrate.start();
    // What the platform engineer adds to both Compositions' Input (the example's input.yaml, as written).
    const input = parse(await readFile(join(SUBSTRATE_DIR, "input.yaml"), "utf8")) as Json;
    const backends = at(input, "tenancy", "customBackends");
    for (const composition of ["modelcaches.modelcache.dev", "modelcachereplicas.modelcache.dev"])
      await cp.patch("composition", composition, [{ op: "add", path: "/spec/pipeline/0/input/tenancy/customBackends", value: backends }] as unknown as Json, {
        type: "json",
      });
    log(`Compositions allow customBackends: ${JSON.stringify(backends)}`);

    await cp.apply(
      modelCache("custom", "ml-team", "main", {
        storage: { backend: "Custom", custom: { substrate: "reference", size: "1Gi" } },
        clusterSelector: { matchLabels: { region: "lab" }, cel: 'cluster.name == "edge"' },
      }),
    );
    const st = await ready("custom", "ml-team", ["edge"]);
    expect(at(st, "pin", "resolvedRevision")).toBe(commit);
    const digest = String(at(st, "pin", "manifestDigest"));
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(st["ready"]).toBe("1/1");

    // On edge: the ModelVolume the function composed, served by the controller, reporting the pinned digest.
    const { claim, namespace } = placement(st, "edge");
    const volumes = await edge.list("modelvolumes.volumes.example.com", { namespace });
    log(
      `edge: ModelVolumes in ${namespace}: ${volumes.map((v) => `${String(at(v, "metadata", "name"))} (claim ${String(at(v, "spec", "claimName"))})`).join(", ")}`,
    );
    const volume = volumes.find((v) => at(v, "spec", "claimName") === claim);
    expect(volume, `a ModelVolume for claim ${claim}`).toBeDefined();
    expect(at(volume, "spec", "cache")).toMatchObject({ name: "custom", namespace: "ml-team", cluster: "edge" });
    expect(at(volume, "status", "manifestDigest")).toBe(digest);
    expect(conditionStatus(volume, "Ready")).toBe("True");
    expect(at(await edge.get("pvc", claim, namespace), "status", "phase")).toBe("Bound");
    // The hydrator ran as the controller's Job, wrote its report with the Role the controller made, and verified.
    const run = edgeNode.runs.find(
      (r) => r.namespace === namespace && r.args.includes("--report-configmap") && r.exitCode === 0 && r.args.some((a) => a.includes("hydrate-")),
    );
    expect(run, `a hydration Pod of the controller's Job on edge: ${edgeNode.runs.map((r) => r.name).join(", ")}`).toBeDefined();
    expect(substrate.running, substrate.output).toBe(true);
    const row = await cp.kubectl(["get", "modelcache", "custom", "-n", "ml-team"]);
    log(`kubectl get modelcache:\n${row}`);
    expect(row).toContain(commit);
  });
});

// A pvcClone source on a real cluster: the volume ml-team/tiny left on edge (Retain) is the source of a new cache in
// the same namespace there. No CSI driver runs here to clone with, so the copy path: a Job mounts the source claim
// read-only, copies it through the hydrator's pvc:// reader checking every file against the source's manifest, and
// the new cache has the source's manifest digest.
describe("a ModelCache copied from a volume already on the cluster (pvcClone)", () => {
  it("copies the retained volume on edge into a claim of its own, verified to the source's manifest digest", async () => {
    const source = retainedOnEdge;
    if (source === undefined) throw new Error("the deletion step did not record ml-team/tiny's volume on edge");
    log(`pvcClone source on edge: ${source.namespace}/${source.claim} (${source.manifestDigest})`);
    await cp.apply({
      apiVersion: "modelcache.dev/v1alpha1",
      kind: "ModelCache",
      metadata: { name: "copied", namespace: "ml-team" },
      spec: {
        artifact: { kind: "Weights", source: { pvcClone: { claimName: source.claim, method: "Copy" } } },
        storage: { backend: "PVC", pvc: { size: "1Gi" } },
        clusterSelector: { matchLabels: { region: "lab" }, cel: 'cluster.name == "edge"' },
      },
    });
    const st = await ready("copied", "ml-team", ["edge"]);
    expect(at(st, "pin", "manifestDigest")).toBe(source.manifestDigest);
    const { claim, namespace } = placement(st, "edge");
    expect(claim).not.toBe(source.claim);
    expect(namespace).toBe(source.namespace);
    expect(at(await edge.get("pvc", claim, namespace), "status", "phase")).toBe("Bound");
    // The copy Job read the source through pvc:// with the source claim mounted read-only.
    const run = edgeNode.runs.find((r) => r.namespace === namespace && r.exitCode === 0 && r.args.some((a) => a.startsWith("pvc://")));
    expect(run, `a copy Pod on edge: ${edgeNode.runs.map((r) => `${r.name} ${r.args.join(" ")}`).join("; ")}`).toBeDefined();
    log(`copy Pod ${run?.name ?? ""}: ${run?.args.join(" ") ?? ""}`);
    // The source is untouched: still Bound, and not deleted with anything.
    expect(at(await edge.get("pvc", source.claim, source.namespace), "status", "phase")).toBe("Bound");
  });
});

// The cloud object stores' sources on a real control plane, against real emulators (fake-gcs-server, Azurite):
// the function composes the Jobs, the node player runs the hydrator, which resolves each object to its exact
// generation or version, checks the store's own checksums besides SHA-256, and the fleet pins what it verified.
describe("ModelCaches from Cloud Storage and Azure Blob Storage", () => {
  it("gs:// and azure:// prefixes hydrate on edge and pin what each object was read at (GCS generations; ETags, since Azurite keeps no versions)", async () => {
    const files: [string, Buffer][] = [
      ["config.json", Buffer.from(JSON.stringify({ architectures: ["TinyForCausalLM"] }))],
      ["model.safetensors", Buffer.alloc(2 * 1024 * 1024 + 5, 3)],
    ];
    gcsServer = await startGcsServer("memory");
    await gcsServer.sdk.createBucket("models", { versioning: { enabled: true } });
    for (const [name, body] of files) await gcsServer.sdk.bucket("models").file(`tiny/${name}`).save(body, { resumable: false });
    azurite = await startAzurite();
    const container = azurite.admin().getContainerClient("models");
    // A public container: no credential is sent anywhere (a private one takes a Secret, tested in test/hydrator/).
    await container.create({ access: "container" });
    for (const [name, body] of files) await container.getBlockBlobClient(`tiny/${name}`).uploadData(body);
    log(`fake-gcs-server on ${gcsServer.endpoint}, Azurite on ${azurite.endpoint}: tiny/ holds ${files.map(([n]) => n).join(", ")}`);

    const onEdge = { clusterSelector: { matchLabels: { region: "lab" }, cel: 'cluster.name == "edge"' } };
    await cp.apply(
      [modelCache("from-gcs", "ml-team", "main", { ...onEdge }), modelCache("from-azure", "ml-team", "main", { ...onEdge })].map((mc, i) => {
        const spec = mc["spec"] as Json;
        spec["artifact"] = {
          kind: "Weights",
          source:
            i === 0
              ? { gcs: { uri: "gs://models/tiny/", endpoint: gcsServer?.endpoint } }
              : { azure: { uri: `azure://${azurite?.account}/models/tiny/`, endpoint: azurite?.endpoint } },
        };
        return mc;
      }),
    );
    for (const name of ["from-gcs", "from-azure"]) {
      const st = await ready(name, "ml-team", ["edge"]);
      const pin = at(st, "pin") as Json;
      log(`${name}: pinned ${String(pin["resolvedRevision"])} (${String(pin["manifestDigest"])})`);
      expect(String(pin["manifestDigest"])).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(String(pin["resolvedRevision"] ?? "")).not.toBe("");
      const { claim, namespace } = placement(st, "edge");
      expect(at(await edge.get("pvc", claim, namespace), "status", "phase")).toBe("Bound");
      const scheme = name === "from-gcs" ? "gs://" : "azure://";
      const run = edgeNode.runs.find((r) => r.namespace === namespace && r.exitCode === 0 && r.args.some((a) => a.startsWith(scheme)));
      expect(run, `a hydration Pod reading ${scheme} on edge`).toBeDefined();
      log(`${name}: Pod ${run?.name ?? ""}: ${run?.args.join(" ") ?? ""}`);
    }
  });
});

// A source that refuses for good, end to end: the hydrator's report says the failure is permanent and the
// source's, the job controller fails the Job on its FailJob rule, and the replica stops at once with the cause,
// where it used to run six attempts over about an hour and a half (docs/design.md, "Lifecycle").
describe("a source that refuses for good", () => {
  it("a repository the hub does not have fails once, says why, and is not retried past its backoff", async () => {
    const MISSING = "acme/no-such-model";
    const mc = modelCache("missing", "ml-team", "main", { clusterSelector: { matchLabels: { region: "lab" }, cel: 'cluster.name == "edge"' } });
    (at(mc, "spec", "artifact", "source", "huggingFace") as Json)["repo"] = MISSING;
    await cp.apply(mc);
    const replicaOf = async () =>
      (await cp.list("modelcachereplicas", { namespace: "ml-team" })).find((r) => String(at(r, "metadata", "name")).startsWith("missing-edge-"));
    const failed = await waitFor(
      "edge's replica Failed for good (permanentFailure: Source)",
      async () => {
        const r = await replicaOf();
        return at(r, "status", "permanentFailure") === "Source" ? r : undefined;
      },
      { timeoutMs: 240_000, describe: describeCache("missing", "ml-team") },
    );
    log(`replica ${String(at(failed, "metadata", "name"))}: ${String(at(failed, "status", "lastError"))}`);
    expect(at(failed, "status", "phase")).toBe("Failed");
    expect(at(failed, "status", "attempts")).toBe(1);
    expect(String(at(failed, "status", "lastError"))).toMatch(/404|not found/i);
    const hydrated = ((at(failed, "status", "conditions") as Json[] | undefined) ?? []).find((c) => c["type"] === "Hydrated");
    expect(hydrated?.["reason"]).toBe("PermanentFailure");
    const line = await waitFor(
      "the cache's line for edge names the cause and that it is not retried",
      async () => {
        const e = clusterEntry(await cacheStatus("missing", "ml-team"), "edge");
        return e?.["phase"] === "Failed" && /not retried/.test(String(e["message"])) ? e : undefined;
      },
      { describe: describeCache("missing", "ml-team") },
    );
    log(`cache line for edge: ${String(line["message"])}`);

    const runs = () => edgeNode.runs.filter((r) => r.args.some((a) => a.includes(MISSING)));
    expect(runs().map((r) => r.exitCode)).toEqual([3]);
    // Past the first retry's backoff (60 s), with a reconcile nudged after it: still the one Pod, still attempt 1.
    await new Promise((r) => setTimeout(r, 70_000));
    await cp.kubectl([
      "annotate",
      "modelcachereplica",
      String(at(failed, "metadata", "name")),
      "-n",
      "ml-team",
      "live.modelcache.dev/nudge=past-backoff",
      "--overwrite",
    ]);
    await new Promise((r) => setTimeout(r, 15_000));
    const after = await replicaOf();
    expect(runs().map((r) => r.exitCode)).toEqual([3]);
    expect(at(after, "status", "attempts")).toBe(1);
    expect(at(after, "status", "permanentFailure")).toBe("Source");

    await cp.delete("modelcache", "missing", "ml-team");
    await waitFor("ml-team/missing gone", async () => ((await cp.get("modelcache", "missing", "ml-team")) === undefined ? true : undefined), {
      timeoutMs: 180_000,
    });
  });
});
