// RunFunction at fleet scale, through the real gRPC server: latency (median,
// p99), the server's peak memory, and request/response sizes in serialized
// protobuf bytes, for 1..5,000 InferenceClusters with realistic DRA pools
// (8-16 nodes x 8 H100s, every NVIDIA attribute), selected by CEL.
//
//   node bench/fleet/run.ts [--sizes 1,10,100,1000,5000] [--out bench/results/fleet.json]
//
// Two scenarios per size: "first pass" (no replica observed yet) and "steady"
// (every replica observed Ready at the pinned bytes, the pin in the XR status).
//
// The request is serialized once and sent as bytes, and the response is
// received as bytes: Crossplane's Go client encodes a 300 MiB request in a
// fraction of the time proto-loader's encoder takes, so what is timed is the
// function's share (transport over loopback, decode, compose, encode). The
// client accepts any size, so a response over Crossplane's 4 MiB limit is
// measured too, and flagged (fitsCrossplane: false) rather than aborting the run.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { startFunction } from "../../test/support/function-server.ts";
import { field } from "../../test/support/protobuf-framing.ts";
import * as grpc from "@grpc/grpc-js";
import { loadProtocol, RUN_FUNCTION_PATH } from "../../functions/protocol/load.ts";
import { toStruct } from "../../functions/protocol/struct.ts";
import type { RunFunctionRequest } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { CLUSTERS_REQUIREMENT, composeFleet } from "../../functions/composition/fleet/compose.ts";
import { COMMIT, DIGEST, GPUS, inferenceCluster, modelCache, request } from "../../test/support/fleet-builders.ts";
import { contractKey, isContractKey } from "../../functions/composition/contract-configmap.ts";

const { values } = parseArgs({ options: { sizes: { type: "string", default: "1,10,100,1000,5000" }, out: { type: "string" } } });
const SIZES = (values.sizes ?? "").split(",").map(Number);
const MiB = 1024 * 1024;
const IMAGE = "ghcr.io/function-model-cache/function-model-cache:v0.1.0";
const CEL = `cluster.devices.exists(device, device.driver == "gpu.nvidia.com" &&
  device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`;

function struct(v: JsonObject, path: string) {
  const s = toStruct(v, path);
  if (!s.ok) throw new Error(s.error.message);
  return s.value;
}

function cluster(i: number, withPools = true): JsonObject {
  const region = ["us-east1", "us-central1", "europe-west4", "asia-northeast1"][i % 4] ?? "us-east1";
  return inferenceCluster({
    name: `gke-${region}-prod-${String(i).padStart(4, "0")}`,
    labels: { region, tier: "prod", "topology.kubernetes.io/region": region },
    cloud: "GKE",
    storageClassName: "filestore-rwx",
    pools: withPools ? [{ gpu: GPUS.H100, nodes: 8 + (i % 9) }] : [],
  });
}

const svc = loadProtocol().FunctionRunnerService.service.RunFunction;

// Protobuf framing (test/support), to build the required resources one cluster at a time: at 5,000 clusters the
// whole request as objects (JSON, then Struct) would not fit this process's heap.

/** One cluster as the bytes of a Resource message (resource = 1), via the real encoder. */
function resourceBytes(c: JsonObject): Buffer {
  // RunFunctionRequest.input (field 4) is a Struct: encode it there and strip the field's framing.
  const wrapped = svc.requestSerialize({ input: struct(c, "cluster") });
  const r = { pos: 1 };
  let len = 0;
  for (let mul = 1; ; mul *= 128) {
    const b = wrapped[r.pos++] ?? 0;
    len += (b & 0x7f) * mul;
    if (b < 0x80) break;
  }
  return field(1, wrapped.subarray(r.pos, r.pos + len));
}

