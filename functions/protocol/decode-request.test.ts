// decodeRequest must read every request exactly as proto-loader plus
// requestFromWire do: each case is encoded by proto-loader, decoded both
// ways, and compared whole.
import { describe, expect, it } from "vitest";
import { requestFromWire } from "../../test/support/protocol-reference.ts";
import { decodeRequest } from "./decode-request.ts";
import type { RunFunctionRequest } from "./generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import { runFunctionMethod, structOf } from "../../test/support/protocol-builders.ts";
import type { EncodedResource, JsonObject } from "../sdk/types.ts";
import { field, requestBytes, structBytes, structWith, valueBytes } from "../../test/security/server-wire.ts";

const method = runFunctionMethod;
const s = structOf;

function bothWays(bytes: Buffer) {
  const want = requestFromWire(method.requestDeserialize(bytes));
  const got = decodeRequest(bytes);
  return { want, got };
}

const cluster = (name: string): JsonObject => ({
  apiVersion: "modelplane.ai/v1alpha1",
  kind: "InferenceCluster",
  metadata: { name, labels: { region: "us-east1" } },
  status: {
    gpuPools: [
      {
        name: "hopper-0",
        nodes: 2,
        devices: [
          {
            name: "gpu-0",
            attributes: { productName: { string: "NVIDIA H100 80GB HBM3" }, cudaComputeCapability: { version: "9.0.0" } },
            capacity: { memory: { value: "81559Mi" } },
          },
        ],
      },
    ],
  },
});

