// A CPU profile of a converged fleet reconcile: where a call's time goes.
//
//   node bench/fleet/profile.ts [--clusters 1000] [--calls 5] [--top 15] [--scenario steady|first] [--cpuprofile out.cpuprofile]
//
// It builds the fleet bench's "steady" request (bench/fleet/requests.ts: every
// replica Ready at the pinned bytes, nothing changed since the last call; or
// with --scenario first, a first pass whose selector text differs on every
// call, so no cluster's selection is known yet, as in run.ts) and
// runs the server's own call path in this process, the one a worker runs:
// bytes in, decode, compose, encode, bytes out (functions/server/service.ts,
// with the composition logic a worker loads). Two calls warm it up (the JIT,
// the CEL environment, and whatever the worker keeps between calls), then the
// next `--calls` calls run under V8's sampling profiler (node:inspector).
// It prints a Markdown table of the functions with the most self time, which
// docs/benchmarks.md shows, and with --cpuprofile writes the whole profile
// for Chrome DevTools or speedscope.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { createCompose } from "../../functions/server/compose-run-function.ts";
import { newLogger } from "../../functions/server/logger.ts";
import { handleBytes } from "../../functions/server/service.ts";
import { modelCache } from "../../test/support/fleet-builders.ts";
import { CEL, clustersField, IMAGE, steady, wireRequest } from "./requests.ts";

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    calls: { type: "string", default: "5" },
    top: { type: "string", default: "15" },
    cpuprofile: { type: "string" },
    scenario: { type: "string", default: "steady" },
  },
});
const first = values.scenario === "first";
const n = Number(values.clusters);
const calls = Number(values.calls);
const top = Number(values.top);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Where a function lives, relative to the project (or the package it comes from). */
function place(url: string, line: number): string {
  if (url === "") return "";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf("node_modules/");
  const shown = nm >= 0 ? path.slice(nm + "node_modules/".length) : path.startsWith(root) ? relative(root, path) : path;
  return `${shown}:${line + 1}`;
}

/** Self time by function (name and place), from the samples and the time between them. */
function selfTimes(p: Profile): { total: number; rows: { fn: string; where: string; ms: number }[] } {
  const byId = new Map(p.nodes.map((node) => [node.id, node]));
  const ms = new Map<string, { fn: string; where: string; ms: number }>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] ?? -1);
    // The delta before sample i+1 is the time sample i stood for.
    const us = deltas[i + 1] ?? 0;
    if (node === undefined) continue;
    total += us;
    const fn = node.callFrame.functionName || "(anonymous)";
    const where = place(node.callFrame.url, node.callFrame.lineNumber);
    const key = `${fn}\u0000${where}`;
    const row = ms.get(key) ?? { fn, where, ms: 0 };
    row.ms += us / 1000;
    ms.set(key, row);
  }
  return { total: total / 1000, rows: [...ms.values()].sort((a, b) => b.ms - a.ms) };
}

const { xr, observed } = steady(modelCache({ clusterSelector: { cel: CEL } }), n);
const clusters = clustersField(n);
const bytes = wireRequest(xr, n, observed, clusters);
const compose = createCompose({ defaultHydratorImage: IMAGE });
const log = newLogger(false, { write: () => undefined });
// The same bytes each call: the call path keeps nothing of them (a copy per call would be the harness's time, not the function's).
// A first pass: the selector's text new on each call, every request built before profiling starts.
const requests = Array.from({ length: calls + 2 }, (_, i) =>
  first ? wireRequest(modelCache({ clusterSelector: { cel: `${CEL} && ${i + 1} > 0` } }), n, {}, clusters) : bytes,
);
const call = (i: number) => handleBytes(requests[i] ?? bytes, compose, log);

for (let i = 0; i < 2; i++) await call(i);
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 500 });
await session.post("Profiler.start");
const times: number[] = [];
for (let i = 0; i < calls; i++) {
  const t0 = performance.now();
  await call(i + 2);
  times.push(performance.now() - t0);
}
const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: Profile };
session.disconnect();
if (values.cpuprofile) writeFileSync(values.cpuprofile, JSON.stringify(profile));

const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
const { total, rows } = selfTimes(profile);
process.stdout.write(
  `${n} clusters, ${(bytes.length / 2 ** 20).toFixed(1)} MiB request, ${calls} ${first ? "first-pass" : "converged"} calls profiled: median ${median.toFixed(0)} ms per call, ${total.toFixed(0)} ms sampled\n\n`,
);
process.stdout.write("| function | where | self ms per call | share |\n|---|---|---|---|\n");
for (const r of rows.slice(0, top))
  process.stdout.write(
    `| \`${r.fn}\` | ${r.where || (r.fn.startsWith("(") ? "V8" : "native (C++)")} | ${(r.ms / calls).toFixed(1)} | ${((100 * r.ms) / total).toFixed(1)}% |\n`,
  );