/** The request: everything but the clusters through the real encoder, the clusters framed one by one. */
function wireRequest(xr: JsonObject, n: number, observed: Record<string, JsonObject>): Buffer {
  const resources: Record<string, { resource: ReturnType<typeof struct> }> = {};
  for (const [k, v] of Object.entries(observed)) resources[k] = { resource: struct(v, k) };
  const rest = svc.requestSerialize({
    meta: { tag: "bench" },
    observed: { composite: { resource: struct(xr, "xr") }, resources },
    desired: { composite: { resource: struct({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache" }, "d") }, resources: {} },
    input: struct({ apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input" }, "input"),
  } satisfies RunFunctionRequest);
  const items = Array.from({ length: n }, (_, i) => field(1, resourceBytes(cluster(i))));
  // required_resources (field 8): one map entry, key "clusters", value Resources { items = 1 }.
  const entry = Buffer.concat([field(1, Buffer.from(CLUSTERS_REQUIREMENT)), field(2, Buffer.concat(items))]);
  return Buffer.concat([rest, field(8, entry)]);
}

/** Every replica observed Ready at the pinned bytes: what a converged fleet sends on each reconcile. */
function steady(xr: JsonObject, n: number): { xr: JsonObject; observed: Record<string, JsonObject> } {
  // The replicas' specs do not depend on the pools or the selector: composed here without either.
  const cs = Array.from({ length: n }, (_, i) => cluster(i, false));
  const { clusterSelector: _, ...spec } = xr["spec"] as JsonObject;
  const first = composeFleet(request({ ...xr, spec }, { clusters: cs }), { defaultHydratorImage: IMAGE });
  const st = (first.desired.composite?.resource["status"] ?? {}) as JsonObject;
  const observed: Record<string, JsonObject> = {};
  for (const [key, r] of Object.entries(first.desired.resources)) {
    const metadata = { ...(r.resource["metadata"] as JsonObject), annotations: { "crossplane.io/composition-resource-name": key } };
    // The contract's ConfigMap is observed as composed; only replicas report a status.
    if (isContractKey(key)) {
      observed[key] = { ...r.resource, metadata };
      continue;
    }
    observed[key] = {
      ...r.resource,
      metadata,
      status: {
        phase: "Ready",
        claimName: String(st["claimName"]),
        namespace: "model-cache",
        mountPath: "/models/qwen3-8b",
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        bytesDone: 16_384_000_000,
        bytesTotal: 16_384_000_000,
        attempts: 1,
      },
    };
  }
  // The status a converged reconcile writes (pin, summary, every cluster's line), read back as Crossplane does.
  const observedStates = Object.fromEntries(Object.entries(observed).map(([k, resource]) => [k, { resource, connectionDetails: {}, ready: "True" as const }]));
  const converged = composeFleet(request({ ...xr, spec }, { clusters: cs, observed: observedStates }), { defaultHydratorImage: IMAGE });
  const status = (converged.desired.composite?.resource["status"] ?? {}) as JsonObject;
  // Converged: every replica (and the one ConfigMap left) is what that reconcile composed, naming the pinned contract;
  // replicas still naming the unpinned one would keep its ConfigMap in the response too.
  const hash = String((status["replicaContract"] as JsonObject | undefined)?.["hash"]);
  const settled: Record<string, JsonObject> = {};
  for (const [key, r] of Object.entries(converged.desired.resources)) {
    if (isContractKey(key) && key !== contractKey(hash)) continue;
    const before = observed[key];
    settled[key] = {
      ...r.resource,
      metadata: { ...(r.resource["metadata"] as JsonObject), annotations: { "crossplane.io/composition-resource-name": key } },
      ...(before?.["status"] !== undefined ? { status: before["status"] } : {}),
    };
  }
  return {
    xr: {
      ...xr,
      status: { ...status, conditions: converged.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message ?? "" })) },
    },
    observed: settled,
  };
}

/**
 * What one compact replica's reconcile fetches as its required resource: the
 * contract's ConfigMap as JSON (what the API server sends), computed in
 * process from the same request; modelCacheBytes is the ModelCache (with its
 * status) that it fetched before.
 */
function contractBytes(xr: JsonObject, n: number, observed: Record<string, JsonObject>): number {
  const cs = Array.from({ length: n }, (_, i) => cluster(i, false));
  const { clusterSelector: _, ...spec } = xr["spec"] as JsonObject;
  const states = Object.fromEntries(Object.entries(observed).map(([k, resource]) => [k, { resource, connectionDetails: {}, ready: "True" as const }]));
  const rsp = composeFleet(request({ ...xr, spec }, { clusters: cs, observed: states }), { defaultHydratorImage: IMAGE });
  const st = (rsp.desired.composite?.resource["status"] ?? {}) as JsonObject;
  const hash = String((st["replicaContract"] as JsonObject | undefined)?.["hash"]);
  const cm = rsp.desired.resources[contractKey(hash)]?.resource;
  if (cm === undefined) throw new Error(`no contract ConfigMap for ${hash}`);
  return Buffer.byteLength(JSON.stringify(cm));
}

/** One RunFunction call with pre-serialized bytes both ways. */
function callRaw(client: grpc.Client, req: Buffer, deadlineMs: number): Promise<Buffer> {
  const same = (b: Buffer) => b;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(RUN_FUNCTION_PATH, same, same, req, { deadline: Date.now() + deadlineMs }, (err, rsp) =>
      err || !rsp ? reject(err ?? new Error("no response")) : resolve(rsp),
    ),
  );
}

function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmHWM:"));
  return Number(line?.replace(/\D+/g, "") ?? 0) / 1024;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
}

const rows: Record<string, number | string | boolean>[] = [];
for (const n of SIZES) {
  const base = modelCache({ clusterSelector: { cel: CEL } });
  for (const scenario of ["first pass", "steady"] as const) {
    const { xr, observed } = scenario === "steady" ? steady(base, n) : { xr: base, observed: {} };
    const reqBytes = wireRequest(xr, n, observed);
    // A fresh server per case: its peak memory is this case's alone.
    const fn = await startFunction(["--insecure", "--max-recv-message-size", String(Math.ceil((reqBytes.length * 1.2) / MiB) + 4)], { LOG_LEVEL: "warn" });
    const client = new grpc.Client(`127.0.0.1:${fn.port}`, grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
    });
    const iterations = n >= 5000 ? 5 : n >= 1000 ? 10 : 30;
    const times: number[] = [];
    let raw: Buffer = Buffer.alloc(0);
    try {
      await callRaw(client, reqBytes, 300_000); // warm-up: JIT, the CEL environment, the compile cache
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        raw = await callRaw(client, reqBytes, 300_000);
        times.push(performance.now() - t0);
      }
    } finally {
      client.close();
    }
    const rsp = svc.responseDeserialize(raw);
    if (rsp.results.some((r) => r.severity === "SEVERITY_FATAL")) throw new Error(`fatal: ${rsp.results[0]?.message}`);
    const rspBytes = raw.length;
    const replicas = Object.keys(rsp.desired?.resources ?? {}).filter((k) => !isContractKey(k)).length;

    if (replicas !== n) throw new Error(`${n} clusters selected ${replicas} replicas`);
    const peak = peakRssMiB(fn.child.pid ?? 0);
    await fn.stop();
    const row = {
      clusters: n,
      scenario,
      replicas,
      devices: Array.from({ length: n }, (_, i) => (8 + (i % 9)) * 8).reduce((a, b) => a + b, 0),
      requestBytes: reqBytes.length,
      requestMiB: +(reqBytes.length / MiB).toFixed(2),
      responseBytes: rspBytes,
      responseMiB: +(rspBytes / MiB).toFixed(3),
      responseBytesPerCluster: Math.round(rspBytes / n),
      fitsCrossplane: rspBytes <= 4 * MiB,
      replicaFetchBytes: contractBytes(xr, n, observed),
      modelCacheBytes: Buffer.byteLength(JSON.stringify(xr)),
      medianMs: +quantile(times, 0.5).toFixed(1),
      p99Ms: +quantile(times, 0.99).toFixed(1),
      serverPeakRssMiB: Math.round(peak),
      events: rsp.results.map((r) => r.reason).join(",") || "none",
      iterations,
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
}
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(rows, null, 2)}\n`);
}
