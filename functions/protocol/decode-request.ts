// A RunFunctionRequest read straight from its protobuf bytes into the plain
// request the composition logic uses.
//
// Why not proto-loader: it decodes every google.protobuf.Value into a message
// object, copies it again into a plain object (toObject with defaults and
// oneofs), and fromStruct walks it a third time. For a fleet's required
// resources (5,000 clusters with DRA pools, hundreds of MiB of Struct) that
// costs about 0.3 s per MiB, most of a reconcile. Struct's wire format is
// small and fixed, so it is read here once, into JSON values directly.
//
// The result is exactly requestFromWire(proto-loader's decode) for every
// request (decode-request.test.ts compares them), including unknown fields
// (skipped), repeated singular fields (the last wins) and absent map keys or
// values (their defaults). Never throws: unreadable bytes are a value.
// Required resources the caller names (`encoded`) are left as their bytes,
// each read the same way, with the same bounds, when it is asked for.
//
// Every bound in limits.ts is checked here, while reading, before a value is
// built: nesting (so the recursion below stays a few hundred frames deep,
// whatever the input), keys, list items, string and key sizes, map entries.
// A refusal names where in the request it happened.
import type * as sdk from "../sdk/types.ts";
import { capText } from "../sdk/messages.ts";
import { describePath, REQUEST_LIMITS } from "./limits.ts";

export type DecodedRequest = { ok: true; request: sdk.FunctionRequest } | { ok: false; tag: string; message: string; refused: boolean };

export interface DecodeOptions {
  /**
   * Required resources whose objects are left as their bytes (request.encodedResources), each decoded only
   * when the composition asks: a fleet's clusters, most of which a worker has read before (the fleet's
   * selection cache is keyed on these bytes). Their framing is checked and counted here as for any other.
   */
  encoded?: (requirement: string) => boolean;
}

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

const READY: Record<number, sdk.Readiness> = { 1: "True", 2: "False" };
const CAPABILITIES: Record<number, string> = {
  0: "CAPABILITY_UNSPECIFIED",
  1: "CAPABILITY_CAPABILITIES",
  2: "CAPABILITY_REQUIRED_RESOURCES",
  3: "CAPABILITY_CREDENTIALS",
  4: "CAPABILITY_CONDITIONS",
  5: "CAPABILITY_REQUIRED_SCHEMAS",
};

class Truncated extends Error {}

/** A well-formed request over one of REQUEST_LIMITS. */
class Refused extends Error {}

// For the request walked as its bytes arrive (stream-request.ts): the same two kinds of failure.
export { Truncated as MalformedRequest, Refused as RefusedRequest };

/** Strings up to this many bytes are shared through SHORT_STRINGS. */
const SHORT = 32;
/** Bounded: a request full of distinct strings (UUIDs) must not grow it without end. */
const MAX_SHORT_STRINGS = 16_384;
const SHORT_STRINGS = new Map<number, string>();

/**
 * A cursor over the request's bytes; `end` bounds the current (sub)message.
 * One object for the whole request: sub-messages are read by saving and
 * restoring `end`, so a million Struct values allocate no readers.
 */
class Reader {
  pos = 0;
  end: number;
  readonly buf: Buffer;
  /** Nesting of Struct and list values below the current top-level field. */
  depth = 0;
  /** The key or index at each level, for a refusal's message. */
  readonly path: (string | number)[] = [];
  /** The top-level field being read: `context`, `observed.composite`, ... */
  where = "request";
  constructor(buf: Buffer) {
    this.buf = buf;
    this.end = buf.length;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    // Values above 2^53 lose precision; only tags, lengths and enums are read this way.
    const buf = this.buf;
    let b = buf[this.pos] ?? 0;
    if (b < 0x80 && this.pos < this.end) {
      this.pos++;
      return b;
    }
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Truncated("truncated varint");
      b = buf[this.pos++] ?? 0;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Truncated("varint longer than 10 bytes");
  }

  /** Enter a length-delimited field: returns the enclosing end, to pass to `leave`. */
  enter(): number {
    const len = this.varint();
    if (this.pos + len > this.end) throw new Truncated("length-delimited field runs past its message");
    const outer = this.end;
    this.end = this.pos + len;
    return outer;
  }

