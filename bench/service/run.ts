// The service under load, beside a pass-through function built with
// function-sdk-go (bench/service/passthrough) and the bare grpc-js server
// (bench/bare-server.ts: the same pass-through, nothing of ours: what
// any Node gRPC server does here), in one run (not a timed test):
//   1. rate and latency: for each request kind and concurrency, ghz (one
//      connection, as Crossplane holds one per function) and then the raw
//      client (load.ts: pre-serialised bytes) against each server in turn,
//      while a prober dials a new connection every 100 ms and asks the
//      standard health service (as the kubelet's gRPC probe does, with its
//      default 1 s timeout);
//   2. memory: each server freshly started, its idle RSS, then a burst of
//      --burst concurrent --burst-mib MiB requests (the raw client, 10
//      connections), the
//      peak RSS and the RSS every second for a minute after.
// The load average is recorded beside every row (the machine is shared).
// --targets picks the servers (go, node, node-workers, ours; and before, with --before <dir>:
// another checkout's server, run by its own bin/function-model-cache.js, to
// measure a change side by side with what it changes).
//
//   bench/service/build.sh   # builds ghz and the pass-through (run.ts calls it)
//   node bench/service/run.ts [--seconds 8] [--concurrency 1,8,32,64] [--kinds small,normal] [--tools ghz,raw]
//        [--burst 100] [--burst-mib 50] [--after 60] [--budget-mib <MiB>] [--skip rate|memory] [--no-image-env]
//        [--targets go,node,node-workers,ours[,before]] [--before <checkout>] [--out <file.json>] [-- <serve flags>]
// Our server runs with the environment the image gives it (the Dockerfile's ENV MALLOC_ lines).
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { CLUSTERS_REQUIREMENT } from "../../functions/composition/fleet/compose.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { fleet, modelCache } from "../../test/support/fleet-builders.ts";
import { BIN, freePort, ROOT, spawnServing, type FunctionProcess } from "../../test/support/function-server.ts";
import { requestBytes, structBytes } from "../../test/security/server-wire.ts";

const { values, positionals } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    concurrency: { type: "string", default: "1,8,32,64" },
    kinds: { type: "string", default: "small,normal" },
    tools: { type: "string", default: "ghz,raw" },
    burst: { type: "string", default: "100" },
    "burst-mib": { type: "string", default: "50" },
    after: { type: "string", default: "60" },
    skip: { type: "string", default: "" },
    targets: { type: "string", default: "go,node,node-workers,ours" },
    // Another checkout of the function (with its node_modules): the target "before".
    before: { type: "string" },
    // Also burst against ours with this --memory-budget (MiB): the budget's refusals and the peak it holds to.
    "budget-mib": { type: "string" },
    // Run ours without the image's malloc settings (to measure what they do).
    "no-image-env": { type: "boolean", default: false },
    out: { type: "string" },
  },
  allowPositionals: true,
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = values.concurrency.split(",").map(Number);
const KINDS = values.kinds.split(",");
const TOOLS = values.tools.split(",");
const TARGETS = values.targets.split(",") as Target[];
const SKIP = new Set(values.skip.split(",").filter(Boolean));
/** Calls are spread over this many namespaces, as a control plane's are: a namespace's share (--tenant-workers, --tenant-rate) is not what is measured. */
const NAMESPACES = 64;

