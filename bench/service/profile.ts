// Where the service's time goes under load (not a timed test): the server
// runs under V8's CPU profiler (--cpu-prof: one profile per thread, the gRPC
// thread and each worker) while ghz sends one kind of request at one
// concurrency; then the top functions by self time, per thread, as the
// Markdown table docs/benchmarks.md carries.
//
//   node bench/service/profile.ts [--kind small|normal] [--concurrency 32] [--seconds 10] [--top 12] [-- <serve flags>]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { CLUSTERS_REQUIREMENT } from "../../functions/composition/fleet/compose.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { fleet, modelCache } from "../../test/support/fleet-builders.ts";
import { ROOT, startFunction } from "../../test/support/function-server.ts";
import { requestBytes, structBytes } from "../../test/security/server-wire.ts";

const { values, positionals } = parseArgs({
  options: {
    kind: { type: "string", default: "small" },
    concurrency: { type: "string", default: "32" },
    seconds: { type: "string", default: "10" },
    top: { type: "string", default: "12" },
  },
  allowPositionals: true,
});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const tools = Object.fromEntries(
  execFileSync(join(ROOT, "bench/service/build.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .trim()
    .split("\n")
    .map((l) => l.split(" ") as [string, string]),
) as { ghz: string };

function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

function request(ns: string): Buffer {
  const base = modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } });
  const xr = structBytes({ ...base, metadata: { ...(base["metadata"] as JsonObject), namespace: ns } });
  return values.kind === "normal"
    ? requestBytes({ tag: `normal-${ns}`, xr, required: { [CLUSTERS_REQUIREMENT]: fleet().map((c) => structBytes(c)) } })
    : requestBytes({ tag: `small-${ns}`, xr });
}

/** Self time per function (name, file, line), in ms, over the whole profile. */
function selfTimes(p: Profile): { total: number; fns: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fns = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const n = byId.get(id);
    if (!n) return;
    const f = n.callFrame;
    const file = f.url ? relative(ROOT, f.url.replace(/^file:\/\//, "")) : "";
    const key = `${f.functionName || "(anonymous)"} ${file ? `${file}:${f.lineNumber + 1}` : ""}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + dt);
    total += dt;
  });
  return { total, fns };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "fmc-profile-"));
  const file = join(dir, "requests.bin");
  writeFileSync(file, Buffer.concat(Array.from({ length: 64 }, (_, i) => request(`team-${i}`)).flatMap((r) => [varint(r.length), r])));
  const fn = await startFunction(["--insecure", ...positionals], { LOG_LEVEL: "warn", NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` });
  const out = execFileSync(
    tools.ghz,
    [
      "--insecure",
      "--proto",
      join(ROOT, "proto/fn/v1/run_function.proto"),
      "--import-paths",
      join(ROOT, "proto"),
      "--call",
      "apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction",
      "--binary-file",
      file,
      "-c",
      String(values.concurrency),
      "-z",
      `${values.seconds}s`,
      "--duration-stop",
      "ignore",
      "-O",
      "json",
      `127.0.0.1:${fn.port}`,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const r = JSON.parse(out) as { rps: number; count: number };
  await fn.stop();
  const profiles = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  process.stdout.write(
    `${values.kind} requests, concurrency ${values.concurrency}, ${values.seconds} s: ${r.count} calls, ${r.rps.toFixed(0)} calls/s; profiles: ${dir}\n`,
  );
  // The gRPC thread's profile is the process's (its file has the lowest thread id, 0).
  for (const f of profiles.sort()) {
    const p = JSON.parse(readFileSync(join(dir, f), "utf8")) as Profile;
    const { total, fns } = selfTimes(p);
    const idle = fns.get("(idle)") ?? 0;
    const thread = /\.(\d+)\.\d+\.cpuprofile$/.exec(f)?.[1] === "0" ? "gRPC thread" : `worker (${f})`;
    process.stdout.write(`\n${thread}: ${(total - idle).toFixed(0)} ms busy of ${total.toFixed(0)} ms\n\n| self ms | % of busy | function |\n|---|---|---|\n`);
    const top = [...fns.entries()]
      .filter(([k]) => k !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .slice(0, Number(values.top));
    for (const [k, ms] of top) process.stdout.write(`| ${ms.toFixed(0)} | ${((100 * ms) / (total - idle)).toFixed(1)} | \`${k}\` |\n`);
  }
}

await main();
