// Where the transport's time and memory go: the bench's "pass-through" request (the fleet's clusters under an
// XR the function does not compose) sent to a server, the server's RSS sampled every few milliseconds during
// each call. Two servers to compare: the real one (`function`, bin/function-model-cache.js serve), and a bare
// grpc-js server with the same message options that answers at once without a worker (`raw`): the floor of
// gRPC over loopback alone.
//
//   node bench/fleet/transport.ts [--clusters 1000] [--calls 5] [--server function|raw] [--cpu-prof DIR]
//     [--scenario pass-through|steady] [--windows 0,1048576] [--bins a/bin/function-model-cache.js,b/bin/function-model-cache.js] [--rounds 2]
//
// --windows (raw server only): HTTP/2 receive windows to try, 0 for grpc-js's default; a "+a" after one (0+a)
// assembles the message with functions/server/assemble.ts instead of grpc-js's decoder. --bins: the function
// servers to compare (two checkouts), side by side. Each round runs every variant once, in turn, with the same
// request bytes, so a shared machine's load falls on all of them alike.
// --cpu-prof writes the server's CPU profiles (every thread) into DIR, to open in Chrome DevTools or speedscope.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { RUN_FUNCTION_PATH } from "../../functions/protocol/load.ts";
import { freePort, spawnServing, BIN } from "../../test/support/function-server.ts";
import { modelCache } from "../../test/support/fleet-builders.ts";
import { CEL, clustersField, MiB, steady, wireRequest } from "./requests.ts";

/** The bare grpc-js server (bench/bare-server.ts). */
const BARE_SERVER = new URL("../bare-server.ts", import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    calls: { type: "string", default: "5" },
    server: { type: "string", default: "function" },
    "cpu-prof": { type: "string" },
    windows: { type: "string", default: "0" },
    bins: { type: "string" },
    rounds: { type: "string", default: "1" },
    "frame-size": { type: "string" },
    scenario: { type: "string", default: "pass-through" },
  },
});

const n = Number(values.clusters);
const passThrough = { apiVersion: "example.org/v1", kind: "NotAModelCache", metadata: { name: "x", namespace: "ml-team" } };
// "steady": a converged fleet's requeue (run.ts), the server's first call untimed (the worker's caches cold).
const converged = values.scenario === "steady" ? steady(modelCache({ clusterSelector: { cel: CEL } }), n) : { xr: passThrough, observed: {} };
const request = wireRequest(converged.xr, n, converged.observed, clustersField(n));
const maxRecvMiB = Math.ceil((request.length * 1.2) / MiB) + 4;
const env = values["cpu-prof"] ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${values["cpu-prof"]}`, LOG_LEVEL: "warn" } : { LOG_LEVEL: "warn" };
const variants: { name: string; argv: (port: number) => string[] }[] =
  values.server === "raw"
    ? (values.windows ?? "0").split(",").map((spec) => ({
        name: `raw window=${spec}`,
        argv: (port: number) => [
          BARE_SERVER,
          "--answer",
          "empty",
          "--port",
          String(port),
          "--max-recv-mib",
          String(maxRecvMiB),
          "--window",
          spec.replace("+a", ""),
          ...(spec.endsWith("+a") ? ["--assemble"] : []),
          ...(values["frame-size"] ? ["--frame-size", values["frame-size"]] : []),
        ],
      }))
    : (values.bins ?? BIN).split(",").map((bin) => ({
        name: bin,
        argv: (port: number) => [bin, "serve", "--insecure", "--address", `127.0.0.1:${port}`, "--max-recv-message-size", String(maxRecvMiB)],
      }));
const same = (b: Buffer) => b;
for (let round = 0; round < Number(values.rounds); round++)
  for (const variant of variants) {
    const port = await freePort();
    const fn = await spawnServing(port, variant.argv(port), env);
    const pid = fn.child.pid ?? 0;
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
    });
    const call = () =>
      new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(RUN_FUNCTION_PATH, same, same, request, { deadline: Date.now() + 300_000 }, (err, rsp) =>
          err || !rsp ? reject(err ?? new Error("no response")) : resolve(rsp),
        ),
      );
    const idle = rss();
    if (values.scenario === "steady") await call();
    const rows = [];
    for (let i = 0; i < Number(values.calls); i++) {
      let peak = 0;
      let peakAt = 0;
      const t0 = performance.now();
      const sampler = setInterval(() => {
        const r = rss();
        if (r > peak) [peak, peakAt] = [r, performance.now() - t0];
      }, 5);
      await call();
      const ms = performance.now() - t0;
      clearInterval(sampler);
      rows.push({ ms: Math.round(ms), peakRssMiB: Math.round(peak), peakAtMs: Math.round(peakAt), afterRssMiB: Math.round(rss()) });
    }
    client.close();
    await fn.stop();
    const sorted = rows.map((r) => r.ms).sort((a, b) => a - b);
    process.stdout.write(
      `${JSON.stringify({
        round,
        server: variant.name,
        clusters: n,
        requestMiB: +(request.length / MiB).toFixed(1),
        idleRssMiB: Math.round(idle),
        medianMs: sorted[Math.floor(sorted.length / 2)],
        peakRssMiB: Math.max(...rows.map((r) => r.peakRssMiB)),
        load: loadavg()
          .map((l) => l.toFixed(2))
          .join(" "),
        rows,
      })}\n`,
    );
  }