type Target = "go" | "node" | "node-workers" | "ours" | "before";
const ALL_TARGETS: Target[] = ["go", "node", "node-workers", "before", "ours"];
for (const t of TARGETS) if (!ALL_TARGETS.includes(t)) throw new Error(`--targets: unknown target ${t} (${ALL_TARGETS.join(", ")})`);
if (TARGETS.includes("before") && !values.before) throw new Error("--targets before needs --before <checkout>");
const tools = Object.fromEntries(
  execFileSync(join(ROOT, "bench/service/build.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .trim()
    .split("\n")
    .map((l) => l.split(" ") as [string, string]),
) as { ghz: string; passthrough: string };
const work = mkdtempSync(join(tmpdir(), "fmc-bench-service-"));

// ---- requests ---------------------------------------------------------------

function inNamespace(xr: JsonObject, namespace: string): JsonObject {
  return { ...xr, metadata: { ...(xr["metadata"] as JsonObject), namespace } };
}

/** One request of `kind` in namespace `ns`: small (a ModelCache, no cluster yet: what a first reconcile sends), normal (the four clusters of the fleet tests). */
function request(kind: string, ns: string): Buffer {
  const xr = inNamespace(modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } }), ns);
  if (kind === "small") return requestBytes({ tag: `small-${ns}`, xr: structBytes(xr) });
  if (kind === "normal")
    return requestBytes({ tag: `normal-${ns}`, xr: structBytes(xr), required: { [CLUSTERS_REQUIREMENT]: fleet().map((c) => structBytes(c)) } });
  throw new Error(`unknown kind ${kind}`);
}

/** A request of about `mib` MiB that both functions pass through whole: earlier steps' desired resources, 1 MiB of data each. */
function bigRequest(mib: number): Buffer {
  const desired: Record<string, Buffer> = {};
  for (let i = 0; i < mib; i++)
    desired[`blob-${i}`] = structBytes({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `blob-${i}` }, data: { blob: "x".repeat(1024 * 1024 - 128) } });
  return requestBytes({ tag: "big", xr: structBytes(inNamespace(modelCache(), "ml-team")), desired });
}

function varint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

/** ghz's --binary-file with several messages: each prefixed with its length (a varint); ghz sends them round-robin. */
function writeRequests(kind: string): { file: string; bytes: number } {
  const reqs = Array.from({ length: NAMESPACES }, (_, i) => request(kind, `team-${i}`));
  const file = join(work, `${kind}.bin`);
  writeFileSync(file, Buffer.concat(reqs.flatMap((r) => [varint(r.length), r])));
  return { file, bytes: (reqs[0] as Buffer).length };
}

// ---- servers ----------------------------------------------------------------

interface Server {
  target: Target;
  port: number;
  pid: number;
  stop(): Promise<unknown>;
}

async function startGo(maxRecvMiB: number): Promise<Server> {
  const port = await freePort();
  const fn: FunctionProcess = await spawnServingBinary(port, [
    tools.passthrough,
    "--address",
    `127.0.0.1:${port}`,
    "--max-recv-message-size",
    String(maxRecvMiB),
  ]);
  return { target: "go", port, pid: fn.child.pid ?? 0, stop: () => fn.stop() };
}

/** The Go function prints nothing when it serves: it is ready once its port answers a health check. */
async function spawnServingBinary(port: number, argv: string[]): Promise<FunctionProcess> {
  const [bin, ...args] = argv as [string, ...string[]];
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  for (let i = 0; i < 100; i++) {
    if ((await probe(port, 1000)).ok) break;
    await sleep(100);
  }
  return {
    port,
    child,
    output: () => "",
    waitForOutput: async () => "",
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** The environment the image gives the server (the Dockerfile's `ENV MALLOC_...` lines: glibc's malloc settings). */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, "Dockerfile"), "utf8").split("\n")) {
    const [, key, value] = /^ENV (MALLOC_\w+)=(\S+)$/.exec(line) ?? [];
    if (key && value) env[key] = value;
  }
  return env;
}
const IMAGE_ENV = values["no-image-env"] ? {} : imageEnv();

async function startOurs(extra: string[], target: "ours" | "before" = "ours"): Promise<Server> {
  const port = await freePort();
  const bin = target === "before" ? join(String(values.before), "bin/function-model-cache.js") : BIN;
  const fn = await spawnServing(port, [bin, "serve", "--address", `127.0.0.1:${port}`, "--insecure", ...extra, ...positionals], {
    LOG_LEVEL: "warn",
    ...IMAGE_ENV,
  });
  return { target, port, pid: fn.child.pid ?? 0, stop: () => fn.stop() };
}

