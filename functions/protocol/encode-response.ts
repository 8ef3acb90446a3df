// A RunFunctionResponse written straight from the plain response to protobuf
// bytes, the mirror of decode-request.ts.
//
// Why not proto-loader: its encoder stops at 100 nested messages (a Struct
// value costs two or three, so about 33 objects deep) and throws "Error
// serializing response" inside grpc-js, where no Fatal result can be made and
// nothing is logged; and it first copies every value into a message object.
// Here nesting is checked against RESPONSE_DEPTH while writing, every value a
// Struct cannot carry is refused with its path (as struct.ts does, except that
// a finite double past 2^53 is written: a request may carry one), and
// a refusal is a value the server turns into a Fatal result.
//
// The bytes decode, with proto-loader, to exactly what responseToWire gives
// (encode-response.test.ts compares them for random responses).
import type * as sdk from "../sdk/types.ts";
import { describePath, RESPONSE_DEPTH } from "./limits.ts";
import type { ConversionError, Converted } from "./struct.ts";

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;

class Refused extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

/** What a response is written into first: one per thread, reused by every response that fits it. */
const SCRATCH_BYTES = 64 * 1024;
let scratch: Buffer | undefined;

/**
 * A growable byte buffer. A length-delimited field is written by reserving one
 * byte for its length, writing the body, and moving the body along when the
 * length needs more bytes: each byte moves at most once per enclosing message,
 * and nesting is bounded.
 *
 * It starts in the thread's scratch buffer and copies the bytes out at the end, so a small response costs one
 * allocation of its own size: a fresh 64 KiB per response made the workers' V8 collect its old generation every
 * few hundred small calls (the buffers' memory is counted against the heap; docs/benchmarks.md, "The service
 * under load"). One that outgrows the scratch continues in memory of its own, which it keeps.
 */
