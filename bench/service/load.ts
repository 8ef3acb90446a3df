// The raw client of the service benchmark (bench/service/run.ts): one
// connection, as Crossplane holds one per function, and `--concurrency` calls
// kept in flight on it for `--seconds`, sending pre-serialised requests in
// turn (no encoding in the client; the file holds them each prefixed with its
// length as a varint, as ghz's --binary-file does) and reading nothing of the
// answer but its status. Prints one JSON line: calls, rate, latency percentiles and
// the gRPC status of every call that was not OK.
//
// With --burst N it sends N calls at once instead, spread over --connections
// connections, and waits for all of them.
//
//   node bench/service/load.ts --port <port> --file <request.bin> --concurrency 32 --seconds 8
//   node bench/service/load.ts --port <port> --file <request.bin> --burst 100 --connections 10
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    file: { type: "string" },
    concurrency: { type: "string", default: "32" },
    seconds: { type: "string", default: "8" },
    "deadline-ms": { type: "string", default: "30000" },
    burst: { type: "string" },
    connections: { type: "string", default: "1" },
  },
});
const PATH = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction";
function messages(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < file.length;) {
    let len = 0;
    for (let mul = 1; ; mul *= 128) {
      const b = file[pos++] ?? 0;
      len += (b & 0x7f) * mul;
      if (b < 0x80) break;
    }
    out.push(file.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}
const reqs = messages(readFileSync(String(values.file)));
let next = 0;
// A subchannel pool of its own each: grpc-js otherwise shares one connection between clients of one address.
const clients = Array.from(
  { length: Number(values.connections) },
  () =>
    new grpc.Client(`127.0.0.1:${values.port}`, grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": -1,
      "grpc.max_receive_message_length": -1,
      "grpc.use_local_subchannel_pool": 1,
    }),
);
const same = (b: Buffer) => b;
const ms: number[] = [];
const codes: Record<string, number> = {};
const end = performance.now() + Number(values.seconds) * 1000;
const t0 = performance.now();

let calls = 0;
function once(): Promise<void> {
  const start = performance.now();
  const client = clients[calls++ % clients.length] as grpc.Client;
  return new Promise((resolve) =>
    client.makeUnaryRequest(PATH, same, same, reqs[next++ % reqs.length] as Buffer, { deadline: Date.now() + Number(values["deadline-ms"]) }, (err) => {
      if (err) codes[grpc.status[err.code] ?? String(err.code)] = (codes[grpc.status[err.code] ?? String(err.code)] ?? 0) + 1;
      else ms.push(performance.now() - start);
      resolve();
    }),
  );
}

if (values.burst) await Promise.all(Array.from({ length: Number(values.burst) }, () => once()));
else
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (performance.now() < end) await once();
    }),
  );
const seconds = (performance.now() - t0) / 1000;
for (const c of clients) c.close();
ms.sort((a, b) => a - b);
const pct = (p: number) => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ seconds, ok: ms.length, rps: ms.length / seconds, p50Ms: pct(50), p99Ms: pct(99), maxMs: ms[ms.length - 1] ?? NaN, errors: codes })}\n`,
);
