// A request walked as its bytes arrive must read exactly as decodeRequest reads
// the same bytes whole, however they are cut into pieces; the items it lets go
// are only those the forgetter knows; and a request that lies about a length,
// ends early, or goes over a limit gets a clear error naming it.
import { hash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeRequest, type DecodedRequest } from "./decode-request.ts";
import { StreamedRequest, type Forgetter } from "./stream-request.ts";
import type { FunctionRequest, JsonObject } from "../sdk/types.ts";
import { field, requestBytes, resourceBytes, structBytes } from "../../test/security/server-wire.ts";
import { varint } from "../../test/support/protobuf-framing.ts";

const encoded = (k: string) => k === "clusters" || k.startsWith("cluster:");

/** The request with each encoded item as its bytes (hex) and digest, so two readings compare whole. */
function plain(d: DecodedRequest): unknown {
  if (!d.ok) return d;
  const r: FunctionRequest = d.request;
  const enc: Record<string, unknown[]> = {};
  for (const [k, items] of Object.entries(r.encodedResources ?? {}))
    enc[k] = items.map((i) => ({ hex: Buffer.from(i.bytes).toString("hex"), known: i.known, decoded: i.known ? undefined : i.decode() }));
  return { ok: true, request: { ...r, encodedResources: enc } };
}

/** Walk `bytes` in pieces of the given sizes, cycling. */
function walk(bytes: Buffer, sizes: number[], forget?: Forgetter): { decoded: DecodedRequest; s: StreamedRequest } {
  const s = new StreamedRequest(bytes.length, { encoded, ...(forget ? { forget: (k) => (k === "clusters" ? forget : undefined) } : {}) });
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] ?? 1;
    s.write(bytes.subarray(at, at + n));
    at += n;
  }
  return { decoded: s.end(), s };
}

const cluster = (name: string, extra: JsonObject = {}): Buffer =>
  structBytes({ apiVersion: "x/v1", kind: "C", metadata: { name, labels: { a: "b" } }, ...extra });
const item = (body: Buffer) => field(1, resourceBytes(body));
/** A required_resources entry framed by hand: its fields in the order given. */
const entry = (...fields: Buffer[]) => field(8, Buffer.concat(fields));
const key = (k: string) => field(1, Buffer.from(k));
const value = (...items: Buffer[]) => field(2, Buffer.concat(items));