  /** Leave a field entered with `enter`, skipping whatever was not read. */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  /** A string field of at most `max` bytes. */
  string(max: number = REQUEST_LIMITS.stringBytes): string {
    const len = this.varint();
    const start = this.pos;
    const stop = start + len;
    if (stop > this.end) throw new Truncated("string runs past its message");
    if (len > max) this.refuse(`a string of ${len} bytes is over the limit of ${max}`);
    this.pos = stop;
    if (len <= SHORT) return this.shortString(start, stop);
    return this.buf.toString("utf8", start, stop);
  }

  /**
   * Short strings are mostly the same few hundred keys and values repeated for
   * every device of every cluster ("attributes", "productName", "Hopper"): an
   * ASCII one is looked up by a hash of its bytes and shared, which saves
   * building, and later interning, a new string each time.
   */
  private shortString(start: number, stop: number): string {
    const buf = this.buf;
    let h = 0x811c9dc5;
    for (let i = start; i < stop; i++) {
      const b = buf[i] ?? 0x80;
      if (b >= 0x80) return buf.toString("utf8", start, stop);
      h = Math.imul(h ^ b, 0x01000193);
    }
    const cached = SHORT_STRINGS.get(h);
    if (cached !== undefined && cached.length === stop - start) {
      let same = true;
      for (let i = 0; i < cached.length; i++)
        if (cached.charCodeAt(i) !== buf[start + i]) {
          same = false;
          break;
        }
      if (same) return cached;
    }
    const str = buf.toString("latin1", start, stop);
    if (SHORT_STRINGS.size >= MAX_SHORT_STRINGS) SHORT_STRINGS.clear();
    SHORT_STRINGS.set(h, str);
    return str;
  }

  /** The bytes of a length-delimited field, copied: the request buffer is not kept alive by one value. */
  bytes(): Buffer {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new Truncated("bytes run past their message");
    if (len > REQUEST_LIMITS.stringBytes) this.refuse(`${len} bytes are over the limit of ${REQUEST_LIMITS.stringBytes}`);
    this.pos = start + len;
    return Buffer.from(this.buf.subarray(start, start + len));
  }

  /** Refuse the request at the current path. */
  refuse(what: string): never {
    throw new Refused(`${describePath(this.where, this.path.slice(0, this.depth))}: ${what}`);
  }

  /** Refuse the request at the Struct or list being read, not at its last item. */
  refuseHere(what: string): never {
    this.depth--;
    this.refuse(what);
  }

  /** One level deeper into a Struct or list value. */
  descend(): void {
    if (++this.depth > REQUEST_LIMITS.depth) this.refuse(`nested deeper than ${REQUEST_LIMITS.depth} levels`);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new Truncated("truncated double");
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A field's key. Field number 0 is not protobuf (Go's decoder refuses it): a lenient reading of it could let damaged bytes be read as another field, the tag among them. */
  key(): number {
    const k = this.varint();
    if (k < 8) throw new Truncated("field number 0");
    return k;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.pos += 8;
        break;
      case BYTES:
        this.leave(this.enter());
        return;
      case FIXED32:
        this.pos += 4;
        break;
      default:
        throw new Truncated(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new Truncated("truncated fixed-width field");
  }
}

/** `obj[key] = value`, also for a key spelled `__proto__` (an own property, never the prototype). */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

// Each reader below reads one message from the current position to the reader's end.

// google.protobuf.Value: null_value=1, number_value=2, string_value=3, bool_value=4, struct_value=5, list_value=6.
function value(r: Reader): sdk.JsonValue {
  let v: sdk.JsonValue = null;
  while (r.more()) {
    const tag = r.key();
    switch (tag) {
      case (3 << 3) | BYTES:
        v = r.string();
        break;
      case (5 << 3) | BYTES:
        v = struct(r);
        break;
      case (2 << 3) | FIXED64:
        v = r.double();
        break;
      case (4 << 3) | VARINT:
        v = r.varint() !== 0;
        break;
      case (6 << 3) | BYTES:
        v = list(r);
        break;
      case (1 << 3) | VARINT:
        r.varint();
        v = null;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return v;
}

/** Read the length-delimited message at the cursor with `read`. */
function nested<T>(r: Reader, read: (r: Reader) => T): T {
  const outer = r.enter();
  const v = read(r);
  r.leave(outer);
  return v;
}

// google.protobuf.ListValue: values=1. Called at a length prefix.
function list(r: Reader): sdk.JsonValue[] {
  const outer = r.enter();
  r.descend();
  const level = r.depth;
  const out: sdk.JsonValue[] = [];
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) {
      if (out.length >= REQUEST_LIMITS.items) r.refuseHere(`more than ${REQUEST_LIMITS.items} items in one list`);
      r.path[level - 1] = out.length;
      out.push(nested(r, value));
    } else r.skip(tag & 7);
  }
  r.depth--;
  r.leave(outer);
  return out;
}

/**
 * A map entry at a length prefix: key=1, value=2; either may be absent on the
 * wire. While its value is read, a refusal names it as `base["key"]`.
 */
function entry<T>(r: Reader, base: string, readValue: (r: Reader) => T, empty: () => T): [string, T] {
  const outer = r.enter();
  let key = "";
  let v: T | undefined;
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) key = r.string(REQUEST_LIMITS.keyBytes);
    else if (tag === ((2 << 3) | BYTES)) {
      r.where = `${base}[${JSON.stringify(key)}]`;
      v = nested(r, readValue);
    } else r.skip(tag & 7);
  }
  r.leave(outer);
  return [key, v ?? empty()];
}