/** The bare grpc-js server: the floor of any Node gRPC server here; node-workers: the same, each call answered on one of 2 worker threads (as many as ours has). */
async function startNode(maxRecvMiB: number, target: "node" | "node-workers"): Promise<Server> {
  const port = await freePort();
  const fn = await spawnServing(port, [
    join(ROOT, "bench/bare-server.ts"),
    "--port",
    String(port),
    "--max-recv-mib",
    String(maxRecvMiB),
    ...(target === "node-workers" ? ["--workers", "2"] : []),
  ]);
  return { target, port, pid: fn.child.pid ?? 0, stop: () => fn.stop() };
}

function start(target: Target, maxRecvMiB: number, flags: string[] = []): Promise<Server> {
  if (target === "go") return startGo(maxRecvMiB);
  if (target === "node" || target === "node-workers") return startNode(maxRecvMiB, target);
  return startOurs(maxRecvMiB === 4 ? flags : ["--max-recv-message-size", String(maxRecvMiB), ...flags], target);
}

// ---- health prober ----------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const same = (b: Buffer) => b;

/** One health check on a new connection (as the kubelet's gRPC probe dials one per probe). */
async function probe(port: number, deadlineMs: number): Promise<{ ok: boolean; ms: number; status?: string }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const t0 = performance.now();
  try {
    const rsp = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest("/grpc.health.v1.Health/Check", same, same, Buffer.alloc(0), { deadline: Date.now() + deadlineMs }, (err, r) =>
        err || !r ? reject(err ?? new Error("no answer")) : resolve(r),
      ),
    );
    // HealthCheckResponse { status = 1 }: SERVING is 1.
    return { ok: rsp[0] === 0x08 && rsp[1] === 1, ms: performance.now() - t0 };
  } catch (err) {
    return { ok: false, ms: performance.now() - t0, status: grpc.status[(err as grpc.ServiceError).code] ?? String(err) };
  } finally {
    client.close();
  }
}