const xr = structBytes({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache", metadata: { name: "m", namespace: "t" } });
const base = requestBytes({ tag: "the-tag", xr, input: structBytes({ kind: "Input" }), required: { other: [cluster("o")] } });

const SIZES = [[1], [3, 7, 1], [64], [4096], [1 << 30]];

describe("reads as decodeRequest reads the whole", () => {
  const cases: { name: string; bytes: Buffer }[] = [
    {
      name: "a fleet request, clusters after everything else (Crossplane's order)",
      bytes: Buffer.concat([base, entry(key("clusters"), value(item(cluster("a")), item(cluster("b")), item(cluster("c", { big: "x".repeat(5000) }))))]),
    },
    { name: "an entry whose value comes before its key", bytes: Buffer.concat([base, entry(value(item(cluster("a"))), key("clusters"))]) },
    { name: "an entry with no value: no items", bytes: Buffer.concat([base, entry(key("clusters"))]) },
    {
      name: "the same key twice: the last entry wins",
      bytes: Buffer.concat([base, entry(key("clusters"), value(item(cluster("a")))), entry(key("clusters"), value(item(cluster("b"))))]),
    },
    {
      name: "a value repeated in one entry: the last wins",
      bytes: Buffer.concat([base, entry(key("clusters"), value(item(cluster("a"))), value(item(cluster("z"))))]),
    },
    {
      name: "extra_resources and required_resources under one key: required wins",
      bytes: Buffer.concat([
        field(6, Buffer.concat([key("clusters"), value(item(cluster("old")))])),
        base,
        entry(key("clusters"), value(item(cluster("new")))),
      ]),
    },
    {
      name: "unknown fields in the entry and in Resources are skipped",
      bytes: Buffer.concat([
        base,
        entry(key("clusters"), field(9, Buffer.from("junk")), value(Buffer.from([(3 << 3) | 0, 5]), item(cluster("a")), field(7, Buffer.from("x")))),
      ]),
    },
    {
      name: "the clusters before the composite (a client's order): kept whole",
      bytes: Buffer.concat([entry(key("clusters"), value(item(cluster("a")))), base]),
    },
    {
      name: "a by-name requirement and a plain one beside the clusters",
      bytes: Buffer.concat([base, entry(key("cluster:a"), value(item(cluster("a")))), entry(key("clusters"), value(item(cluster("b"))))]),
    },
    {
      name: "a top-level varint and fixed field among them",
      bytes: Buffer.concat([
        Buffer.from([(12 << 3) | 0, 0x96, 0x01]),
        base,
        Buffer.from([(13 << 3) | 5, 1, 2, 3, 4]),
        entry(key("clusters"), value(item(cluster("a")))),
      ]),
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const whole = plain(decodeRequest(c.bytes, { encoded }));
      expect(whole).toMatchObject({ ok: true });
      for (const sizes of SIZES) expect(plain(walk(c.bytes, sizes).decoded), `pieces of ${sizes.join(",")}`).toEqual(whole);
    });

  it("hashes each item as it passes: the digest is the SHA-256 of its bytes", () => {
    const bytes = Buffer.concat([base, entry(key("clusters"), value(item(cluster("a")), item(cluster("b"))))]);
    const d = walk(bytes, [5]).decoded;
    const items = d.ok ? (d.request.encodedResources?.["clusters"] ?? []) : [];
    expect(items).toHaveLength(2);
    for (const i of items) expect(i.digest).toBe(hash("sha256", i.bytes, "base64"));
  });
});

describe("lets go only what the forgetter knows", () => {
  const a = resourceBytes(cluster("a"));
  const b = resourceBytes(cluster("b"));
  const known = hash("sha256", a, "base64");
  const forget: Forgetter = { known: (d) => (d === known ? { context: "ctx", value: "decided" } : undefined) };
  const bytes = Buffer.concat([base, entry(key("clusters"), value(field(1, a), field(1, b)))]);

  it("a known item keeps its digest and decision, not its bytes; the others are as decodeRequest reads them", () => {
    const { decoded, s } = walk(bytes, [1000], forget);
    const items = decoded.ok ? (decoded.request.encodedResources?.["clusters"] ?? []) : [];
    expect(items.map((i) => i.bytes.length)).toEqual([0, b.length]);
    expect(items[0]).toMatchObject({ digest: known, known: { context: "ctx", value: "decided" } });
    expect(items[0]?.decode()).toMatchObject({
      ok: false,
      refused: true,
      message: expect.stringContaining('required_resources["clusters"][0]: its bytes were let go'),
    });
    expect(items[1]?.decode()).toEqual({
      ok: true,
      resource: (decodeRequest(bytes).ok && (decodeRequest(bytes) as { request: FunctionRequest }).request.requiredResources["clusters"]?.[1]) || {},
    });
    expect(s.stats).toEqual({ items: 2, forgotten: 1, keptBytes: b.length });
  });

  it("items nobody reads (unread) are skipped as they pass: neither hashed nor kept", () => {
    const unread: Forgetter = { known: () => undefined, unread: { context: "unread", value: undefined } };
    const { decoded, s } = walk(bytes, [999], unread);
    const items = decoded.ok ? (decoded.request.encodedResources?.["clusters"] ?? []) : [];
    expect(items.map((i) => [i.bytes.length, i.digest, i.known])).toEqual([
      [0, "", { context: "unread", value: undefined }],
      [0, "", { context: "unread", value: undefined }],
    ]);
    expect(s.stats).toEqual({ items: 2, forgotten: 2, keptBytes: 0 });
  });

  it("a key changed after items were let go is refused, not read under the new key", () => {
    const twisted = Buffer.concat([base, entry(key("clusters"), value(field(1, a)), key("other"))]);
    expect(walk(twisted, [7], forget).decoded).toMatchObject({
      ok: false,
      refused: true,
      message: expect.stringContaining("the entry's key follows its value"),
    });
  });
});

describe("a hostile or malformed request: a clear error, never a wrong reading", () => {
  const good = Buffer.concat([base, entry(key("clusters"), value(item(cluster("a"))))]);
  const cases: { name: string; bytes: Buffer; total?: number; refused: boolean; message: string }[] = [
    {
      name: "the message ends before its fields do (truncated frames)",
      bytes: good.subarray(0, good.length - 10),
      total: good.length,
      refused: false,
      message: "malformed RunFunctionRequest: the message ended before its fields did",
    },
    {
      name: "an item's length prefix runs past its entry",
      bytes: Buffer.concat([base, entry(key("clusters"), Buffer.concat([varint((2 << 3) | 2), varint(3), varint((1 << 3) | 2), varint(200)]))]),
      refused: false,
      message: "malformed RunFunctionRequest: length-delimited field runs past its message",
    },
    {
      name: "a top-level length prefix runs past the message",
      bytes: Buffer.concat([base, varint((8 << 3) | 2), varint(1 << 20), Buffer.from("abc")]),
      refused: false,
      message: "malformed RunFunctionRequest: length-delimited field runs past its message",
    },
    {
      name: "field number 0 inside the items",
      bytes: Buffer.concat([base, entry(key("clusters"), value(Buffer.from([0, 0])))]),
      refused: false,
      message: "malformed RunFunctionRequest: field number 0",
    },
    {
      name: "an unsupported wire type inside the items",
      bytes: Buffer.concat([base, entry(key("clusters"), value(Buffer.from([(4 << 3) | 3])))]),
      refused: false,
      message: "malformed RunFunctionRequest: unsupported wire type 3",
    },
    {
      name: "an entry's key over 16 KiB",
      bytes: Buffer.concat([base, entry(key("k".repeat(17 * 1024)), value(item(cluster("a"))))]),
      refused: true,
      message: "required_resources: a key of 17408 bytes is over the limit of 16384",
    },
    {
      name: "more than 100,000 items in one requirement",
      bytes: Buffer.concat([base, entry(key("clusters"), value(...Array.from({ length: 100_001 }, () => Buffer.from([(1 << 3) | 2, 0]))))]),
      refused: true,
      message: "more than 100000 required resources in one requirement",
    },
    {
      name: "bytes past the message's declared length",
      bytes: Buffer.concat([good, Buffer.from([1, 2, 3])]),
      total: good.length,
      refused: false,
      message: "malformed RunFunctionRequest: bytes past the message's length",
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      for (const sizes of [[1], [4096]]) {
        const s = new StreamedRequest(c.total ?? c.bytes.length, { encoded });
        for (let at = 0, i = 0; at < c.bytes.length; i++) {
          const n = sizes[i % sizes.length] ?? 1;
          s.write(c.bytes.subarray(at, at + n));
          at += n;
        }
        expect(s.end()).toEqual({ ok: false, tag: "the-tag", refused: c.refused, message: c.message });
      }
    });

  it("stops walking at the first error: what follows is not read or kept", () => {
    const s = new StreamedRequest(1 << 20, { encoded });
    s.write(Buffer.concat([base, Buffer.from([0, 0])]));
    expect(s.failed()).toBe(true);
    s.write(Buffer.alloc(4096, 0x0a));
    expect(s.end()).toMatchObject({ ok: false, message: "malformed RunFunctionRequest: field number 0" });
  });

  it("agrees with decodeRequest on the same errors where the whole request is refused", () => {
    const over = Buffer.concat([base, entry(key("clusters"), value(...Array.from({ length: 100_001 }, () => Buffer.from([(1 << 3) | 2, 0]))))]);
    expect(decodeRequest(over, { encoded })).toMatchObject({ ok: false, refused: true, message: "more than 100000 required resources in one requirement" });
  });
});
