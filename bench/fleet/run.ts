// RunFunction at fleet scale, through the real gRPC server: latency (median,
// p99), the server's peak memory, and request/response sizes in serialized
// protobuf bytes, for 1..5,000 InferenceClusters with realistic DRA pools
// (8-16 nodes x 8 H100s, every NVIDIA attribute), selected by CEL.
//
//   node bench/fleet/run.ts [--sizes 1,10,100,1000,5000] [--out bench/results/fleet.json]
//     [--bins <before>/bin/function-model-cache.js,bin/function-model-cache.js] [--rounds 1] [--scenarios steady,first pass]
//
// --bins: the servers to compare (another checkout's as "before"), side by side: each case runs every server in
// turn, `--rounds` times, with the same request bytes, so a shared machine's load falls on each alike; every row
// names its server (`bin`).
//
// Two scenarios per size: "first pass" (no replica observed yet, and every
// cluster new to the worker's selection cache: each call's selector text
// differs) and "steady" (every replica observed Ready at the pinned bytes, the
// pin in the XR status, nothing changed since the last call). Each server's
// first call is timed alone (firstCallMs: JIT and caches cold); the peak
// memory of the calls after it is measured alone (serverPeakRssMiB, VmHWM
// reset after the first call), and with it (serverPeakWithFirstCallMiB).
// Each row records the load average, since the machine may be shared. A third
// row per size, "pass-through", is the floor of moving the request (see below).
//
// The request is serialized once and sent as bytes, and the response is
// received as bytes: Crossplane's Go client encodes a 300 MiB request in a
// fraction of the time proto-loader's encoder takes, so what is timed is the
// function's share (transport over loopback, decode, compose, encode). The
// client accepts any size, so a response over Crossplane's 4 MiB limit is
// measured too, and flagged (fitsCrossplane: false) rather than aborting the run.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { BIN, freePort, spawnServing } from "../../test/support/function-server.ts";
import * as grpc from "@grpc/grpc-js";
import { RUN_FUNCTION_PATH } from "../../functions/protocol/load.ts";
import { modelCache } from "../../test/support/fleet-builders.ts";
import { isContractKey } from "../../functions/composition/contract-configmap.ts";
import { CEL, clustersField, contractBytes, MiB, steady, svc, wireRequest } from "./requests.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1,10,100,1000,5000" },
    out: { type: "string" },
    bins: { type: "string", default: BIN },
    rounds: { type: "string", default: "1" },
    scenarios: { type: "string", default: "first pass,steady,pass-through" },
  },
});
const SIZES = (values.sizes ?? "").split(",").map(Number);
const BINS = (values.bins ?? BIN).split(",");
const SCENARIOS = (values.scenarios ?? "").split(",") as ("first pass" | "steady" | "pass-through")[];
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

/** Forget the process's peak so far (Linux: clear_refs 5 resets VmHWM to the current RSS). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

const rows: Record<string, number | string | boolean>[] = [];
for (const n of SIZES) {
  const base = modelCache({ clusterSelector: { cel: CEL } });
  const clusters = clustersField(n);
  for (const scenario of SCENARIOS) {
    // "pass-through": the same clusters under an XR this function does not compose (it answers
    // UnsupportedComposite): the floor every call pays for moving the request (gRPC over loopback, the
    // worker hand-off, reading the rest of the request), the clusters themselves left unread.
    const passThrough = { apiVersion: "example.org/v1", kind: "NotAModelCache", metadata: { name: "x", namespace: "ml-team" } };
    const { xr, observed } =
      scenario === "steady" ? steady(base, n) : scenario === "pass-through" ? { xr: passThrough, observed: {} } : { xr: base, observed: {} };
    const reqBytes = wireRequest(xr, n, observed, clusters);
    // A first pass is a cache's first reconcile: clusters its worker has not decided for it yet. Each call's
    // selector differs by a term that changes nothing but the text, so each decides every cluster afresh
    // (the selection cache is keyed on the spec), as a new ModelCache over the same fleet would.
    const firstPass = (i: number) => wireRequest(modelCache({ clusterSelector: { cel: `${CEL} && ${i + 1} > 0` } }), n, observed, clusters);
    for (let round = 0; round < Number(values.rounds); round++)
      for (const bin of BINS) {
        // A fresh server per case: its peak memory is this case's alone.
        const port = await freePort();
        const fn = await spawnServing(
          port,
          [bin, "serve", "--insecure", "--address", `127.0.0.1:${port}`, "--max-recv-message-size", String(Math.ceil((reqBytes.length * 1.2) / MiB) + 4)],
          { LOG_LEVEL: "warn" },
        );
        const client = new grpc.Client(`127.0.0.1:${fn.port}`, grpc.credentials.createInsecure(), {
          "grpc.max_send_message_length": -1,
          "grpc.max_receive_message_length": -1,
        });
        const iterations = n >= 5000 ? 5 : n >= 1000 ? 10 : 30;
        const times: number[] = [];
        let raw: Buffer = Buffer.alloc(0);
        let coldMs = 0;
        let lifePeak = 0;
        try {
          // The server's first call: the JIT, the CEL environment, and (steady) the worker's selection cache all cold.
          const t0 = performance.now();
          await callRaw(client, reqBytes, 300_000);
          coldMs = performance.now() - t0;
          lifePeak = peakRssMiB(fn.child.pid ?? 0);
          // What follows is measured alone: a converged fleet's peak is that of its converged calls.
          resetPeak(fn.child.pid ?? 0);
          for (let i = 0; i < iterations; i++) {
            const req = scenario === "first pass" ? firstPass(i) : reqBytes;
            const t1 = performance.now();
            raw = await callRaw(client, req, 300_000);
            times.push(performance.now() - t1);
          }
        } finally {
          client.close();
        }
        const rsp = svc.responseDeserialize(raw);
        if (rsp.results.some((r) => r.severity === "SEVERITY_FATAL")) throw new Error(`fatal: ${rsp.results[0]?.message}`);
        const rspBytes = raw.length;
        const replicas = Object.keys(rsp.desired?.resources ?? {}).filter((k) => !isContractKey(k)).length;

        if (replicas !== (scenario === "pass-through" ? 0 : n)) throw new Error(`${n} clusters selected ${replicas} replicas`);
        const peak = peakRssMiB(fn.child.pid ?? 0);
        await fn.stop();
        const row = {
          bin,
          round,
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
          replicaFetchBytes: scenario === "pass-through" ? 0 : contractBytes(xr, n, observed),
          modelCacheBytes: Buffer.byteLength(JSON.stringify(xr)),
          medianMs: +quantile(times, 0.5).toFixed(1),
          p99Ms: +quantile(times, 0.99).toFixed(1),
          firstCallMs: +coldMs.toFixed(1),
          serverPeakRssMiB: Math.round(peak),
          serverPeakWithFirstCallMiB: Math.round(Math.max(lifePeak, peak)),
          load: loadavg()
            .map((l) => l.toFixed(2))
            .join(" "),
          events: rsp.results.map((r) => r.reason).join(",") || "none",
          iterations,
        };
        rows.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
  }
}
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(rows, null, 2)}\n`);
}