/** Counts the entries of one map or list of resources against REQUEST_LIMITS.resources. */
function counter(what: string): () => void {
  let n = 0;
  return () => {
    if (++n > REQUEST_LIMITS.resources) throw new Refused(`more than ${REQUEST_LIMITS.resources} ${what}`);
  };
}

// google.protobuf.Struct: fields=1 (map<string, Value>). Called at a length prefix.
function struct(r: Reader): sdk.JsonObject {
  const outer = r.enter();
  r.descend();
  const level = r.depth;
  const out: sdk.JsonObject = {};
  let fields = 0;
  while (r.more()) {
    const tag = r.key();
    if (tag !== ((1 << 3) | BYTES)) {
      r.skip(tag & 7);
      continue;
    }
    // Counted per entry on the wire: a repeated key is still work.
    if (++fields > REQUEST_LIMITS.fields) r.refuseHere(`more than ${REQUEST_LIMITS.fields} keys in one object`);
    // The map entry, inlined: this loop runs once per key of every object in the request.
    const entryOuter = r.enter();
    let key = "";
    let v: sdk.JsonValue = null;
    while (r.more()) {
      const t = r.key();
      if (t === ((1 << 3) | BYTES)) r.path[level - 1] = key = r.string(REQUEST_LIMITS.keyBytes);
      else if (t === ((2 << 3) | BYTES)) v = nested(r, value);
      else r.skip(t & 7);
    }
    r.leave(entryOuter);
    put(out, key, v);
  }
  r.depth--;
  r.leave(outer);
  return out;
}

function bytesMap(r: Reader, into: Record<string, Uint8Array>, count: () => void): void {
  count();
  const outer = r.enter();
  let key = "";
  let v: Buffer = Buffer.alloc(0);
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) key = r.string(REQUEST_LIMITS.keyBytes);
    else if (tag === ((2 << 3) | BYTES)) v = r.bytes();
    else r.skip(tag & 7);
  }
  r.leave(outer);
  put(into, key, v);
}

// Resource: resource=1 (Struct), connection_details=2 (map<string, bytes>), ready=3.
function resource(r: Reader): sdk.ResourceState {
  const out: sdk.ResourceState = { resource: {}, connectionDetails: {}, ready: "Unspecified" };
  const count = counter("connection details");
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) out.resource = struct(r);
    else if (tag === ((2 << 3) | BYTES)) bytesMap(r, out.connectionDetails, count);
    else if (tag === ((3 << 3) | VARINT)) out.ready = READY[r.varint()] ?? "Unspecified";
    else r.skip(tag & 7);
  }
  return out;
}

const emptyResource = (): sdk.ResourceState => ({ resource: {}, connectionDetails: {}, ready: "Unspecified" });

// State: composite=1, resources=2 (map<string, Resource>).
function state(r: Reader, name: string): sdk.State {
  const out: sdk.State = { composite: undefined, resources: {} };
  const count = counter(`${name} resources`);
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) {
      r.where = `${name}.composite`;
      out.composite = nested(r, resource);
    } else if (tag === ((2 << 3) | BYTES)) {
      count();
      const [k, v] = entry(r, `${name}.resources`, resource, emptyResource);
      put(out.resources, k, v);
    } else r.skip(tag & 7);
  }
  return out;
}

