// Hostile requests beside a normal tenant's call, through the real server
// (not a timed test): the normal call's latency quiet, then while a hostile
// client sends one kind of request back to back, and what the hostile calls
// got (refused, or answered, and how long they took).
//
//   node bench/security/request.ts [--calls 60] [--out bench/results/security-request.json]
//
// The normal call is a ModelCache over four clusters with DRA pools (the
// fleet tests' fleet()), first pass. Hostile kinds: a list nested 2,400 deep
// in context (it crashed the server); 250,000 keys in one context object
// (3.7 MB; it blocked the server for 33 s); the same keys spread over four
// objects of 62,500, each under the per-object limit, so the whole request is
// read and passed through (the most a 4 MiB request can cost); 150,000 bad
// matchExpressions (5 MiB; --max-recv-message-size 8).
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import type * as grpc from "@grpc/grpc-js";
import { CLUSTERS_REQUIREMENT } from "../../functions/composition/fleet/index.ts";
import { fleet, modelCache } from "../../functions/composition/fleet/testing.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { startFunction } from "../../test/support/function-server.ts";
import { callRaw, deepList, modelCacheXr, rawClient, requestBytes, structBytes, structWith } from "../../test/security/server-wire.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "60" }, out: { type: "string" } } });
const CALLS = Number(values.calls);

const normal = requestBytes({
  tag: "normal",
  xr: structBytes(modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } })),
  required: { [CLUSTERS_REQUIREMENT]: fleet().map((c) => structBytes(c)) },
});

function keys(n: number, groups: number): JsonObject {
  const out: JsonObject = {};
  for (let g = 0; g < groups; g++) {
    const o: JsonObject = {};
    for (let i = 0; i < n / groups; i++) o[`k${i}`] = "v";
    out[`g${g}`] = o;
  }
  return out;
}

const hostile: { kind: string; req: Buffer }[] = [
  { kind: "list nested 2,400 deep in context", req: requestBytes({ tag: "hostile", xr: modelCacheXr({}), context: structWith("k", deepList(2400)) }) },
  { kind: "250,000 keys in one object", req: requestBytes({ tag: "hostile", xr: modelCacheXr({}), context: structBytes(keys(250_000, 1)["g0"] as JsonObject) }) },
  { kind: "250,000 keys in 4 objects (all read)", req: requestBytes({ tag: "hostile", xr: modelCacheXr({}), context: structBytes(keys(250_000, 4)) }) },
  {
    kind: "150,000 bad matchExpressions",
    req: requestBytes({ tag: "hostile", xr: modelCacheXr({ clusterSelector: { matchExpressions: Array.from({ length: 150_000 }, () => ({ key: "", operator: "Nope" })) } }) }),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function timed(client: grpc.Client, req: Buffer): Promise<{ ms: number; outcome: string }> {
  const t0 = performance.now();
  const outcome = await callRaw(client, req, 120_000).then(
    (r) => r.results.find((x) => x.severity === "SEVERITY_FATAL")?.reason ?? "answered",
    (e: grpc.ServiceError) => `status ${e.code}`,
  );
  return { ms: performance.now() - t0, outcome };
}

async function normalCalls(client: grpc.Client): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const r = await timed(client, normal);
    if (r.outcome !== "answered") throw new Error(`the normal call got ${r.outcome}`);
    ms.push(r.ms);
    await new Promise((res) => setTimeout(res, 20));
  }
  return ms;
}

const fn = await startFunction(["--insecure", "--max-recv-message-size", "8"], { LOG_LEVEL: "warn" });
const tenant = rawClient(fn.port);
const attacker = rawClient(fn.port);
const rows: Record<string, string | number>[] = [];
try {
  for (let i = 0; i < 10; i++) await timed(tenant, normal); // warm-up
  const quiet = median(await normalCalls(tenant));
  rows.push({ scenario: "quiet", normalMedianMs: +quiet.toFixed(1), ratio: 1, hostileOutcome: "-", hostileMedianMs: 0, hostileBytes: 0 });
  for (const h of hostile) {
    let stop = false;
    const hostileRuns: { ms: number; outcome: string }[] = [];
    const loop = (async () => {
      while (!stop) hostileRuns.push(await timed(attacker, h.req));
    })();
    await new Promise((res) => setTimeout(res, 200));
    const loaded = median(await normalCalls(tenant));
    stop = true;
    await loop;
    const outcomes = [...new Set(hostileRuns.map((r) => r.outcome))].join(",");
    rows.push({
      scenario: h.kind,
      normalMedianMs: +loaded.toFixed(1),
      ratio: +(loaded / quiet).toFixed(2),
      hostileOutcome: outcomes,
      hostileMedianMs: +median(hostileRuns.map((r) => r.ms)).toFixed(1),
      hostileBytes: h.req.length,
    });
  }
} finally {
  tenant.close();
  attacker.close();
  await fn.stop();
}
for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
process.stdout.write("\n| hostile request | bytes | hostile answer | hostile median ms | normal median ms | vs quiet |\n|---|---|---|---|---|---|\n");
for (const r of rows)
  process.stdout.write(`| ${r["scenario"]} | ${Number(r["hostileBytes"]).toLocaleString("en-US")} | ${r["hostileOutcome"]} | ${r["hostileMedianMs"]} | ${r["normalMedianMs"]} | ${r["ratio"]}x |\n`);
if (values.out) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify(rows, null, 2)}\n`);
}