function startProber(port: number): { stop(): Promise<HealthStats> } {
  let stop = false;
  const runs: { ok: boolean; ms: number; status?: string }[] = [];
  const loop = (async () => {
    while (!stop) {
      const next = sleep(100);
      runs.push(await probe(port, 1000));
      await next;
    }
  })();
  return {
    stop: async () => {
      stop = true;
      await loop;
      const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
      return {
        probes: runs.length,
        p50Ms: round(pct(ms, 50)),
        p99Ms: round(pct(ms, 99)),
        maxMs: round(ms[ms.length - 1] ?? NaN),
        failed: runs.filter((r) => !r.ok).length,
      };
    },
  };
}
interface HealthStats {
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  failed: number;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (x: number, d = 1) => +x.toFixed(d);

// ---- load -------------------------------------------------------------------

interface LoadStats {
  ok: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: Record<string, number>;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => (code === 0 || (cmd === tools.ghz && out.startsWith("{")) ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${out}`))));
  });
}

interface GhzReport {
  count: number;
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
}

async function ghz(port: number, file: string, concurrency: number, opts: { seconds?: number; total?: number; connections?: number }): Promise<LoadStats> {
  const args = [
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
    String(concurrency),
    "--connections",
    String(opts.connections ?? 1),
    "--timeout",
    "120s",
    // Calls still in flight when the time is up are not counted (by default they are, as UNAVAILABLE).
    "--duration-stop",
    "ignore",
    "--max-recv-message-size",
    "2047MiB",
    "-O",
    "json",
    ...(opts.seconds ? ["-z", `${opts.seconds}s`] : ["-n", String(opts.total)]),
    `127.0.0.1:${port}`,
  ];
  const r = JSON.parse(await run(tools.ghz, args)) as GhzReport;
  const p = (n: number) => round((r.latencyDistribution?.find((d) => d.percentage === n)?.latency ?? NaN) / 1e6, 2);
  const { OK = 0, ...errors } = r.statusCodeDistribution;
  return { ok: OK, rps: round(r.rps, 0), p50Ms: p(50), p99Ms: p(99), errors };
}

async function raw(port: number, file: string, concurrency: number): Promise<LoadStats> {
  const out = await run(process.execPath, [
    join(ROOT, "bench/service/load.ts"),
    "--port",
    String(port),
    "--file",
    file,
    "--concurrency",
    String(concurrency),
    "--seconds",
    String(SECONDS),
  ]);
  const r = JSON.parse(out) as LoadStats;
  return { ...r, rps: round(r.rps, 0), p50Ms: round(r.p50Ms, 2), p99Ms: round(r.p99Ms, 2) };
}

// ---- memory -----------------------------------------------------------------

/** The CPU time a process has used so far, all threads, user and system, in ms (/proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The fields after the command name (which may hold spaces, so after its closing parenthesis): utime is the 14th field, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function memoryBurst(server: Server, file: string): Promise<Record<string, number | string>> {
  await sleep(2000);
  const idle = rssMiB(server.pid);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.pid))), 100);
  const load = loadavg()[0] ?? NaN;
  const t0 = performance.now();
  // The raw client: ghz re-encodes each message from its parsed form, which for 50 MiB takes it longer than the calls' deadline.
  const r = JSON.parse(
    await run(process.execPath, [
      join(ROOT, "bench/service/load.ts"),
      "--port",
      String(server.port),
      "--file",
      file,
      "--burst",
      String(values.burst),
      "--connections",
      "10",
      "--deadline-ms",
      "300000",
    ]),
  ) as LoadStats;
  const burstSeconds = (performance.now() - t0) / 1000;
  const after: number[] = [];
  for (let s = 1; s <= Number(values.after); s++) {
    await sleep(1000);
    after.push(rssMiB(server.pid));
  }
  clearInterval(sampler);
  const at = (s: number) => round(after[Math.min(after.length, s) - 1] ?? NaN, 0);
  return {
    target: server.target,
    load1: round(load, 2),
    idleMiB: round(idle, 0),
    peakMiB: round(peak, 0),
    burstSeconds: round(burstSeconds, 1),
    ok: r.ok,
    errors: JSON.stringify(r.errors),
    after5sMiB: at(5),
    after15sMiB: at(15),
    after30sMiB: at(30),
    after60sMiB: at(60),
    afterVsIdle: round((after[after.length - 1] ?? NaN) / idle, 2),
  };
}

// ---- main -------------------------------------------------------------------

async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  const memory: Record<string, unknown>[] = [];
  process.stdout.write(
    `tools: ${JSON.stringify(tools)}; serve flags: ${JSON.stringify(positionals)}; our server's environment: ${JSON.stringify(IMAGE_ENV)}\n`,
  );
  if (!SKIP.has("rate")) {
    const servers: Server[] = [];
    for (const t of TARGETS) servers.push(await start(t, 4));
    try {
      for (const kind of KINDS) {
        const files = writeRequests(kind);
        // Warm both up (JIT, connections): a few seconds at moderate concurrency.
        for (const s of servers) await ghz(s.port, files.file, 8, { seconds: 2 });
        for (const c of CONCURRENCY)
          for (const tool of TOOLS)
            for (const s of servers) {
              const load1 = loadavg()[0] ?? NaN;
              const prober = startProber(s.port);
              const cpu0 = cpuMs(s.pid);
              const r = tool === "ghz" ? await ghz(s.port, files.file, c, { seconds: SECONDS }) : await raw(s.port, files.file, c);
              const cpu = cpuMs(s.pid) - cpu0;
              const health = await prober.stop();
              const row = {
                kind,
                bytes: files.bytes,
                concurrency: c,
                tool,
                target: s.target,
                load1: round(load1, 2),
                ...r,
                errors: JSON.stringify(r.errors),
                // The server's CPU (every thread, user and system) per call answered: what a call costs, whatever the load.
                cpuUsPerCall: round((cpu * 1000) / Math.max(1, r.ok), 0),
                health,
              };
              rows.push(row);
              process.stdout.write(`${JSON.stringify(row)}\n`);
            }
      }
    } finally {
      for (const s of servers) await s.stop();
    }
  }
  if (!SKIP.has("memory")) {
    const mib = Number(values["burst-mib"]);
    const file = join(work, "big.bin");
    const big = bigRequest(mib);
    writeFileSync(file, Buffer.concat([varint(big.length), big]));
    const maxRecv = String(Math.ceil(mib * 1.1) + 4);
    const runs: { target: Target; flags: string[] }[] = TARGETS.map((t) => ({ target: t, flags: [] }));
    if (values["budget-mib"] && TARGETS.includes("ours")) runs.push({ target: "ours", flags: ["--memory-budget", values["budget-mib"]] });
    for (const { target: t, flags } of runs) {
      const s = await start(t, Number(maxRecv), flags);
      try {
        const row = { ...(await memoryBurst(s, file)), ...(flags.length ? { target: `${t} ${flags.join(" ")}` } : {}) };
        memory.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      } finally {
        await s.stop();
      }
    }
  }
  printTables(rows, memory);
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify({ rows, memory }, null, 2)}\n`);
  }
}

function printTables(rows: Record<string, unknown>[], memory: Record<string, unknown>[]): void {
  const w = (s: string) => process.stdout.write(s);
  if (rows.length) {
    // Every target's rate and p99 beside Go's; ours also ÷ the bare Node server's (how much of the gap is our code) and ÷ before.
    const targets = ALL_TARGETS.filter((t) => TARGETS.includes(t));
    const ratios: [Target, Target][] = (
      [
        ["ours", "go"],
        ["ours", "node"],
        ["ours", "node-workers"],
        ["node", "go"],
        ["node-workers", "go"],
        ["ours", "before"],
        ["before", "go"],
      ] as [Target, Target][]
    ).filter(([a, b]) => TARGETS.includes(a) && TARGETS.includes(b));
    const head = [
      "request",
      "tool",
      "concurrency",
      "load",
      ...targets.map((t) => `${t} calls/s`),
      ...ratios.map(([a, b]) => `${a} ÷ ${b}`),
      ...targets.map((t) => `${t} p99 ms`),
      ...targets.map((t) => `${t} CPU µs/call`),
      `health p99 ms (${targets.join(" / ")})`,
      `health failed (${targets.join(" / ")})`,
      "errors",
    ];
    w(`\n| ${head.join(" | ")} |\n|${head.map(() => "---|").join("")}\n`);
    const key = (r: Record<string, unknown>) => `${String(r["kind"])}|${String(r["tool"])}|${String(r["concurrency"])}`;
    for (const k of [...new Set(rows.map(key))]) {
      const of = (t: Target) => rows.find((r) => key(r) === k && r["target"] === t);
      const h = (t: Target) => of(t)?.["health"] as HealthStats | undefined;
      const rps = (t: Target) => Number(of(t)?.["rps"] ?? NaN);
      const loads = targets.map((t) => String(of(t)?.["load1"] ?? "")).join("-");
      const errors = targets
        .filter((t) => of(t)?.["errors"] !== "{}")
        .map((t) => `${t} ${String(of(t)?.["errors"])}`)
        .join(", ");
      const cells = [
        ...k.split("|"),
        loads,
        ...targets.map((t) => String(of(t)?.["rps"] ?? "")),
        ...ratios.map(([a, b]) => `${round(rps(a) / rps(b), 2)}x`),
        ...targets.map((t) => String(of(t)?.["p99Ms"] ?? "")),
        ...targets.map((t) => String(of(t)?.["cpuUsPerCall"] ?? "")),
        targets.map((t) => String(h(t)?.p99Ms ?? "")).join(" / "),
        targets.map((t) => String(h(t)?.failed ?? "")).join(" / "),
        errors,
      ];
      w(`| ${cells.join(" | ")} |\n`);
    }
  }
  if (memory.length) {
    w(
      "\n| server | load | idle MiB | peak MiB | burst s | answered | refused | +5 s | +15 s | +30 s | +60 s | +60 s ÷ idle |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (const m of memory)
      w(
        `| ${String(m["target"])} | ${String(m["load1"])} | ${String(m["idleMiB"])} | ${String(m["peakMiB"])} | ${String(m["burstSeconds"])} | ${String(m["ok"])} | ${String(m["errors"])} | ${String(m["after5sMiB"])} | ${String(m["after15sMiB"])} | ${String(m["after30sMiB"])} | ${String(m["after60sMiB"])} | ${String(m["afterVsIdle"])}x |\n`,
      );
  }
}

await main();
