// encodeResponse must write what proto-loader writes for responseToWire's
// message: both byte strings are decoded by proto-loader and compared whole,
// for table cases and for random responses (fast-check).
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { responseToWire } from "../../test/support/protocol-reference.ts";
import { encodeResponse } from "./encode-response.ts";
import { RESPONSE_DEPTH } from "./limits.ts";
import { loadProtocol } from "./load.ts";
import type { FunctionResponse, JsonObject, JsonValue, ResourceState } from "../sdk/types.ts";

const method = loadProtocol().FunctionRunnerService.service.RunFunction;

function viaProtoLoader(rsp: FunctionResponse): unknown {
  const wire = responseToWire(rsp);
  if (!wire.ok) throw new Error(wire.error.message);
  return method.responseDeserialize(method.responseSerialize(wire.value));
}

function viaEncoder(rsp: FunctionResponse): unknown {
  const bytes = encodeResponse(rsp);
  if (!bytes.ok) throw new Error(bytes.error.message);
  return method.responseDeserialize(bytes.value);
}

const res = (resource: JsonObject, ready: ResourceState["ready"] = "Unspecified", connectionDetails: Record<string, Uint8Array> = {}): ResourceState => ({
  resource,
  connectionDetails,
  ready,
});

function response(over: Partial<FunctionResponse> = {}): FunctionResponse {
  return {
    tag: "t",
    ttlSeconds: 60,
    desired: { composite: undefined, resources: {} },
    results: [],
    context: undefined,
    requirements: { resources: {} },
    conditions: [],
    ...over,
  };
}

describe("encodeResponse agrees with proto-loader", () => {
  const cases: { reason: string; rsp: FunctionResponse }[] = [
    { reason: "an empty response: tag and TTL only", rsp: response() },
    { reason: "a zero TTL is still a TTL", rsp: response({ ttlSeconds: 0 }) },
    {
      reason: "desired composite and resources: readiness, connection details, odd keys",
      rsp: response({
        desired: {
          composite: res({ apiVersion: "x/v1", kind: "XR", status: { a: [1, -0, 5e-324, 2 ** 53, null, true, "ключ 🚀"] } }),
          resources: { a: res({ kind: "A" }, "True", { k: Buffer.from([0, 255]), empty: Buffer.alloc(0) }), "b c": res({}, "False") },
        },
      }),
    },
    {
      reason: "results and conditions with and without their optional fields",
      rsp: response({
        results: [
          { severity: "Fatal", message: "m", reason: "R", target: "Composite" },
          { severity: "Warning", message: "" },
          { severity: "Normal", message: "n", target: "CompositeAndClaim" },
        ],
        conditions: [
          { type: "Ready", status: "True", reason: "Available" },
          { type: "Synced", status: "False", reason: "", message: "why", target: "CompositeAndClaim" },
          { type: "X", status: "Unknown", reason: "r", message: "" },
        ],
      }),
    },
    { reason: "a context, empty and not", rsp: response({ context: { "apiextensions.crossplane.io/environment": { a: { b: [[], {}] } }, e: {} } }) },
    {
      reason: "requirements by name and by labels, with and without a namespace",
      rsp: response({
        requirements: {
          resources: {
            clusters: { apiVersion: "modelplane.ai/v1alpha1", kind: "InferenceCluster", match: { labels: { a: "b", c: "" } } },
            contract: { apiVersion: "v1", kind: "ConfigMap", match: { name: "n" }, namespace: "ns" },
            none: { apiVersion: "v1", kind: "ConfigMap", match: { labels: {} } },
          },
        },
      }),
    },
  ];
  it.each(cases)("$reason", ({ rsp }) => {
    expect(viaEncoder(rsp)).toStrictEqual(viaProtoLoader(rsp));
  });

  it("keeps a resource named __proto__ (responseToWire's map assignment dropped it)", () => {
    const resources: Record<string, ResourceState> = {};
    Object.defineProperty(resources, "__proto__", { value: res({ kind: "odd", ["__proto__"]: 1 } as JsonObject), enumerable: true });
    const got = viaEncoder(response({ desired: { composite: undefined, resources } })) as { desired: { resources: Record<string, unknown> } };
    expect(Object.keys(got.desired.resources)).toEqual(["__proto__"]);
  });

  it("writes a length of several bytes when a message outgrows one (a 300 KB value)", () => {
    const rsp = response({ context: { big: "x".repeat(300_000), after: 1 } });
    expect(viaEncoder(rsp)).toStrictEqual(viaProtoLoader(rsp));
  });

  it("gives each response memory of its own, which the next one does not overwrite, small or past the scratch buffer", () => {
    // Written through one scratch buffer per thread: what a call returned must stay as it was, and be movable to
    // another thread whole (transfer.ts), so it fills its own ArrayBuffer, not a slice of Node's shared pool.
    const small = encodeResponse(response({ tag: "first" }));
    const large = encodeResponse(response({ tag: "large", context: { big: "y".repeat(100_000) } }));
    const copies = [small, large].map((b) => (b.ok ? Buffer.from(b.value) : Buffer.alloc(0)));
    encodeResponse(response({ tag: "second", context: { big: "z".repeat(200_000) } }));
    encodeResponse(response({ tag: "third" }));
    expect(small.ok && large.ok).toBe(true);
    if (!small.ok || !large.ok) return;
    expect([small.value, large.value]).toStrictEqual(copies);
    expect(small.value.byteOffset).toBe(0);
    expect(small.value.buffer.byteLength).toBe(small.value.length);
    expect((method.responseDeserialize(small.value) as { meta: { tag: string } }).meta.tag).toBe("first");
  });

  // Random JSON (fast-check's jsonValue: nested objects and arrays, unicode keys and strings, -0 and doubles).
  const json = fc.jsonValue({ maxDepth: 6 }) as fc.Arbitrary<JsonValue>;
  const object = fc.dictionary(fc.string(), json, { maxKeys: 6 });
  const readiness = fc.constantFrom<ResourceState["ready"]>("Unspecified", "True", "False");
  const resourceState = fc.record({
    resource: object,
    connectionDetails: fc.dictionary(
      fc.string(),
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
    ),
    ready: readiness,
  });
  const randomResponse: fc.Arbitrary<FunctionResponse> = fc.record({
    tag: fc.string(),
    ttlSeconds: fc.integer({ min: 0, max: 3600 }),
    desired: fc.record({ composite: fc.option(resourceState, { nil: undefined }), resources: fc.dictionary(fc.string(), resourceState, { maxKeys: 4 }) }),
    results: fc.array(
      fc.record(
        {
          severity: fc.constantFrom("Fatal", "Warning", "Normal"),
          message: fc.string(),
          reason: fc.string(),
          target: fc.constantFrom("Composite", "CompositeAndClaim"),
        },
        { requiredKeys: ["severity", "message"] },
      ),
      { maxLength: 3 },
    ),
    context: fc.option(object, { nil: undefined }),
    requirements: fc.record({
      resources: fc.dictionary(
        fc.string(),
        fc.record(
          {
            apiVersion: fc.string(),
            kind: fc.string(),
            match: fc.oneof(fc.record({ name: fc.string() }), fc.record({ labels: fc.dictionary(fc.string(), fc.string()) })),
            namespace: fc.string(),
          },
          { requiredKeys: ["apiVersion", "kind", "match"] },
        ),
        { maxKeys: 3 },
      ),
    }),
    conditions: fc.array(
      fc.record(
        {
          type: fc.string(),
          status: fc.constantFrom("True", "False", "Unknown"),
          reason: fc.string(),
          message: fc.string(),
          target: fc.constantFrom("Composite", "CompositeAndClaim"),
        },
        { requiredKeys: ["type", "status", "reason"] },
      ),
      { maxLength: 3 },
    ),
  });
  it("for random responses", () => {
    fc.assert(
      fc.property(randomResponse, (rsp) => {
        // Both write it, or both refuse it with the same words (a double past 2^53 is refused by both).
        const wire = responseToWire(rsp);
        const bytes = encodeResponse(rsp);
        if (!wire.ok && /beyond 2\^53/.test(wire.error.message)) expect(bytes.ok).toBe(true);
        else if (!wire.ok) expect(bytes).toStrictEqual({ ok: false, error: wire.error });
        else expect(viaEncoder(rsp)).toStrictEqual(viaProtoLoader(rsp));
      }),
      { numRuns: 300 },
    );
  });
});