/** Resources: items=1 (repeated Resource), each read with `read` at its length prefix, named `base[i]` for refusals. */
function eachItem<T>(r: Reader, read: (r: Reader, where: string) => T): T[] {
  const out: T[] = [];
  const base = r.where;
  const count = counter("required resources in one requirement");
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) {
      count();
      out.push(read(r, `${base}[${out.length}]`));
    } else r.skip(tag & 7);
  }
  return out;
}

// Only the objects are used.
function items(r: Reader): sdk.JsonObject[] {
  return eachItem(r, (x, where) => {
    x.where = where;
    return nested(x, resource).resource;
  });
}

/** One Resource message left as its bytes: a view of the request, decoded (and bounded) on demand. */
class Encoded implements sdk.EncodedResource {
  readonly bytes: Buffer;
  readonly digest: string | undefined;
  readonly #where: string;
  constructor(bytes: Buffer, where: string, digest?: string) {
    this.bytes = bytes;
    this.#where = where;
    this.digest = digest;
  }

  decode(): sdk.DecodedResource {
    return this.#read((r) => resource(r).resource);
  }

  /**
   * The object with its `metadata` alone, the rest skipped by length: what ordering needs, read without
   * building the object. Exactly the `metadata` decode() reads (the last of repeated fields and keys wins,
   * as there); when it cannot be read, decode()'s own error, which names where.
   */
  decodeMetadata(): sdk.DecodedResource {
    const peeked = this.#read(metadataOnly);
    if (peeked.ok) return peeked;
    const whole = this.decode();
    return whole.ok ? peeked : whole;
  }

  #read(read: (r: Reader) => sdk.JsonObject): sdk.DecodedResource {
    const r = new Reader(this.bytes);
    r.where = this.#where;
    try {
      return { ok: true, resource: read(r) };
    } catch (err) {
      if (err instanceof Refused) return { ok: false, message: err.message, refused: true };
      if (err instanceof Truncated || err instanceof RangeError)
        return { ok: false, message: `malformed RunFunctionRequest: ${capText(err.message, 256)}`, refused: false };
      throw err;
    }
  }
}

/** A Resource message's bytes, decoded on demand and named `where` in a refusal; `digest`: their SHA-256 when already known. */
export function encodedResource(bytes: Buffer, where: string, digest?: string): sdk.EncodedResource {
  return new Encoded(bytes, where, digest);
}

/**
 * A Resource whose bytes were let go as they arrived, because the composition had decided on these exact bytes
 * before (`known`). Decoding it is an error naming where: the composition uses `known`, and only while the
 * request still says what it said when the bytes went (stream-request.ts).
 */
class Forgotten implements sdk.EncodedResource {
  readonly bytes = Buffer.alloc(0);
  readonly digest: string;
  readonly known: sdk.KnownResource;
  readonly #where: string;
  constructor(where: string, digest: string, known: sdk.KnownResource) {
    this.#where = where;
    this.digest = digest;
    this.known = known;
  }

  decode(): sdk.DecodedResource {
    return {
      ok: false,
      refused: true,
      message: `${this.#where}: its bytes were let go as they arrived, as already known, and a later field of the request changed what they are read with (the observed composite or the Input after the required resources); send the fields in field-number order, as Crossplane does`,
    };
  }

  decodeMetadata(): sdk.DecodedResource {
    return this.decode();
  }
}

export function forgottenResource(where: string, digest: string, known: sdk.KnownResource): sdk.EncodedResource {
  return new Forgotten(where, digest, known);
}

/**
 * The observed composite's object and the Input of a request's first fields (every top-level field complete):
 * what the composition needs to know whether it has read a required resource's bytes before. Undefined when
 * they cannot be read; the whole request's decode words that.
 */
