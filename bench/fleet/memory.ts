// What a worker holds during a fleet call, stage by stage: the server's own call path run in this process as a
// worker runs it, with the request walked as it arrives (protocol/stream-request.ts) in 1 MiB batches, each freed
// once read, as the server moves them. After each stage the thread's V8 heap in use and the memory outside it
// (Buffers and ArrayBuffers) are read, after a full collection, so what is live is what is counted; the largest
// of each is the call's working set on the worker (the idle isolate and the gRPC thread's share are measured
// through the server: bench/fleet/transport.ts, run.ts).
//
//   node --expose-gc bench/fleet/memory.ts [--clusters 5000] [--scenario steady|first] [--whole]
//
// --whole reads each request whole instead (decodeRequest, as before the walk), for the time side by side; --fast
// leaves out the collections between the walk's stages (they are in its time otherwise): compare --fast with --whole.
import { parseArgs } from "node:util";
import { createCompose } from "../../functions/server/compose-run-function.ts";
import { newLogger } from "../../functions/server/logger.ts";
import { handleBytes, handleDecoded, streamedRequest } from "../../functions/server/service.ts";
import { modelCache } from "../../test/support/fleet-builders.ts";
import { CEL, clustersField, IMAGE, MiB, steady, wireRequest } from "./requests.ts";

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "5000" },
    scenario: { type: "string", default: "steady" },
    whole: { type: "boolean", default: false },
    fast: { type: "boolean", default: false },
  },
});
const n = Number(values.clusters);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const c = steady(modelCache({ clusterSelector: { cel: CEL } }), n);
const first = values.scenario === "first";
const request = (i: number) =>
  first
    ? wireRequest(modelCache({ clusterSelector: { cel: `${CEL} && ${i + 1} > 0` } }), n, {}, clustersField(n))
    : wireRequest(c.xr, n, c.observed, clustersField(n));
const compose = createCompose({ defaultHydratorImage: IMAGE });
const log = newLogger(false, { write: () => undefined });

const mib = (b: number) => Math.round(b / MiB);
function live(): { heapMiB: number; outsideMiB: number } {
  gc?.();
  const m = process.memoryUsage();
  return { heapMiB: mib(m.heapUsed), outsideMiB: mib(m.external) };
}

for (let call = 0; call < 3; call++) {
  const bytes = request(call);
  const stages: Record<string, { heapMiB: number; outsideMiB: number }> = {};
  // The request itself is this bench's (the client's), not the worker's: counted out.
  const base = live();
  if (values.whole) {
    // The request read whole, as a request under STREAM_FROM_BYTES is (and every request was before).
    const t0 = performance.now();
    const rsp = await handleBytes(bytes, compose, log);
    const ms = performance.now() - t0;
    process.stdout.write(
      `${JSON.stringify({ call, clusters: n, scenario: first ? "first" : "steady", whole: true, ms: Math.round(ms), responseBytes: rsp.length, after: live() })}\n`,
    );
    continue;
  }
  const s = streamedRequest(bytes.length, compose);
  const t0 = performance.now();
  for (let at = 0; at < bytes.length; at += MiB) {
    // A batch of its own, as the server moves one (transfer.ts), freed once read.
    const batch = Buffer.from(bytes.subarray(at, at + MiB));
    s.write(batch);
    (batch.buffer as ArrayBuffer).transfer(0);
  }
  if (!values.fast) stages["walked"] = live();
  const decoded = s.end();
  if (!values.fast) stages["rest decoded"] = live();
  const rsp = await handleDecoded(decoded, bytes.length, compose, log);
  stages["composed and encoded"] = live();
  const ms = performance.now() - t0;
  s.release();
  stages["released"] = live();
  const rel = Object.fromEntries(
    Object.entries(stages).map(([k, v]) => [k, { heapMiB: v.heapMiB - base.heapMiB, outsideMiB: v.outsideMiB - base.outsideMiB }]),
  );
  process.stdout.write(
    `${JSON.stringify({ call, clusters: n, scenario: first ? "first" : "steady", requestMiB: +(bytes.length / MiB).toFixed(1), ms: Math.round(ms), responseBytes: rsp.length, stats: s.stats, idle: base, stages: rel })}\n`,
  );
}
