// A RunFunctionRequest read as its bytes arrive, so a fleet's request is never
// held whole. A 5,000-cluster request is about 313 MiB, almost all of it the
// clusters (required resources the composition asks to leave as bytes,
// decode-request.ts `encoded`), and on a converged requeue the worker has read
// every one of them before (fleet/selection-cache.ts, keyed on their exact
// bytes). So each such item is hashed as it passes; when the composition
// already knows what it decided on those bytes (`forget`), only the digest and
// that decision are kept and the bytes go; otherwise the item's bytes are kept
// as decodeRequest would keep them. Everything else (meta, observed, desired,
// input, context, credentials, other requirements: a few MiB) is kept as
// bytes and read by decodeRequest at the end, with every bound it checks.
//
// The result is decodeRequest(bytes, {encoded})'s for the same bytes, with
// the kept items carrying their digest and the forgotten ones their decision:
// the last of a repeated field or key still wins, an entry's key may come
// before or after its value (an entry whose value comes first is buffered
// until its key is known), items over the limit are refused, framing that lies
// about a length is malformed, naming where. What the composition decided on
// bytes it let go is only used while the request still says what it said then:
// the decision carries the context it was made in (fleet/select.ts checks it),
// and anything else asks for the bytes, which is a refusal naming why, never a
// stale decision.
//
// Bytes arrive in pieces of any size (write); a generator walks the message
// and asks for at most the bytes it wants next, so a length or a varint split
// across pieces reads the same as a whole one.
import { createHash, type Hash } from "node:crypto";
import type * as sdk from "../sdk/types.ts";
import { capText } from "../sdk/messages.ts";
import { decodeRequest, encodedResource, forgottenResource, MalformedRequest, RefusedRequest, type DecodedRequest } from "./decode-request.ts";
import { REQUEST_LIMITS } from "./limits.ts";
import { peekRequest } from "./peek-request.ts";

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const FIXED32 = 5;

/** What the composition knows of an item's bytes: the decision it made on them before, under `context`. */
export interface Forgetter {
  /** The decision to keep in place of the bytes with this SHA-256 (base64), or undefined to keep the bytes. */
  known(digest: string): sdk.KnownResource | undefined;
  /**
   * Set when this request's composition reads none of these items (an XR of another kind than the one that asks
   * for them): each is skipped as it passes, neither hashed nor kept, and stands as `unread` (a context no
   * decision is made in, so reading it after all is a refusal, never a wrong answer).
   */
  unread?: sdk.KnownResource;
}

export interface StreamOptions {
  /** Required resources left as their bytes, as decodeRequest's `encoded`. */
  encoded: (requirement: string) => boolean;
  /**
   * When the items of an encoded requirement begin, with the request's fields before them (complete fields, as a
   * request of their own): what may let an item's bytes go, or undefined to keep them all.
   */
  forget?: (requirement: string, head: () => Buffer) => Forgetter | undefined;
}

/** What the walk kept of one encoded requirement's entry. */
interface StreamedEntry {
  field: number;
  key: string;
  items: sdk.EncodedResource[];
}

/** Kept of a walk, for tests and logs. */
export interface StreamStats {
  items: number;
  forgotten: number;
  keptBytes: number;
}

type Walk = Generator<number, void, Buffer>;

/**
 * The slabs kept items are copied into: over glibc's largest mmap threshold (32 MiB), so each is its own mapping,
 * unmapped when released, whatever the allocator's state (incoming.ts, MAPPED_BYTES, says why). Only the pages
 * written are resident.
 */
const SLAB_BYTES = 32 * 1024 * 1024 + 64 * 1024;

/** Items up to this long are gathered in the walk's scratch buffer; a longer one (rare: a cluster is about 63 KiB) in its own. */
const SCRATCH_MAX_BYTES = 4 * 1024 * 1024;

export class StreamedRequest {
  readonly #options: StreamOptions;
  readonly #total: number;
  /** The message's length. */
  get total(): number {
    return this.#total;
  }
  /** Where the walk is in the message: bytes it has been given. */
  #posNow = 0;
  #walk: Walk;
  /** Bytes the walk asks for next (at most). */
  #want = 1;
  #done = false;
  #error: { message: string; refused: boolean } | undefined;
  /** The fields decodeRequest reads at the end, as they came. */
  #rest: Buffer[] = [];
  #restHeld: Buffer | undefined;
  /** Entries of encoded requirements, the last of each (field, key) winning as in decodeRequest. */
  readonly #entries = new Map<string, StreamedEntry>();
  #topFields = 0;
  readonly stats: StreamStats = { items: 0, forgotten: 0, keptBytes: 0 };

