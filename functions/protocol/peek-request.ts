// What the server needs to know about a request before a worker reads it: the
// tag (for log lines about a call no worker has answered) and the tenant, the
// XR's metadata.namespace, by which calls are scheduled fairly. Read from the
// bytes without decoding anything else: each field on the way is skipped by
// its length, so the cost is a few steps per top-level field whatever the
// request holds, and the scan gives up (no namespace) past a fixed number of
// entries or on any malformed byte; the worker's full decode reports those.
//
// It agrees with decode-request.ts where both read: the last occurrence of a
// field wins, a Value is what its last kind field says.

/** Entries scanned in one Struct (an XR has five top-level keys, its metadata about ten). */
const MAX_ENTRIES = 1024;
/** A Kubernetes namespace is a DNS label; anything longer is not one. */
const MAX_NAMESPACE_BYTES = 63;

export interface RequestHeader {
  /** RunFunctionRequest.meta.tag, at most `tagBytes` bytes of it. */
  tag: string;
  /** observed.composite.resource.metadata.namespace, when the request names one that could be a namespace. */
  namespace: string | undefined;
}

interface Span {
  start: number;
  end: number;
}

class Malformed extends Error {}

/** A cursor over [pos, end) of one message. */
class Cursor {
  pos: number;
  readonly end: number;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array, span: Span) {
    this.buf = buf;
    this.pos = span.start;
    this.end = span.end;
  }
  more(): boolean {
    return this.pos < this.end;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Malformed();
      const b = this.buf[this.pos++] ?? 0;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Malformed();
  }
  /** The next field: its number, wire type, and for a length-delimited one its span (the cursor moves past it). */
  field(): { num: number; wire: number; span?: Span } {
    const tag = this.varint();
    // Field number 0 is not protobuf: the decoder refuses it too (decode-request.ts, key()).
    if (tag < 8) throw new Malformed();
    const wire = tag & 7;
    switch (wire) {
      case 0:
        this.varint();
        return { num: tag >>> 3, wire };
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const len = this.varint();
        const span = { start: this.pos, end: this.pos + len };
        this.pos = span.end;
        if (this.pos > this.end) throw new Malformed();
        return { num: tag >>> 3, wire, span };
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Malformed();
    }
    if (this.pos > this.end) throw new Malformed();
    return { num: tag >>> 3, wire };
  }
}

/**
 * Calls `visit` with each field of the message in `span`; false when there is
 * no message, or it has more than MAX_ENTRIES fields (the scan gives up).
 */
function eachField(buf: Uint8Array, span: Span | undefined, visit: (f: { num: number; span?: Span }) => void): boolean {
  if (!span) return false;
  const c = new Cursor(buf, span);
  for (let n = 0; c.more(); n++) {
    if (n > MAX_ENTRIES) return false;
    visit(c.field());
  }
  return true;
}

/** The span of the last length-delimited field `num` of the message in `span`. */
function last(buf: Uint8Array, span: Span | undefined, num: number): Span | undefined {
  let found: Span | undefined;
  const read = eachField(buf, span, (f) => {
    if (f.num === num && f.span) found = f.span;
  });
  return read ? found : undefined;
}

function equals(buf: Uint8Array, span: Span, ascii: string): boolean {
  if (span.end - span.start !== ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (buf[span.start + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/** The Value of the last entry `key` of a Struct's body. */
function structValue(buf: Uint8Array, struct: Span | undefined, key: string): Span | undefined {
  let found: Span | undefined;
  const read = eachField(buf, struct, (entry) => {
    if (entry.num !== 1 || !entry.span) return;
    const k = last(buf, entry.span, 1);
    // An entry without a key has the key "" (decode-request.ts); it never matches.
    if (k && equals(buf, k, key)) found = last(buf, entry.span, 2) ?? { start: entry.span.end, end: entry.span.end };
  });
  return read ? found : undefined;
}

/** A Value's kind field (struct_value=5, string_value=3, ...) when its last kind is `num`. */
function valueOf(buf: Uint8Array, value: Span | undefined, num: number): Span | undefined {
  let kind = 0;
  let span: Span | undefined;
  const read = eachField(buf, value, (f) => {
    if (f.num < 1 || f.num > 6) return;
    kind = f.num;
    span = f.span;
  });
  return read && kind === num ? span : undefined;
}

function utf8(buf: Uint8Array, span: Span): string {
  return Buffer.from(buf.buffer, buf.byteOffset + span.start, span.end - span.start).toString("utf8");
}

/** The tag and the XR's namespace of a RunFunctionRequest's bytes; never throws. */
export function peekRequest(buf: Uint8Array, tagBytes: number): RequestHeader {
  const header: RequestHeader = { tag: "", namespace: undefined };
  // RunFunctionRequest: meta=1, observed=2; the rest is skipped by its length. Damage ends the scan, keeping what came before.
  let meta: Span | undefined;
  let observed: Span | undefined;
  try {
    const top = new Cursor(buf, { start: 0, end: buf.length });
    for (let n = 0; top.more(); n++) {
      // Crossplane sends each field once, a few requirements at most: past this it is not Crossplane.
      if (n > MAX_ENTRIES) return header;
      const f = top.field();
      if (f.num === 1 && f.span) meta = f.span;
      else if (f.num === 2 && f.span) observed = f.span;
    }
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
  }
  for (const read of [readTag, readNamespace])
    try {
      read();
    } catch (err) {
      if (!(err instanceof Malformed)) throw err;
    }
  return header;

  function readTag(): void {
    const tag = last(buf, meta, 1);
    if (tag) header.tag = utf8(buf, { start: tag.start, end: Math.min(tag.end, tag.start + tagBytes) });
  }
  function readNamespace(): void {
    // State.composite=1, Resource.resource=1 (a Struct), then metadata (a Struct value), then namespace (a string value).
    const xr = last(buf, last(buf, observed, 1), 1);
    const metadata = valueOf(buf, structValue(buf, xr, "metadata"), 5);
    const namespace = valueOf(buf, structValue(buf, metadata, "namespace"), 3);
    if (namespace && namespace.end - namespace.start <= MAX_NAMESPACE_BYTES) header.namespace = utf8(buf, namespace);
  }
}
