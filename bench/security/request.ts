// Hostile requests beside a normal tenant's call, through the real server
// (not a timed test): the normal call's latency quiet, then while a hostile
// client sends one kind of request back to back on --hostile-streams parallel
// streams, and what the hostile calls got (refused, or answered, and how long
// they took). Quiet and hostile rows come from the same server in the same run.
//
//   node bench/security/request.ts [--calls 60] [--hostile-streams 4] [--out bench/results/security-request.json] [-- <serve flags>]
//
// The normal call is a ModelCache in namespace ml-team over four clusters
// with DRA pools (the fleet tests' fleet()), first pass; every hostile request
// is a ModelCache in namespace team-a. The control row is a second normal
// tenant (namespace neighbour-team) sending the normal call the same way: on
// a shared machine any busy neighbour costs some CPU. Hostile kinds: a list nested 2,400 deep
// in context (it crashed the server); 250,000 keys in one context object
// (3.7 MB; it blocked the server for 33 s); the same keys spread over four
// objects of 62,500, each under the per-object limit, so the whole request is
// read and passed through (the most a 4 MiB request can cost); 150,000 bad
// matchExpressions (5 MiB; --max-recv-message-size 8). The hostile client runs
// in its own thread, so its work does not delay the normal client's.
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import { CLUSTERS_REQUIREMENT } from "../../functions/composition/fleet/compose.ts";
import { fleet, modelCache } from "../../test/support/fleet-builders.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { startFunction } from "../../test/support/function-server.ts";
import { callBytes, deepList, fatalOf, modelCacheXr, rawClient, requestBytes, structBytes, structWith } from "../../test/security/server-wire.ts";

const { values, positionals } = parseArgs({
  options: { calls: { type: "string", default: "60" }, "hostile-streams": { type: "string", default: "4" }, out: { type: "string" } },
  allowPositionals: true,
});
const CALLS = Number(values.calls);
const STREAMS = Number(values["hostile-streams"]);
/** Flags after `--` go to the server (e.g. --workers 2 --tenant-workers 1). */
const SERVE_FLAGS = ["--insecure", "--max-recv-message-size", "8", ...positionals];

/** A normal tenant's call in `namespace`. Built only in the main thread: the attacker's thread gets its one request's bytes. */
function normalRequest(namespace = "ml-team"): Buffer {
  const xr = modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } });
  return requestBytes({
    tag: "normal",
    xr: structBytes({ ...xr, metadata: { ...(xr["metadata"] as JsonObject), namespace } }),
    required: { [CLUSTERS_REQUIREMENT]: fleet().map((c) => structBytes(c)) },
  });
}

function keys(n: number, groups: number): JsonObject {
  const out: JsonObject = {};
  for (let g = 0; g < groups; g++) {
    const o: JsonObject = {};
    for (let i = 0; i < n / groups; i++) o[`k${i}`] = "v";
    out[`g${g}`] = o;
  }
  return out;
}

const hostileRequests = (): { kind: string; req: Buffer }[] => [
  // The control: what any neighbour costs on this machine (its CPU is shared whatever the server does).
  { kind: "another normal tenant's call (control)", req: normalRequest("neighbour-team") },
  { kind: "list nested 2,400 deep in context", req: requestBytes({ tag: "hostile", xr: modelCacheXr({}), context: structWith("k", deepList(2400)) }) },
  {
    kind: "250,000 keys in one object",
    req: requestBytes({ tag: "hostile", xr: modelCacheXr({}), context: structBytes(keys(250_000, 1)["g0"] as JsonObject) }),
  },
  { kind: "250,000 keys in 4 objects (all read)", req: requestBytes({ tag: "hostile", xr: modelCacheXr({}), context: structBytes(keys(250_000, 4)) }) },
  {
    kind: "150,000 bad matchExpressions",
    req: requestBytes({
      tag: "hostile",
      xr: modelCacheXr({ clusterSelector: { matchExpressions: Array.from({ length: 150_000 }, () => ({ key: "", operator: "Nope" })) } }),
    }),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed(client: grpc.Client, req: Buffer): Promise<{ ms: number; outcome: string }> {
  const t0 = performance.now();
  // Only the results are read: decoding a hostile 4 MB response here would block this process, not the server.
  const outcome = await callBytes(client, req, 120_000).then(
    (r) => fatalOf(r)?.reason ?? "answered",
    (e: grpc.ServiceError) => grpc.status[e.code],
  );
  return { ms: performance.now() - t0, outcome };
}

async function normalCalls(client: grpc.Client, normal: Buffer): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const r = await timed(client, normal);
    if (r.outcome !== "answered") throw new Error(`the normal call got ${r.outcome}`);
    ms.push(r.ms);
    await new Promise((res) => setTimeout(res, 20));
  }
  return ms;
}