describe("encodeResponse refuses what a Struct cannot carry, naming the path", () => {
  let deep: JsonValue = "leaf";
  for (let i = 0; i < RESPONSE_DEPTH + 1; i++) deep = [deep];
  let deepButFine: JsonValue = "leaf";
  for (let i = 0; i < RESPONSE_DEPTH - 1; i++) deepButFine = { a: deepButFine };
  const cases: { reason: string; rsp: FunctionResponse; error: RegExp }[] = [
    {
      reason: "NaN in a composed resource",
      rsp: response({ desired: { composite: undefined, resources: { r: res({ spec: { n: NaN } }) } } }),
      error: /^desired\.resources\["r"\]\.spec\.n: NaN/,
    },
    { reason: "Infinity in the context", rsp: response({ context: { a: [0, Infinity] } }), error: /^context\.a\[1\]: Infinity/ },
    { reason: "undefined inside a list", rsp: response({ context: { l: [undefined as unknown as JsonValue] } }), error: /^context\.l\[0\]: undefined/ },
    { reason: "a Date", rsp: response({ context: { d: new Date(0) as unknown as JsonValue } }), error: /a Date is not a JSON value/ },
    { reason: "a class instance", rsp: response({ context: { m: new Map() as unknown as JsonValue } }), error: /a Map object is not a JSON value/ },
    {
      reason: `nesting deeper than ${RESPONSE_DEPTH} levels (protobufjs threw at 33)`,
      rsp: response({ context: { deep } }),
      error: new RegExp(`^context\\.deep\\[0\\].*levels.*: nested deeper than ${RESPONSE_DEPTH} levels`),
    },
  ];
  it.each(cases)("$reason", ({ rsp, error }) => {
    const r = encodeResponse(rsp);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(error);
  });

  it(`writes a value nested ${RESPONSE_DEPTH} levels deep, which proto-loader cannot`, () => {
    const r = encodeResponse(response({ context: { deep: deepButFine } }));
    expect(r.ok).toBe(true);
  });

  it("writes a double past 2^53 as the double it is: a request may carry one, and it must pass through", () => {
    const got = viaEncoder(response({ context: { big: -(2 ** 53) - 2, huge: 1e300 } })) as { context: { fields: Record<string, { numberValue: number }> } };
    expect(got.context.fields["big"]?.numberValue).toBe(-(2 ** 53) - 2);
    expect(got.context.fields["huge"]?.numberValue).toBe(1e300);
  });

  it("leaves out undefined properties, as JSON.stringify does", () => {
    const rsp = response({ context: { a: 1, b: undefined as unknown as JsonValue } });
    expect(viaEncoder(rsp)).toStrictEqual(viaProtoLoader(response({ context: { a: 1 } })));
  });
});
