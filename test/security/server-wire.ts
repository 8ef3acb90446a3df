// Raw RunFunctionRequest bytes for the server's security tests. A hostile
// client is not bound by a well-behaved encoder (proto-loader refuses to
// write more than 100 nested messages), so these requests are framed here by
// hand, and sent and received as bytes.
import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { startFunction, type FunctionProcess } from "../support/function-server.ts";
import { loadProtocol, RUN_FUNCTION_PATH } from "../../functions/protocol/load.ts";
import type { RunFunctionResponse__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionResponse.ts";
import type { JsonObject, JsonValue } from "../../functions/sdk/types.ts";
import { field } from "../support/protobuf-framing.ts";

export { field };

/** google.protobuf.Value of a JSON value (recursive: for the shallow parts of a request). */
export function valueBytes(v: JsonValue): Buffer {
  if (v === null) return Buffer.from([(1 << 3) | 0, 0]);
  if (typeof v === "string") return field(3, Buffer.from(v));
  if (typeof v === "boolean") return Buffer.from([(4 << 3) | 0, v ? 1 : 0]);
  if (typeof v === "number") {
    const b = Buffer.alloc(9);
    b[0] = (2 << 3) | 1;
    b.writeDoubleLE(v, 1);
    return b;
  }
  if (Array.isArray(v)) return field(6, Buffer.concat(v.map((x) => field(1, valueBytes(x)))));
  return field(5, structBytes(v));
}

/** google.protobuf.Struct (the message body, unframed). */
export function structBytes(o: JsonObject): Buffer {
  return Buffer.concat(Object.entries(o).map(([k, v]) => field(1, Buffer.concat([field(1, Buffer.from(k)), field(2, valueBytes(v))]))));
}

/** A Value holding `depth` lists, each holding the next: built inside out, so any depth is cheap to make. */
export function deepList(depth: number): Buffer {
  let inner = valueBytes("leaf");
  for (let i = 0; i < depth; i++) inner = field(6, field(1, inner));
  return inner;
}

/** A Struct body holding `depth` objects, each under key "a". */
export function deepObject(depth: number): Buffer {
  let inner = structBytes({ leaf: true });
  for (let i = 0; i < depth; i++) inner = field(1, Buffer.concat([field(1, Buffer.from("a")), field(2, field(5, inner))]));
  return inner;
}

/** A Struct body with one entry whose value is the given Value bytes. */
export const structWith = (key: string, value: Buffer): Buffer => field(1, Buffer.concat([field(1, Buffer.from(key)), field(2, value)]));

/** Resource { resource = 1 (Struct) }. */
export const resourceBytes = (structBody: Buffer): Buffer => field(1, structBody);

export interface RawRequest {
  tag?: string;
  /** The observed composite's Struct body. */
  xr?: Buffer;
  /** Desired composed resources: name → Struct body. */
  desired?: Record<string, Buffer>;
  input?: Buffer;
  context?: Buffer;
  /** Required resources: requirement name → Struct bodies. */
  required?: Record<string, Buffer[]>;
}

/** A RunFunctionRequest: meta=1, observed=2, desired=3, input=4, context=5, required_resources=8. */
export function requestBytes(r: RawRequest): Buffer {
  const parts = [field(1, field(1, Buffer.from(r.tag ?? "tag")))];
  if (r.xr) parts.push(field(2, field(1, resourceBytes(r.xr))));
  if (r.desired) {
    const entries = Object.entries(r.desired).map(([k, v]) => field(2, Buffer.concat([field(1, Buffer.from(k)), field(2, resourceBytes(v))])));
    parts.push(field(3, Buffer.concat(entries)));
  }
  if (r.input) parts.push(field(4, r.input));
  if (r.context) parts.push(field(5, r.context));
  // required_resources=8: map<string, Resources { items=1 (Resource) }>.
  for (const [k, items] of Object.entries(r.required ?? {}))
    parts.push(field(8, Buffer.concat([field(1, Buffer.from(k)), field(2, Buffer.concat(items.map((i) => field(1, resourceBytes(i)))))])));
  return Buffer.concat(parts);
}

export function rawClient(port: number): grpc.Client {
  return new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": -1,
    "grpc.max_receive_message_length": -1,
  });
}

const svc = loadProtocol().FunctionRunnerService.service.RunFunction;

/** One call with bytes out and bytes back. */
export function callBytes(client: grpc.Client, req: Buffer, deadlineMs = 30_000): Promise<Buffer> {
  const same = (b: Buffer) => b;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(RUN_FUNCTION_PATH, same, same, req, { deadline: Date.now() + deadlineMs }, (err, rsp) =>
      err || !rsp ? reject(err ?? new Error("no response")) : resolve(rsp),
    ),
  );
}