export function decodeHead(bytes: Uint8Array): { composite: sdk.JsonObject | undefined; input: sdk.JsonObject | undefined } | undefined {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const r = new Reader(buf);
    let composite: sdk.JsonObject | undefined;
    let input: sdk.JsonObject | undefined;
    while (r.more()) {
      const tag = r.key();
      if (tag === ((2 << 3) | BYTES))
        nested(r, (x) => {
          while (x.more()) {
            const t = x.key();
            if (t === ((1 << 3) | BYTES)) composite = nested(x, resource).resource;
            else x.skip(t & 7);
          }
        });
      else if (tag === ((4 << 3) | BYTES)) input = struct(r);
      else r.skip(tag & 7);
    }
    return { composite, input };
  } catch (err) {
    if (err instanceof Refused || err instanceof Truncated || err instanceof RangeError) return undefined;
    throw err;
  }
}

// A Resource message's object (resource=1, a Struct) with only its `metadata` entry read.
function metadataOnly(r: Reader): sdk.JsonObject {
  let meta: sdk.JsonValue | undefined;
  while (r.more()) {
    const tag = r.key();
    if (tag !== ((1 << 3) | BYTES)) {
      r.skip(tag & 7);
      continue;
    }
    // resource sent twice: the last wins, whole.
    meta = undefined;
    const outer = r.enter();
    r.descend();
    while (r.more()) {
      const t = r.key();
      if (t !== ((1 << 3) | BYTES)) {
        r.skip(t & 7);
        continue;
      }
      // The value read only under the key "metadata".
      const e = entrySpan(r);
      if (e.key !== "metadata") continue;
      r.path[0] = e.key;
      meta = e.start < 0 ? null : within(r, e, value);
    }
    r.depth--;
    r.leave(outer);
  }
  return meta === undefined ? {} : { metadata: meta };
}

// Each left as its bytes.
function encodedItems(r: Reader): sdk.EncodedResource[] {
  return eachItem(r, (x, where) => {
    const outer = x.enter();
    const item = new Encoded(x.buf.subarray(x.pos, x.end), where);
    x.leave(outer);
    return item;
  });
}

/**
 * A required_resources entry (key=1, value=2): the value is read once the key is known (a map entry may
 * carry them in either order), decoded or left encoded as `options.encoded` says for that key.
 */
function requiredEntry(r: Reader, base: string, options: DecodeOptions): [string, sdk.JsonObject[] | sdk.EncodedResource[], boolean] {
  const e = entrySpan(r);
  const encoded = options.encoded?.(e.key) === true;
  if (e.start < 0) return [e.key, [], encoded];
  r.where = `${base}[${JSON.stringify(e.key)}]`;
  return [e.key, encoded ? within(r, e, encodedItems) : within(r, e, items), encoded];
}

/** A map entry at a length prefix (key=1, value=2, in either order; the last of each wins): its key, and where its value's message lies (start -1: absent). */
function entrySpan(r: Reader): { key: string; start: number; stop: number } {
  const outer = r.enter();
  let key = "";
  let start = -1;
  let stop = -1;
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) key = r.string(REQUEST_LIMITS.keyBytes);
    else if (tag === ((2 << 3) | BYTES)) {
      const inner = r.enter();
      start = r.pos;
      stop = r.end;
      r.leave(inner);
    } else r.skip(tag & 7);
  }
  r.leave(outer);
  return { key, start, stop };
}

/** Read the message between `span.start` and `span.stop` with `read`, then carry on where the cursor was. */
function within<T>(r: Reader, span: { start: number; stop: number }, read: (r: Reader) => T): T {
  const pos = r.pos;
  const end = r.end;
  r.pos = span.start;
  r.end = span.stop;
  const v = read(r);
  r.pos = pos;
  r.end = end;
  return v;
}

// Credentials: credential_data=1 (CredentialData: data=1, map<string, bytes>).
function credentials(r: Reader): Record<string, Uint8Array> {
  let data: Record<string, Uint8Array> = {};
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) {
      data = {};
      const into = data;
      const count = counter("keys in one credential");
      nested(r, (cd) => {
        while (cd.more()) {
          const t = cd.key();
          if (t === ((1 << 3) | BYTES)) bytesMap(cd, into, count);
          else cd.skip(t & 7);
        }
      });
    } else r.skip(tag & 7);
  }
  return data;
}