/**
 * The hostile client, in its own thread: its event loop (sending back to back, reading answers of up to 4 MB) must
 * not delay the normal tenant's client, whose latency is what is measured.
 */
async function startAttacker(port: number, req: Buffer): Promise<{ stop(): Promise<{ ms: number; outcome: string }[]> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { port, req, streams: STREAMS } });
  const messages: unknown[] = [];
  let wake: (() => void) | undefined;
  worker.on("message", (m) => {
    messages.push(m);
    wake?.();
  });
  const failed = new Promise<never>((_, reject) => worker.once("error", reject));
  const next = async (): Promise<unknown> => {
    while (messages.length === 0) await Promise.race([new Promise<void>((r) => (wake = r)), failed]);
    return messages.shift();
  };
  // The thread takes about a second to load; measuring before its first call is on the wire would measure quiet.
  await next();
  return {
    stop: async () => {
      worker.postMessage("stop");
      const runs = (await next()) as { ms: number; outcome: string }[];
      await worker.terminate();
      return runs;
    },
  };
}

async function attack(): Promise<void> {
  const { port, req, streams } = workerData as { port: number; req: Uint8Array; streams: number };
  const client = rawClient(port);
  const bytes = Buffer.from(req);
  let stop = false;
  parentPort?.once("message", () => (stop = true));
  const runs: { ms: number; outcome: string }[] = [];
  const loops = Array.from({ length: streams }, async () => {
    while (!stop) runs.push(await timed(client, bytes));
  });
  parentPort?.postMessage("started");
  await Promise.all(loops);
  client.close();
  parentPort?.postMessage(runs);
}

async function main(): Promise<void> {
  const normal = normalRequest();
  const hostile = hostileRequests();
  const fn = await startFunction(SERVE_FLAGS, { LOG_LEVEL: "warn" });
  const serving = JSON.parse(
    fn
      .output()
      .split("\n")
      .find((l) => l.includes('"msg":"serving"')) ?? "{}",
  ) as Record<string, unknown>;
  process.stdout.write(
    `server: ${["workers", "tenantWorkers", "workerHeapMiB", "composeTimeoutSeconds"].map((k) => `${k}=${String(serving[k])}`).join(" ")}; hostile streams: ${STREAMS}\n`,
  );
  const tenant = rawClient(fn.port);
  const rows: Record<string, string | number>[] = [];
  try {
    for (let i = 0; i < 10; i++) await timed(tenant, normal); // warm-up
    // Each row's quiet figure is measured right before and right after its attack: on a shared machine the load of
    // other work drifts over a run, and a quiet figure from minutes earlier would count that drift as the attack's.
    for (const h of hostile) {
      const before = await normalCalls(tenant, normal);
      const attacker = await startAttacker(fn.port, h.req);
      // The hostile calls are on the wire; give the server time to start reading them.
      await new Promise((res) => setTimeout(res, 300));
      const loaded = median(await normalCalls(tenant, normal));
      const hostileRuns = await attacker.stop();
      const quiet = median([...before, ...(await normalCalls(tenant, normal))]);
      const outcomes = [...new Set(hostileRuns.map((r) => r.outcome))].join(",");
      rows.push({
        scenario: h.kind,
        quietMedianMs: +quiet.toFixed(1),
        normalMedianMs: +loaded.toFixed(1),
        ratio: +(loaded / quiet).toFixed(2),
        hostileOutcome: outcomes,
        hostileCalls: hostileRuns.length,
        hostileMedianMs: +median(hostileRuns.map((r) => r.ms)).toFixed(1),
        hostileBytes: h.req.length,
      });
    }
  } finally {
    tenant.close();
    await fn.stop();
  }
  for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  process.stdout.write(
    "\n| hostile request | bytes | hostile answers | hostile calls | hostile median ms | normal median ms, quiet | under attack | vs quiet |\n|---|---|---|---|---|---|---|---|\n",
  );
  for (const r of rows) {
    const cells = [
      r["scenario"],
      Number(r["hostileBytes"]).toLocaleString("en-US"),
      r["hostileOutcome"],
      r["hostileCalls"],
      r["hostileMedianMs"],
      r["quietMedianMs"],
      r["normalMedianMs"],
      `${r["ratio"]}x`,
    ];
    process.stdout.write(`| ${cells.join(" | ")} |\n`);
  }
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(rows, null, 2)}\n`);
  }
}

if (isMainThread) await main();
else await attack();
