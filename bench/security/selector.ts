// Hostile selectors beside a normal tenant, through the real server (bin/function-model-cache.js serve
// over loopback gRPC). For each hostile ModelCache, one client sends it back to back while another
// sends a normal tenant's ModelCache and times each answer; "quiet" is the normal call alone. Prints
// a Markdown table for docs/benchmarks.md ("Hostile selectors"). Not a test: nothing here asserts.
//
//   node bench/security/selector.ts [--calls 40] [--clusters 10]
import { parseArgs } from "node:util";
import { GPUS, inferenceCluster, modelCache } from "../../test/support/fleet-builders.ts";
import type { RunFunctionResponse__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionResponse.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { newClient, runFunction } from "../../test/support/client.ts";
import { startFunction } from "../../test/support/function-server.ts";
import { modelCacheRequest } from "../../test/support/modelcache-request.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "40" }, clusters: { type: "string", default: "10" } } });
const CALLS = Number(values.calls);
const CLUSTERS = Number(values.clusters);
const AAA = `${"a".repeat(40)}!`;
const list = `[${Array.from({ length: 100 }, (_, i) => i).join(", ")}]`;

/** The normal tenant's fleet: H100 clusters of 2 nodes x 8 GPUs, every NVIDIA DRA attribute. */
function fleet(probe: string): JsonObject[] {
  return Array.from({ length: CLUSTERS }, (_, i) =>
    inferenceCluster({ name: `c${String(i).padStart(3, "0")}`, labels: { probe, tier: "prod" }, pools: [{ gpu: GPUS.H100, nodes: 2 }] }),
  );
}

const NORMAL = modelCache({
  clusterSelector: {
    cel: `cluster.devices.exists(device, device.driver == "gpu.nvidia.com" && device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`,
  },
});

function countedFleet(): JsonObject[] {
  const cs = fleet("x");
  const pool = (((cs[0] as JsonObject)["status"] as JsonObject)["gpuPools"] as JsonObject[])[0] as JsonObject;
  ((pool["devices"] as JsonObject[])[0] as JsonObject)["count"] = 1e9;
  return cs;
}

const HOSTILE: { name: string; xr: JsonObject; clusters: () => JsonObject[] }[] = [
  // The control: one server shares one event loop, so any neighbour's call of the same size costs this much.
  { name: "another normal tenant's call (control)", xr: NORMAL, clusters: () => fleet("x") },
  {
    name: "`matches('^(a|a)*$')` on 40 a's and !",
    xr: modelCache({ clusterSelector: { cel: `cluster.labels["probe"].matches('^(a|a)*$')` } }),
    clusters: () => fleet(AAA),
  },
  {
    name: "`matches('^a*a*a*a*a*a*a*a*a*a*$')`",
    xr: modelCache({ clusterSelector: { cel: `cluster.labels["probe"].matches('^a*a*a*a*a*a*a*a*a*a*$')` } }),
    clusters: () => fleet(AAA),
  },
  {
    name: "10,000-step loop per cluster (runtime budget)",
    xr: modelCache({ clusterSelector: { cel: `${list}.all(a, ${list}.all(b, a + b >= 0))` } }),
    clusters: () => fleet("x"),
  },
  {
    name: "`replace` growing a string past the cap",
    xr: modelCache({ clusterSelector: { cel: `"A"${'.replace("", "AAAAAAAAAA")'.repeat(5)}.size() > 0` } }),
    clusters: () => fleet("x"),
  },
  { name: "`true ? dyn(s) : dyn(0)` doubled 12 times", xr: modelCache({ clusterSelector: { cel: dynDoubling() } }), clusters: () => fleet("x") },
  { name: "a device with `count: 1e9`", xr: modelCache({ clusterSelector: { cel: `cluster.devices.size() > 0` } }), clusters: countedFleet },
];

function dynDoubling(): string {
  let body = "x12.size() > 0";
  for (let i = 12; i >= 1; i--) body = `cel.bind(x${i}, x${i - 1} + x${i - 1}, ${body})`;
  return `cel.bind(x0, true ? dyn(cluster.name) : dyn(0), ${body})`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? NaN;

function outcome(rsp: RunFunctionResponse__Output): string {
  const fatal = rsp.results.find((r) => r.severity === "SEVERITY_FATAL");
  if (fatal) return `Fatal (${fatal.reason})`;
  const replicas = Object.keys(rsp.desired?.resources ?? {}).filter((k) => k.startsWith("replica-")).length;
  const failed = rsp.results.find((r) => r.reason === "SelectorEvaluationFailed");
  return `${replicas} selected${failed ? ", others stopped with a reason" : ""}`;
}

const fn = await startFunction(["--insecure"]);
const normalClient = newClient(fn.port);
const hostileClient = newClient(fn.port);
const normalReq = modelCacheRequest("normal", NORMAL, fleet("x"));

async function timeNormal(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await runFunction(normalClient, normalReq, 120_000);
    out.push(performance.now() - t);
  }
  return out;
}

try {
  await timeNormal(5); // warm up
  const quiet = await timeNormal(CALLS);
  const rows: string[] = [];
  rows.push(`| quiet (normal call alone) | ${median(quiet).toFixed(1)} | ${p90(quiet).toFixed(1)} | 1.00x | | |`);
  for (const h of HOSTILE) {
    const req = modelCacheRequest("hostile", h.xr, h.clusters());
    let stop = false;
    const hostileTimes: number[] = [];
    let last = "";
    const loop = (async () => {
      while (!stop) {
        const t = performance.now();
        const rsp = await runFunction(hostileClient, req, 120_000);
        hostileTimes.push(performance.now() - t);
        last = outcome(rsp);
      }
    })();
    const beside = await timeNormal(CALLS);
    stop = true;
    await loop;
    rows.push(
      `| beside ${h.name.replaceAll("|", "\\|")} | ${median(beside).toFixed(1)} | ${p90(beside).toFixed(1)} | ${(median(beside) / median(quiet)).toFixed(2)}x | ${median(hostileTimes).toFixed(1)} | ${last} |`,
    );
  }
  console.log(`Node ${process.version}; ${CLUSTERS} clusters of 16 H100s per call; ${CALLS} normal calls per row; times in ms\n`);
  console.log("| normal tenant's call | median | p90 | median vs quiet | hostile call median | hostile outcome |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  normalClient.close();
  hostileClient.close();
  await fn.stop();
}