// RequestMeta: tag=1, capabilities=2 (repeated enum, packed or not).
function meta(r: Reader, into: { tag: string; capabilities: string[] }): void {
  into.tag = "";
  into.capabilities = [];
  r.where = "meta";
  const add = (n: number) => {
    if (into.capabilities.length >= MAX_CAPABILITIES) r.refuse(`more than ${MAX_CAPABILITIES} capabilities`);
    into.capabilities.push(capability(n));
  };
  while (r.more()) {
    const tag = r.key();
    if (tag === ((1 << 3) | BYTES)) into.tag = r.string(REQUEST_LIMITS.tagBytes);
    else if (tag === ((2 << 3) | VARINT)) add(r.varint());
    else if (tag === ((2 << 3) | BYTES))
      nested(r, (packed) => {
        while (packed.more()) add(packed.varint());
      });
    else r.skip(tag & 7);
  }
}

/** Crossplane knows six; room for many more, not for millions. */
const MAX_CAPABILITIES = 256;

function capability(n: number): string {
  return CAPABILITIES[n] ?? String(n);
}

/**
 * RunFunctionRequest: meta=1, observed=2, desired=3, input=4, context=5,
 * extra_resources=6 (Crossplane v1), credentials=7, required_resources=8,
 * required_schemas=9 (not used by this function: skipped).
 */
export function decodeRequest(bytes: Uint8Array, options: DecodeOptions = {}): DecodedRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = { tag: "", capabilities: [] as string[] };
  try {
    const r = new Reader(buf);
    let observed: sdk.State = { composite: undefined, resources: {} };
    let desired: sdk.State = { composite: undefined, resources: {} };
    let input: sdk.JsonObject | undefined;
    let context: sdk.JsonObject | undefined;
    const extra: Record<string, sdk.JsonObject[]> = {};
    const required: Record<string, sdk.JsonObject[]> = {};
    const extraEncoded: Record<string, sdk.EncodedResource[]> = {};
    const requiredEncoded: Record<string, sdk.EncodedResource[]> = {};
    const creds: Record<string, Record<string, Uint8Array>> = {};
    const count = counter("required resources, extra resources and credentials");
    while (r.more()) {
      const tag = r.key();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (wt !== BYTES) {
        r.skip(wt);
        continue;
      }
      switch (field) {
        case 1:
          nested(r, (x) => meta(x, m));
          break;
        case 2:
          observed = nested(r, (x) => state(x, "observed"));
          break;
        case 3:
          desired = nested(r, (x) => state(x, "desired"));
          break;
        case 4:
          r.where = "input";
          input = struct(r);
          break;
        case 5:
          r.where = "context";
          context = struct(r);
          break;
        case 6:
        case 8: {
          count();
          const [k, v, encoded] = requiredEntry(r, field === 6 ? "extra_resources" : "required_resources", options);
          // A key is held one way only (options.encoded decides by the key), so a key sent twice, or in both fields, still resolves as below.
          if (encoded) put(field === 6 ? extraEncoded : requiredEncoded, k, v as sdk.EncodedResource[]);
          else put(field === 6 ? extra : required, k, v as sdk.JsonObject[]);
          break;
        }
        case 7: {
          count();
          const [k, v] = entry(r, "credentials", credentials, () => ({}));
          put(creds, k, v);
          break;
        }
        default:
          r.skip(wt);
      }
    }
    // Crossplane v1.x sent required resources as extra_resources; read both, the v2 field winning.
    const requiredResources: Record<string, sdk.JsonObject[]> = {};
    for (const [k, v] of [...Object.entries(extra), ...Object.entries(required)]) put(requiredResources, k, v);
    const request: sdk.FunctionRequest = { tag: m.tag, observed, desired, input, context, requiredResources, capabilities: m.capabilities, credentials: creds };
    if (options.encoded !== undefined) {
      const encodedResources: Record<string, sdk.EncodedResource[]> = {};
      for (const [k, v] of [...Object.entries(extraEncoded), ...Object.entries(requiredEncoded)]) put(encodedResources, k, v);
      request.encodedResources = encodedResources;
    }
    return { ok: true, request };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, tag: m.tag, message: err.message, refused: true };
    // RangeError: a length past the buffer that slipped the checks above. Never the stack: nesting is bounded.
    if (err instanceof Truncated || err instanceof RangeError)
      return { ok: false, tag: m.tag, message: `malformed RunFunctionRequest: ${capText(err.message, 256)}`, refused: false };
    throw err;
  }
}