/** One call with bytes out; the answer decoded by proto-loader (which stops at 100 nested messages). */
export async function callRaw(client: grpc.Client, req: Buffer, deadlineMs = 30_000): Promise<RunFunctionResponse__Output> {
  return svc.responseDeserialize(await callBytes(client, req, deadlineMs));
}

/** The fields of one protobuf message: number → values (varints as numbers, length-delimited as bytes). */
export function fieldsOf(buf: Buffer): Map<number, (number | Buffer)[]> {
  const out = new Map<number, (number | Buffer)[]>();
  let pos = 0;
  const readVarint = () => {
    let v = 0;
    for (let mul = 1; ; mul *= 128) {
      const b = buf[pos++];
      if (b === undefined) throw new Error("truncated varint");
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const tag = readVarint();
    let v: number | Buffer;
    switch (tag & 7) {
      case 0:
        v = readVarint();
        break;
      case 1:
        v = buf.readDoubleLE(pos);
        pos += 8;
        break;
      case 2: {
        const len = readVarint();
        if (pos + len > buf.length) throw new Error("length past the message");
        v = buf.subarray(pos, pos + len);
        pos += len;
        break;
      }
      default:
        throw new Error(`wire type ${tag & 7}`);
    }
    const list = out.get(tag >>> 3) ?? [];
    list.push(v);
    out.set(tag >>> 3, list);
  }
  return out;
}

const bytesOf = (f: Map<number, (number | Buffer)[]>, n: number): Buffer[] => (f.get(n) ?? []).filter((v): v is Buffer => Buffer.isBuffer(v));

/**
 * The first Fatal result of a RunFunctionResponse's bytes, read without decoding the rest (results=3: severity=1,
 * message=2, reason=3): a client that decodes a 4 MB response with proto-loader blocks its own event loop for seconds.
 */
export function fatalOf(rsp: Buffer): { reason: string; message: string } | undefined {
  for (const r of bytesOf(fieldsOf(rsp), 3)) {
    const f = fieldsOf(r);
    if (f.get(1)?.[0] === 1) return { message: bytesOf(f, 2)[0]?.toString("utf8") ?? "", reason: bytesOf(f, 3)[0]?.toString("utf8") ?? "" };
  }
  return undefined;
}

/** A google.protobuf.Value as JSON, at any depth proto-loader would refuse (recursive: tests stay within a few hundred levels). */
export function jsonOfValue(buf: Buffer): JsonValue {
  const f = fieldsOf(buf);
  const [s] = bytesOf(f, 3);
  if (s) return s.toString("utf8");
  const [st] = bytesOf(f, 5);
  if (st) return jsonOfStruct(st);
  const [l] = bytesOf(f, 6);
  if (l) return bytesOf(fieldsOf(l), 1).map(jsonOfValue);
  if (f.has(2)) return f.get(2)?.[0] as number;
  if (f.has(4)) return f.get(4)?.[0] === 1;
  return null;
}

export function jsonOfStruct(buf: Buffer): JsonObject {
  const out: JsonObject = {};
  for (const e of bytesOf(fieldsOf(buf), 1)) {
    const ef = fieldsOf(e);
    const [k] = bytesOf(ef, 1);
    const [v] = bytesOf(ef, 2);
    // An own property even when the key is spelled __proto__ (an assignment would set the prototype and drop it).
    Object.defineProperty(out, k?.toString("utf8") ?? "", { value: v ? jsonOfValue(v) : null, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A desired composed resource of a RunFunctionResponse's bytes (desired=2, resources=2, Resource.resource=1). */
export function desiredResource(rsp: Buffer, name: string): JsonObject | undefined {
  const [desired] = bytesOf(fieldsOf(rsp), 2);
  for (const e of desired ? bytesOf(fieldsOf(desired), 2) : []) {
    const ef = fieldsOf(e);
    if (bytesOf(ef, 1)[0]?.toString("utf8") !== name) continue;
    const [r] = bytesOf(ef, 2);
    const [s] = r ? bytesOf(fieldsOf(r), 1) : [];
    return s ? jsonOfStruct(s) : {};
  }
  return undefined;
}

/** A ModelCache XR body with the given spec (shallow). */
export function modelCacheXr(spec: JsonObject, name = "c"): Buffer {
  return structBytes({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache", metadata: { name, namespace: "team-a" }, spec });
}

export interface ServerUnderTest {
  fn: FunctionProcess;
  client: grpc.Client;
}

/** The real server with `args` and a raw client, for the whole file or (perCase) afresh for each case. */
export function serverUnderTest(args: string[], perCase = false): ServerUnderTest {
  const s = {} as ServerUnderTest;
  (perCase ? beforeEach : beforeAll)(async () => {
    s.fn = await startFunction(args);
    s.client = rawClient(s.fn.port);
  });
  (perCase ? afterEach : afterAll)(async () => {
    s.client?.close();
    await s.fn?.stop();
  });
  return s;
}
