// The floor of a Node gRPC server on this machine: grpc-js alone, with the real server's message options, the
// standard health service, and no worker, no interceptor of ours, no decode. The benchmarks run it beside the
// real function to tell Node's own cost from ours (bench/service/run.ts, `--targets node`; bench/fleet/transport.ts,
// `--server raw`). Not part of the product.
//
//   node bench/bare-server.ts --port <port> --max-recv-mib <MiB> [--answer desired|empty] [--workers <n>]
//     [--window <bytes>] [--frame-size <bytes>] [--assemble]
//
// --answer desired (the default): each call is answered with the request's tag and desired state and a 60 s TTL,
// as function-sdk-go's response.To does (bench/service/passthrough), spliced from the request's bytes: the fields
// on the way are skipped by their length, nothing is decoded. --answer empty: eight zero bytes (the transport
// bench, which measures only the request's way in).
// --workers n: each call's bytes are moved to one of n worker threads (one call at a time each, the others
// waiting in turn), which answers it and moves the answer back, as the real server's pool does, with nothing
// else of ours: the floor of a Node server that does a call's work off the gRPC thread.
// --window: the HTTP/2 receive window of each connection (0, the default, leaves grpc-js's); --frame-size: the
// largest frame it accepts; --assemble: the message assembled by functions/server/assemble.ts instead of
// grpc-js's decoder.
// Prints {"msg":"serving"} once it listens, as the real server's log does.
import type { ServerHttp2Stream } from "node:http2";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker } from "node:worker_threads";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { RUN_FUNCTION_PATH } from "../functions/protocol/load.ts";
import { assembleOnce } from "../functions/server/assemble.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "max-recv-mib": { type: "string", default: "4" },
    answer: { type: "string", default: "desired" },
    window: { type: "string", default: "0" },
    "frame-size": { type: "string", default: "0" },
    assemble: { type: "boolean", default: false },
    workers: { type: "string", default: "0" },
  },
});

/** A varint at `pos`: its value and the position after it. */
function varint(buf: Buffer, pos: number): [number, number] {
  let n = 0;
  for (let mul = 1; pos < buf.length; mul *= 128) {
    const b = buf[pos++] as number;
    n += (b & 0x7f) * mul;
    if (b < 0x80) return [n, pos];
  }
  throw new Error("truncated varint");
}

/** The last length-delimited field `num` of the message in buf[start, end): its bytes. */
function lastField(buf: Buffer, start: number, end: number, num: number): Buffer | undefined {
  let found: Buffer | undefined;
  for (let pos = start; pos < end;) {
    const [tag, at] = varint(buf, pos);
    pos = at;
    const wire = tag & 7;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, body] = varint(buf, pos);
      pos = body + len;
      if (tag >>> 3 === num) found = buf.subarray(body, pos);
    } else throw new Error(`wire type ${wire}`);
  }
  return found;
}

function lengthDelimited(num: number, body: Buffer): Buffer[] {
  const len: number[] = [];
  let n = body.length;
  for (; n >= 0x80; n = Math.floor(n / 128)) len.push((n & 0x7f) | 0x80);
  len.push(n);
  return [Buffer.from([(num << 3) | 2, ...len]), body];
}

/** RunFunctionResponse { meta { tag, ttl { seconds: 60 } }, desired } from RunFunctionRequest { meta { tag } = 1, desired = 3 }. */
function passThrough(req: Buffer): Buffer {
  const meta = lastField(req, 0, req.length, 1);
  const tag = meta ? (lastField(meta, 0, meta.length, 1) ?? Buffer.alloc(0)) : Buffer.alloc(0);
  const desired = lastField(req, 0, req.length, 3);
  const ttl = Buffer.from([0x08, 60]);
  const rspMeta = Buffer.concat([...lengthDelimited(1, tag), ...lengthDelimited(2, ttl)]);
  return Buffer.concat([...lengthDelimited(1, rspMeta), ...(desired ? lengthDelimited(2, desired) : [])]);
}

if (!isMainThread) {
  // A worker: bytes in, the answer out, both moved (the request's memory is the worker's to free).
  parentPort?.on("message", (req: Uint8Array) => {
    const rsp = own(passThrough(Buffer.from(req.buffer, req.byteOffset, req.length)));
    parentPort?.postMessage(rsp, [rsp.buffer as ArrayBuffer]);
  });
} else serve();

/** A copy of `b` in memory of its own, which can be moved to another thread. */
function own(b: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}

/** Answers calls on n workers, one call each at a time, the rest waiting in order. */
function workerPool(n: number): (req: Buffer) => Promise<Buffer> {
  const idle: Worker[] = [];
  const waiting: { req: Buffer; done: (rsp: Buffer) => void }[] = [];
  const running = new Map<Worker, (rsp: Buffer) => void>();
  const next = (w: Worker) => {
    const job = waiting.shift();
    if (!job) return void idle.push(w);
    running.set(w, job.done);
    const req = own(job.req);
    w.postMessage(req, [req.buffer as ArrayBuffer]);
  };
  for (let i = 0; i < n; i++) {
    const w = new Worker(new URL(import.meta.url), { argv: process.argv.slice(2) });
    w.on("message", (rsp: Uint8Array) => {
      running.get(w)?.(Buffer.from(rsp.buffer, rsp.byteOffset, rsp.length));
      running.delete(w);
      next(w);
    });
    idle.push(w);
  }
  return (req) =>
    new Promise((done) => {
      waiting.push({ req, done });
      const w = idle.shift();
      if (w) next(w);
    });
}

function serve(): void {
  const window = Number(values.window);
  const frame = Number(values["frame-size"]);
  const seen = new WeakSet<object>();
  const interceptors: grpc.ServerInterceptor[] =
    window > 0 || frame > 0 || values.assemble
      ? [
          (_method, call) => {
            const session = (call as unknown as { stream?: ServerHttp2Stream }).stream?.session;
            if (session && !seen.has(session)) {
              seen.add(session);
              if (window > 0) {
                session.setLocalWindowSize(window);
                session.settings({ initialWindowSize: window });
              }
              if (frame > 0) session.settings({ maxFrameSize: frame });
            }
            if (values.assemble) assembleOnce(call);
            return new grpc.ServerInterceptingCall(call);
          },
        ]
      : [];
  const server = new grpc.Server({
    "grpc.max_receive_message_length": Number(values["max-recv-mib"]) * 1024 * 1024,
    "grpc.max_send_message_length": -1,
    interceptors,
  });
  const same = (b: Buffer) => b;
  const answer = values.answer === "empty" ? () => Buffer.alloc(8) : passThrough;
  const workers = Number(values.workers);
  const pool = workers > 0 ? workerPool(workers) : undefined;
  server.register(
    RUN_FUNCTION_PATH,
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      if (pool) return void pool(call.request).then((rsp) => cb(null, rsp));
      try {
        cb(null, answer(call.request));
      } catch (err) {
        cb({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
      }
    },
    same,
    same,
    "unary",
  );
  new HealthImplementation({ "": "SERVING" }).addToServer(server);
  server.bindAsync(`127.0.0.1:${values.port}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
    process.stdout.write('{"msg":"serving"}\n');
  });
}