  /** `total`: the message's length, from its gRPC prefix. */
  constructor(total: number, options: StreamOptions) {
    this.#total = total;
    this.#options = options;
    this.#walk = this.#message();
    this.#step(Buffer.alloc(0), true);
  }

  /** The next piece of the message. Copies what it keeps: the caller may reuse or free `piece` afterwards. */
  write(piece: Buffer): void {
    let at = 0;
    while (at < piece.length && this.#error === undefined) {
      if (this.#done) {
        this.#error = { message: "malformed RunFunctionRequest: bytes past the message's length", refused: false };
        return;
      }
      const take = Math.min(this.#want, piece.length - at);
      const part = piece.subarray(at, at + take);
      at += take;
      this.#step(part, false);
    }
  }

  /** The request, once every byte of the message has been written: exactly decodeRequest's reading of it. */
  end(): DecodedRequest {
    const tag = () => peekRequest(this.#head(), REQUEST_LIMITS.tagBytes).tag;
    if (this.#error === undefined && (!this.#done || this.#posNow !== this.#total))
      this.#error = { message: "malformed RunFunctionRequest: the message ended before its fields did", refused: false };
    if (this.#error !== undefined) return { ok: false, tag: tag(), ...this.#error };
    const rest = this.#head();
    // Kept until release(): the request decoded from it may hold views of it (encoded requirements not walked here).
    this.#restHeld = rest;
    this.#rest = [];
    const decoded = decodeRequest(rest, { encoded: this.#options.encoded });
    if (!decoded.ok) return decoded;
    // decodeRequest read no entry of these keys (they were not in `rest`): the walk's are the only ones.
    const byKey: Record<string, sdk.EncodedResource[]> = { ...decoded.request.encodedResources };
    for (const field of [6, 8]) for (const e of this.#entries.values()) if (e.field === field) put(byKey, e.key, e.items);
    decoded.request.encodedResources = byKey;
    return decoded;
  }

  /** Why the request cannot be read, as soon as that is known (the rest of its bytes need not be walked). */
  failed(): boolean {
    return this.#error !== undefined;
  }

  #step(part: Buffer, first: boolean): void {
    try {
      const r = first ? this.#walk.next() : this.#walk.next(part);
      if (r.done) this.#done = true;
      else this.#want = r.value;
    } catch (err) {
      if (err instanceof RefusedRequest) this.#error = { message: err.message, refused: true };
      else if (err instanceof MalformedRequest) this.#error = { message: `malformed RunFunctionRequest: ${capText(err.message, 256)}`, refused: false };
      else throw err;
    }
  }

  // --- the walk: each helper yields how many bytes it wants at most, and is given at least one.

  /** A varint within `end`; `raw` collects its bytes when given. */
  *#varint(end: number, raw?: number[]): Generator<number, number, Buffer> {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = yield* this.#byteAt(end, "truncated varint");
      raw?.push(b);
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new MalformedRequest("varint longer than 10 bytes");
  }

  /** One byte within `end`. */
  *#byteAt(end: number, what: string): Generator<number, number, Buffer> {
    if (this.#posNow >= end) throw new MalformedRequest(what);
    const b = yield 1;
    this.#posNow++;
    return b[0] ?? 0;
  }

  /** `n` bytes, each piece handed to `sink` as it comes. */
  *#take(n: number, sink: (piece: Buffer) => void): Generator<number, void, Buffer> {
    while (n > 0) {
      const piece = yield n;
      this.#posNow += piece.length;
      n -= piece.length;
      sink(piece);
    }
  }

  /** A field's key; field number 0 is not protobuf (decodeRequest refuses it too). */
  *#key(end: number, raw?: number[]): Generator<number, number, Buffer> {
    const k = yield* this.#varint(end, raw);
    if (k < 8) throw new MalformedRequest("field number 0");
    return k;
  }

  /** A length prefix within `end`: the length, checked to fit. */
  *#length(end: number, raw?: number[]): Generator<number, number, Buffer> {
    const len = yield* this.#varint(end, raw);
    if (this.#posNow + len > end) throw new MalformedRequest("length-delimited field runs past its message");
    return len;
  }

  /** Skip a field of `wireType` within `end`. */
  *#skip(wireType: number, end: number): Generator<number, void, Buffer> {
    switch (wireType) {
      case VARINT:
        yield* this.#varint(end);
        return;
      case FIXED64:
      case FIXED32: {
        const n = wireType === FIXED64 ? 8 : 4;
        if (this.#posNow + n > end) throw new MalformedRequest("truncated fixed-width field");
        yield* this.#take(n, () => undefined);
        return;
      }
      case BYTES: {
        const len = yield* this.#length(end);
        yield* this.#take(len, () => undefined);
        return;
      }
      default:
        throw new MalformedRequest(`unsupported wire type ${wireType}`);
    }
  }

  #scratch: Buffer | undefined;
  /** Slabs the kept items are copied into, freed whole by release(). */
  #slabs: ArrayBuffer[] = [];
  #slab: Buffer | undefined;
  #slabUsed = 0;

  /** `bytes`' first `len` bytes in memory of the walk's own (a slab), until release(). */
  #kept(bytes: Buffer, len: number): Buffer {
    if (len > SLAB_BYTES / 4) {
      // A large item gets a slab of its own (it may be the scratch's bytes: copied).
      const own = Buffer.from(new ArrayBuffer(len));
      bytes.copy(own, 0, 0, len);
      this.#slabs.push(own.buffer as ArrayBuffer);
      return own;
    }
    if (this.#slab === undefined || this.#slab.length - this.#slabUsed < len) {
      this.#slab = Buffer.from(new ArrayBuffer(SLAB_BYTES));
      this.#slabs.push(this.#slab.buffer as ArrayBuffer);
      this.#slabUsed = 0;
    }
    const view = this.#slab.subarray(this.#slabUsed, this.#slabUsed + len);
    bytes.copy(view, 0, 0, len);
    this.#slabUsed += len;
    return view;
  }

  /**
   * Gives back, now, the memory the kept bytes are in (not at this thread's next collection, which an idle worker
   * may not run for minutes): call once the call is answered. Every view of them then reads as empty; what was
   * decoded from them is a copy.
   */
  release(): void {
    for (const slab of this.#slabs) if (!slab.detached) slab.transfer(0);
    this.#slabs = [];
    this.#slab = undefined;
    this.#scratch = undefined;
    for (const b of [...this.#rest, ...(this.#restHeld ? [this.#restHeld] : [])]) {
      const ab = b.buffer;
      if (ab instanceof ArrayBuffer && !ab.detached && b.length * 2 >= ab.byteLength && b.length >= 64 * 1024) ab.transfer(0);
    }
    this.#rest = [];
    this.#restHeld = undefined;
  }

  /** The walk's scratch buffer, at least `len` long. */
  #scratchOf(len: number): Buffer {
    if (this.#scratch === undefined || this.#scratch.length < len) this.#scratch = Buffer.allocUnsafeSlow(Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(len))));
    return this.#scratch;
  }

  /** The fields kept so far, as one request (made once per call: a fleet's head is a few MiB). */
  #head(): Buffer {
    if (this.#rest.length !== 1) this.#rest = [Buffer.concat(this.#rest)];
    return this.#rest[0] ?? Buffer.alloc(0);
  }

  #keep(piece: Buffer): void {
    // A copy: the piece is the caller's, freed after write().
    this.#rest.push(Buffer.from(piece));
  }

  /** RunFunctionRequest: every top-level field kept for decodeRequest, but the entries of encoded requirements. */
  *#message(): Walk {
    const end = this.#total;
    const count = () => {
      if (++this.#topFields > REQUEST_LIMITS.resources)
        throw new RefusedRequest(`more than ${REQUEST_LIMITS.resources} required resources, extra resources and credentials`);
    };
    while (this.#posNow < end) {
      const raw: number[] = [];
      const tag = yield* this.#key(end, raw);
      const field = tag >>> 3;
      const wt = tag & 7;
      if (wt === BYTES && (field === 6 || field === 8)) {
        count();
        const len = yield* this.#length(end, raw);
        yield* this.#entry(field, this.#posNow + len, Buffer.from(raw));
        continue;
      }
      if (wt === BYTES && field === 7) count();
      // Kept as it came, header included.
      this.#keep(Buffer.from(raw));
      switch (wt) {
        case VARINT: {
          const v: number[] = [];
          yield* this.#varint(end, v);
          this.#keep(Buffer.from(v));
          break;
        }
        case FIXED64:
        case FIXED32: {
          const n = wt === FIXED64 ? 8 : 4;
          if (this.#posNow + n > end) throw new MalformedRequest("truncated fixed-width field");
          yield* this.#take(n, (p) => this.#keep(p));
          break;
        }
        case BYTES: {
          const v: number[] = [];
          const len = yield* this.#length(end, v);
          this.#keep(Buffer.from(v));
          yield* this.#take(len, (p) => this.#keep(p));
          break;
        }
        default:
          throw new MalformedRequest(`unsupported wire type ${wt}`);
      }
    }
  }

  /**
   * A map entry of required_resources (8) or extra_resources (6): key=1, value=2 (Resources), either order, the
   * last of each winning. Bytes are kept (raw, with `header`) until the key is known; an entry whose key is not
   * encoded goes to decodeRequest as it came; an encoded one's items are walked one by one.
   */
  *#entry(field: number, end: number, header: Buffer): Walk {
    const raw: Buffer[] = [header];
    let key: string | undefined;
    /** The items, once the value has been walked as items of an encoded key. */
    let streamed: { key: string; items: sdk.EncodedResource[]; forgot: boolean } | undefined;
    /** A value seen before its key: its bytes, walked once the key is known. */
    let valueBytes: Buffer | undefined;
    let sawValue = false;
    while (this.#posNow < end) {
      const hdr: number[] = [];
      const tag = yield* this.#key(end, hdr);
      if (tag === ((1 << 3) | BYTES)) {
        const kb: number[] = [];
        const len = yield* this.#length(end, kb);
        if (len > REQUEST_LIMITS.keyBytes) throw new RefusedRequest(`${base(field)}: a key of ${len} bytes is over the limit of ${REQUEST_LIMITS.keyBytes}`);
        const parts: Buffer[] = [];
        yield* this.#take(len, (p) => parts.push(Buffer.from(p)));
        const k = Buffer.concat(parts).toString("utf8");
        if (streamed !== undefined && k !== streamed.key) {
          // The key changed after the items were walked under the earlier one: they belong to the new key, if
          // they are still bytes and it is encoded too; otherwise the request cannot be read as it was sent.
          if (streamed.forgot || !this.#options.encoded(k))
            throw new RefusedRequest(`${base(field)}[${JSON.stringify(capText(k, 64))}]: the entry's key follows its value and differs from the key before it`);
          streamed.key = k;
        }
        key = k;
        if (streamed === undefined) raw.push(Buffer.from(hdr), Buffer.from(kb), Buffer.from(k, "utf8"));
        continue;
      }
      if (tag === ((2 << 3) | BYTES)) {
        sawValue = true;
        const vb: number[] = [];
        const len = yield* this.#length(end, vb);
        if (key !== undefined && this.#options.encoded(key)) {
          // The common order (Crossplane's): the key first, the items walked as they arrive.
          const items: sdk.EncodedResource[] = [];
          const forgetter = this.#options.forget?.(key, () => this.#head());
          const forgot = yield* this.#items(this.#posNow + len, `${base(field)}[${JSON.stringify(key)}]`, items, forgetter);
          streamed = { key, items, forgot };
          valueBytes = undefined;
          continue;
        }
        // Its key not known yet (or not encoded): kept as it came, until the entry ends.
        const parts: Buffer[] = [];
        yield* this.#take(len, (p) => parts.push(Buffer.from(p)));
        valueBytes = Buffer.concat(parts);
        if (streamed === undefined) raw.push(Buffer.from(hdr), Buffer.from(vb), valueBytes);
        streamed = undefined;
        continue;
      }
      // An unknown field of the entry: skipped, as decodeRequest does.
      const before: Buffer[] = [];
      const wt = tag & 7;
      if (wt === BYTES) {
        const lb: number[] = [];
        const len = yield* this.#length(end, lb);
        yield* this.#take(len, (p) => before.push(Buffer.from(p)));
        raw.push(Buffer.from(hdr), Buffer.from(lb), ...before);
      } else {
        yield* this.#skip(wt, end);
        raw.push(Buffer.from(hdr));
      }
    }
    const k = key ?? "";
    if (streamed !== undefined) {
      this.#entries.set(`${field}\u0000${streamed.key}`, { field, key: streamed.key, items: streamed.items });
      return;
    }
    if (!this.#options.encoded(k)) {
      // Not ours: decodeRequest reads the entry as it came (its header and every field, in order).
      for (const b of raw) this.#keep(b);
      return;
    }
    // An encoded key that came after its value, or no value at all (then no items, as decodeRequest reads it).
    const items: sdk.EncodedResource[] = [];
    if (sawValue && valueBytes !== undefined) items.push(...itemsOf(valueBytes, `${base(field)}[${JSON.stringify(k)}]`));
    this.#entries.set(`${field}\u0000${k}`, { field, key: k, items });
  }

  /**
   * Resources (items=1, repeated Resource) within `end`: each item hashed as it passes, and kept as bytes unless
   * `forgetter` knows them. True when some item's bytes were let go.
   */
  *#items(end: number, where: string, out: sdk.EncodedResource[], forgetter: Forgetter | undefined): Generator<number, boolean, Buffer> {
    let forgot = false;
    while (this.#posNow < end) {
      const tag = yield* this.#key(end);
      if (tag !== ((1 << 3) | BYTES)) {
        yield* this.#skip(tag & 7, end);
        continue;
      }
      if (out.length >= REQUEST_LIMITS.resources) throw new RefusedRequest(`more than ${REQUEST_LIMITS.resources} required resources in one requirement`);
      const len = yield* this.#length(end);
      const itemWhere = `${where}[${out.length}]`;
      this.stats.items++;
      if (forgetter?.unread !== undefined) {
        yield* this.#take(len, () => undefined);
        forgot = true;
        this.stats.forgotten++;
        out.push(forgottenResource(itemWhere, "", forgetter.unread));
        continue;
      }
      const hash: Hash = createHash("sha256");
      // Gathered in one scratch buffer of the walk's, and copied out only if kept: a converged call allocates
      // nothing per item (5,000 fresh 63 KiB buffers a call were garbage the worker held until it collected).
      const bytes = len <= SCRATCH_MAX_BYTES ? this.#scratchOf(len) : Buffer.allocUnsafeSlow(len);
      let filled = 0;
      yield* this.#take(len, (p) => {
        hash.update(p);
        p.copy(bytes, filled);
        filled += p.length;
      });
      const digest = hash.digest("base64");
      const known = forgetter?.known(digest);
      if (known !== undefined) {
        forgot = true;
        this.stats.forgotten++;
        out.push(forgottenResource(itemWhere, digest, known));
      } else {
        this.stats.keptBytes += len;
        out.push(encodedResource(this.#kept(bytes, len), itemWhere, digest));
      }
    }
    return forgot;
  }
}

function base(field: number): string {
  return field === 6 ? "extra_resources" : "required_resources";
}

/** `obj[key] = value`, also for a key spelled `__proto__`. */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** The items of a whole Resources message, as decodeRequest leaves them (bytes, decoded on demand). */
function itemsOf(value: Buffer, where: string): sdk.EncodedResource[] {
  // decodeRequest reads the same bytes as one requirement's value, framed as a request of its own.
  const framed = Buffer.concat([entryHeader(value.length), value]);
  const d = decodeRequest(framed, { encoded: () => true });
  if (!d.ok) throw d.refused ? new RefusedRequest(d.message) : new MalformedRequest(d.message.replace(/^malformed RunFunctionRequest: /, ""));
  const items = d.request.encodedResources?.[""] ?? [];
  return items.map((item, i) => encodedResource(Buffer.from(item.bytes), `${where}[${i}]`));
}

/** A required_resources entry with the key "" and a value of `length` bytes: its framing up to the value. */
function entryHeader(length: number): Buffer {
  const value = [(2 << 3) | BYTES, ...varintBytes(length)];
  const entry = [(8 << 3) | BYTES, ...varintBytes(value.length + length)];
  return Buffer.from([...entry, ...value]);
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