const cases: { reason: string; req: RunFunctionRequest }[] = [
  { reason: "an empty request: every default", req: {} },
  {
    reason: "meta only: tag and capabilities (packed enums)",
    req: { meta: { tag: "t-1", capabilities: ["CAPABILITY_CAPABILITIES", "CAPABILITY_REQUIRED_RESOURCES", "CAPABILITY_CONDITIONS"] } },
  },
  {
    reason: "observed and desired state: composite, resources, connection details, readiness",
    req: {
      observed: {
        composite: {
          resource: s({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache", spec: { a: [1, 2.5, -0, null, true, "x"] } }),
          connection_details: { k: Buffer.from([0, 1, 255]) },
        },
        resources: {
          "replica-a": { resource: s({ kind: "ModelCacheReplica", status: { phase: "Ready" } }), ready: "READY_TRUE" },
          "replica-b": { resource: s({}), ready: "READY_FALSE" },
        },
      },
      desired: {
        composite: { resource: s({ status: {} }) },
        resources: { other: { resource: s({ kind: "ConfigMap" }), connection_details: { empty: Buffer.alloc(0) } } },
      },
    },
  },
  { reason: "a composite with no resource Struct at all", req: { observed: { composite: {} } } },
  {
    reason: "input and context, including an empty Struct",
    req: { input: s({ apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", clusters: { matchLabels: {} } }), context: s({}) },
  },
  {
    reason: "required resources: several lists, one empty",
    req: { required_resources: { clusters: { items: [{ resource: s(cluster("a")) }, { resource: s(cluster("b")) }] }, none: { items: [] } } },
  },
  {
    reason: "v1's extra_resources, and the v2 field winning on the same name",
    req: {
      extra_resources: { clusters: { items: [{ resource: s(cluster("old")) }] }, only: { items: [{ resource: s(cluster("x")) }] } },
      required_resources: { clusters: { items: [{ resource: s(cluster("new")) }] } },
    },
  },
  { reason: "credentials, with and without data", req: { credentials: { hf: { credential_data: { data: { token: Buffer.from("secret") } } }, none: {} } } },
  {
    reason: "required schemas are read past without error",
    req: { required_schemas: { x: { openapi_v3: s({ type: "object" }) } }, meta: { tag: "after-schemas" } },
  },
  {
    reason: "values that stress the Struct encoding: unicode, odd keys, extreme numbers, deep nesting",
    req: {
      input: s({
        ключ: "значение 🚀",
        "a b": "",
        "gpu.nvidia.com/productName": "x",
        max: 2 ** 53,
        tiny: 5e-324,
        neg: -1.5,
        deep: { a: [[[{ b: [[], {}] }]]] },
      }),
    },
  },
];

describe("decodeRequest agrees with proto-loader + requestFromWire", () => {
  it.each(cases)("$reason", ({ req }) => {
    const { want, got } = bothWays(method.requestSerialize(req));
    expect(got).toEqual({ ok: true, request: want });
  });

  it("more distinct short strings than the shared-string table holds: each still read exactly", () => {
    const keys = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i.toString(36)}`, `v-${(i * 7919).toString(16)}`]));
    const { want, got } = bothWays(method.requestSerialize({ input: s(keys) }));
    expect(got).toEqual({ ok: true, request: want });
  });

  it("a 200-cluster request, byte for byte the same reading", () => {
    const req: RunFunctionRequest = {
      meta: { tag: "fleet" },
      required_resources: { clusters: { items: Array.from({ length: 200 }, (_, i) => ({ resource: s(cluster(`c-${i}`)) })) } },
    };
    const { want, got } = bothWays(method.requestSerialize(req));
    expect(got).toEqual({ ok: true, request: want });
  });
});

describe("wire forms proto-loader accepts and encoders may produce", () => {
  const tagged = (field: number, wireType: number) => Buffer.from([(field << 3) | wireType]);
  const lenPrefixed = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);
  const meta = (tag: string) => Buffer.concat([tagged(1, 2), lenPrefixed(Buffer.concat([tagged(1, 2), lenPrefixed(Buffer.from(tag))]))]);

  it.each([
    { reason: "an unknown varint field is skipped", bytes: Buffer.concat([tagged(15, 0), Buffer.from([0x96, 0x01]), meta("x")]) },
    { reason: "an unknown fixed64 field is skipped", bytes: Buffer.concat([tagged(15, 1), Buffer.alloc(8), meta("x")]) },
    { reason: "an unknown fixed32 field is skipped", bytes: Buffer.concat([tagged(15, 5), Buffer.alloc(4), meta("x")]) },
    { reason: "a singular message field sent twice: the last one wins", bytes: Buffer.concat([meta("first"), meta("second")]) },
    {
      reason: "capabilities unpacked, one varint each",
      bytes: Buffer.concat([tagged(1, 2), lenPrefixed(Buffer.concat([tagged(2, 0), Buffer.from([2]), tagged(2, 0), Buffer.from([4])]))]),
    },
    {
      reason: "a capability this copy of the protocol does not know",
      bytes: Buffer.concat([tagged(1, 2), lenPrefixed(Buffer.concat([tagged(2, 0), Buffer.from([42])]))]),
    },
  ])("$reason", ({ bytes }) => {
    const { want, got } = bothWays(bytes);
    expect(got).toEqual({ ok: true, request: want });
  });

  it("a key spelled __proto__ is an own property, never the object's prototype", () => {
    const got = decodeRequest(method.requestSerialize({ input: { fields: { ["__proto__"]: { stringValue: "x" } } } }));
    expect(got.ok && Object.getPrototypeOf(got.request.input)).toBe(Object.prototype);
    expect(got.ok && Object.getOwnPropertyDescriptor(got.request.input, "__proto__")?.value).toBe("x");
  });
});

describe("malformed bytes are a value, never an exception", () => {
  const good = method.requestSerialize({ meta: { tag: "t" }, input: s({ a: "b".repeat(50) }) });
  it.each([
    { reason: "cut inside a string", bytes: good.subarray(0, good.length - 10) },
    { reason: "a length running past the end", bytes: Buffer.from([0x22, 0x7f, 0x0a]) },
    { reason: "a varint that never ends", bytes: Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) },
    { reason: "wire type 3 (groups), which proto3 never sends", bytes: Buffer.from([0x0b]) },
  ])("$reason", ({ bytes }) => {
    const got = decodeRequest(bytes);
    expect(got.ok).toBe(false);
    if (!got.ok) expect(got.message).toMatch(/^malformed RunFunctionRequest: /);
  });

  it("keeps the tag when it was read before the damage", () => {
    const got = decodeRequest(good.subarray(0, good.length - 10));
    expect(got).toMatchObject({ ok: false, tag: "t" });
  });
});

describe("required resources left encoded (options.encoded)", () => {
  /** The request with every encoded item decoded back into requiredResources: what the whole decode reads. */
  function decodedBack(bytes: Buffer, encoded: (k: string) => boolean) {
    const got = decodeRequest(bytes, { encoded });
    if (!got.ok) return got;
    const { encodedResources, ...request } = got.request;
    const requiredResources = { ...request.requiredResources };
    for (const [k, items] of Object.entries(encodedResources ?? {}))
      requiredResources[k] = items.map((i) => {
        const d = i.decode();
        if (!d.ok) throw new Error(d.message);
        return d.resource;
      });
    return { ok: true, request: { ...request, requiredResources } };
  }

  it.each(cases.filter((c) => c.req.required_resources !== undefined || c.req.extra_resources !== undefined))(
    "each item decodes to what the whole request reads: $reason",
    ({ req }) => {
      const bytes = method.requestSerialize(req);
      const got = decodeRequest(bytes, { encoded: (k) => k === "clusters" });
      expect(got.ok && Object.keys(got.request.encodedResources ?? {})).toEqual(["clusters"]);
      expect(got.ok && Object.keys(got.request.requiredResources)).not.toContain("clusters");
      expect(decodedBack(bytes, (k) => k === "clusters")).toEqual({ ok: true, request: requestFromWire(method.requestDeserialize(bytes)) });
    },
  );

  it("an item's bytes are its Resource message as sent, a view of the request (not a copy)", () => {
    const resource = { resource: s(cluster("a")) };
    const bytes = method.requestSerialize({ required_resources: { clusters: { items: [resource] } } });
    const got = decodeRequest(bytes, { encoded: () => true });
    const item = got.ok ? got.request.encodedResources?.["clusters"]?.[0] : undefined;
    // Resource is message 1 of the request's Resources: its encoding alone, as proto-loader writes it, is those bytes.
    const alone = method.requestSerialize({ required_resources: { k: { items: [resource] } } });
    expect(item !== undefined && alone.subarray(alone.length - item.bytes.length).equals(item.bytes)).toBe(true);
    expect(item?.bytes.buffer).toBe(bytes.buffer);
  });

  it("an item over a limit is refused when decoded, naming where, as the whole decode refuses the request", () => {
    const deep = s({ metadata: { name: "x" }, ["k".repeat(20_000)]: 1 });
    const bytes = method.requestSerialize({ required_resources: { clusters: { items: [{ resource: s(cluster("a")) }, { resource: deep }] } } });
    const whole = decodeRequest(bytes);
    expect(whole).toMatchObject({ ok: false, refused: true });
    const got = decodeRequest(bytes, { encoded: () => true });
    const items = got.ok ? (got.request.encodedResources?.["clusters"] ?? []) : [];
    expect(items.map((i) => i.decode().ok)).toEqual([true, false]);
    expect(items[1]?.decode()).toEqual({ ok: false, refused: true, message: whole.ok ? "" : whole.message });
  });
});

describe("an encoded item's metadata alone (decodeMetadata)", () => {
  const itemsOf = (bytes: Buffer) => {
    const got = decodeRequest(bytes, { encoded: () => true });
    return got.ok ? (got.request.encodedResources?.["clusters"] ?? []) : [];
  };
  /** What decode() reads of the object, kept to its metadata. */
  const metadataOf = (d: ReturnType<EncodedResource["decode"]>) =>
    d.ok ? (d.resource["metadata"] !== undefined ? { metadata: d.resource["metadata"] } : {}) : d;

  it.each([
    { reason: "a cluster", body: structBytes(cluster("a")) },
    { reason: "no metadata at all", body: structBytes({ spec: { x: 1 } }) },
    { reason: "metadata not an object", body: structBytes({ metadata: "x" }) },
    {
      reason: "metadata sent twice with another key between: the last wins, as decode() reads it",
      body: Buffer.concat([
        structWith("metadata", valueBytes({ name: "a" })),
        structWith("spec", valueBytes(1)),
        structWith("metadata", valueBytes({ name: "b" })),
      ]),
    },
    { reason: "a metadata entry without a value: null, as decode() reads it", body: field(1, field(1, Buffer.from("metadata"))) },
  ])("is exactly decode()'s metadata: $reason", ({ body }) => {
    const [item] = itemsOf(requestBytes({ required: { clusters: [body] } }));
    expect(item).toBeDefined();
    if (item === undefined) return;
    expect(item.decodeMetadata()).toEqual({ ok: true, resource: metadataOf(item.decode()) });
  });

  it("an object that cannot be read: decode()'s own error, naming where", () => {
    const [item] = itemsOf(requestBytes({ required: { clusters: [structBytes({ metadata: { name: "x", ["k".repeat(20_000)]: 1 } })] } }));
    expect(item?.decodeMetadata()).toEqual(item?.decode());
    expect(item?.decodeMetadata()).toMatchObject({ ok: false, refused: true });
  });
});