class Writer {
  buf = (scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES));
  pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(n: number): void {
    this.room(10);
    // Only tags, lengths and enums: non-negative and below 2^53.
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  string(field: number, s: string): void {
    this.tag(field, BYTES);
    const len = Buffer.byteLength(s);
    this.varint(len);
    this.room(len);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, BYTES);
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  double(field: number, v: number): void {
    this.tag(field, FIXED64);
    this.room(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** A proto3 enum or integer: its default (0) is not written. */
  enumValue(field: number, v: number): void {
    if (v !== 0) this.present(field, v);
  }

  /** A varint field written whatever its value (an `optional` field, or a bool). */
  present(field: number, v: number): void {
    this.tag(field, VARINT);
    this.varint(v);
  }

  /** A length-delimited sub-message written by `body`. */
  message(field: number, body: () => void): void {
    this.tag(field, BYTES);
    this.room(1);
    const at = this.pos++;
    body();
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    let extra = 0;
    for (let n = len; n >= 0x80; n = Math.floor(n / 0x80)) extra++;
    this.room(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos += extra;
    let n = len;
    let i = at;
    while (n >= 0x80) {
      this.buf[i++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[i] = n;
  }

  /** The bytes written, in memory of their own (never a slice of Node's shared pool): the pool moves them between threads. */
  finish(): Buffer {
    if (this.buf !== scratch) return this.buf.subarray(0, this.pos);
    const out = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * google.protobuf.Value: null_value=1, number_value=2, string_value=3,
 * bool_value=4, struct_value=5, list_value=6. `path` holds the keys and
 * indexes down to here, for a refusal.
 */
function value(w: Writer, v: unknown, root: string, path: (string | number)[]): void {
  const refuse = (message: string): never => {
    throw new Refused(describePath(root, path), message);
  };
  switch (typeof v) {
    case "string":
      w.string(3, v);
      return;
    case "boolean":
      w.present(4, v ? 1 : 0);
      return;
    case "number":
      if (Number.isNaN(v)) refuse("NaN cannot be represented in a protobuf Struct");
      if (!Number.isFinite(v)) refuse("Infinity cannot be represented in a protobuf Struct");
      // Any finite double is written as it is: it is exactly what the wire carries. (struct.ts refuses
      // integers past 2^53 as likely mistakes; a response must pass through what a request brought.)
      w.double(2, v);
      return;
    case "bigint":
      return refuse("bigint cannot be represented in a protobuf Struct; send it as a string");
    case "undefined":
      return refuse("undefined is not a JSON value");
    case "object": {
      if (v === null) {
        w.present(1, 0);
        return;
      }
      if (path.length >= RESPONSE_DEPTH) refuse(`nested deeper than ${RESPONSE_DEPTH} levels`);
      if (Array.isArray(v)) {
        w.message(6, () => {
          for (let i = 0; i < v.length; i++) {
            path.push(i);
            w.message(1, () => value(w, v[i], root, path));
            path.pop();
          }
        });
        return;
      }
      if (v instanceof Date) refuse("a Date is not a JSON value; send it as an RFC 3339 string");
      if (!isPlainObject(v)) refuse(`a ${v.constructor?.name ?? "non-plain"} object is not a JSON value`);
      w.message(5, () => fields(w, v as Record<string, unknown>, root, path));
      return;
    }
    default:
      refuse(`a ${typeof v} is not a JSON value`);
  }
}

/** google.protobuf.Struct's body: fields=1, map<string, Value>. `undefined` properties are left out, as JSON.stringify does. */
function fields(w: Writer, obj: Record<string, unknown>, root: string, path: (string | number)[]): void {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue;
    w.message(1, () => {
      w.string(1, key);
      path.push(key);
      w.message(2, () => value(w, v, root, path));
      path.pop();
    });
  }
}

function struct(w: Writer, field: number, obj: sdk.JsonObject, root: string): void {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj) || !isPlainObject(obj))
    throw new Refused(root, "a Struct must be made from a plain object");
  w.message(field, () => fields(w, obj, root, []));
}

const READY: Record<sdk.Readiness, number> = { Unspecified: 0, True: 1, False: 2 };
const SEVERITY: Record<sdk.Severity, number> = { Fatal: 1, Warning: 2, Normal: 3 };
const TARGET: Record<sdk.ResultTarget, number> = { Composite: 1, CompositeAndClaim: 2 };
const STATUS: Record<sdk.ConditionStatus, number> = { Unknown: 1, True: 2, False: 3 };

/** Resource: resource=1 (Struct), connection_details=2 (map<string, bytes>), ready=3. */
function resource(w: Writer, field: number, r: sdk.ResourceState, root: string): void {
  w.message(field, () => {
    struct(w, 1, r.resource, root);
    for (const [k, b] of Object.entries(r.connectionDetails))
      w.message(2, () => {
        w.string(1, k);
        w.bytes(2, b);
      });
    w.enumValue(3, READY[r.ready]);
  });
}

/** State: composite=1, resources=2 (map<string, Resource>). */
function state(w: Writer, s: sdk.State): void {
  w.message(2, () => {
    if (s.composite) resource(w, 1, s.composite, "desired.composite");
    for (const [name, r] of Object.entries(s.resources))
      w.message(2, () => {
        w.string(1, name);
        resource(w, 2, r, `desired.resources[${JSON.stringify(name)}]`);
      });
  });
}

/** ResourceSelector: api_version=1, kind=2, match_name=3 | match_labels=4 (MatchLabels: labels=1), namespace=5. */
function selector(w: Writer, sel: sdk.ResourceSelector): void {
  w.string(1, sel.apiVersion);
  w.string(2, sel.kind);
  if ("name" in sel.match) w.string(3, sel.match.name);
  else {
    const labels = sel.match.labels;
    w.message(4, () => {
      for (const [k, v] of Object.entries(labels))
        w.message(1, () => {
          w.string(1, k);
          w.string(2, v);
        });
    });
  }
  if (sel.namespace !== undefined) w.string(5, sel.namespace);
}

/**
 * RunFunctionResponse: meta=1 (tag=1, ttl=2 Duration{seconds=1}), desired=2,
 * results=3, context=4, requirements=5 (resources=2), conditions=6.
 */
export function encodeResponse(rsp: sdk.FunctionResponse): Converted<Buffer> {
  const w = new Writer();
  try {
    w.message(1, () => {
      w.string(1, rsp.tag);
      const seconds = Math.max(0, Math.round(rsp.ttlSeconds));
      w.message(2, () => {
        if (seconds > 0) w.present(1, seconds);
      });
    });
    state(w, rsp.desired);
    for (const r of rsp.results)
      w.message(3, () => {
        w.enumValue(1, SEVERITY[r.severity]);
        w.string(2, r.message);
        if (r.reason !== undefined) w.string(3, r.reason);
        if (r.target !== undefined) w.present(4, TARGET[r.target]);
      });
    if (rsp.context) struct(w, 4, rsp.context, "context");
    w.message(5, () => {
      for (const [name, sel] of Object.entries(rsp.requirements.resources))
        w.message(2, () => {
          w.string(1, name);
          w.message(2, () => selector(w, sel));
        });
    });
    for (const c of rsp.conditions)
      w.message(6, () => {
        w.string(1, c.type);
        w.enumValue(2, STATUS[c.status]);
        w.string(3, c.reason);
        if (c.message !== undefined) w.string(4, c.message);
        if (c.target !== undefined) w.present(5, TARGET[c.target]);
      });
    return { ok: true, value: w.finish() };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, error: { path: err.path, message: err.message } satisfies ConversionError };
    throw err;
  }
}
