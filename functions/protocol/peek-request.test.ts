// peekRequest reads the tag and the XR's namespace without decoding the
// request; wherever it answers, it must agree with decodeRequest, and it must
// never throw or read past what it is given.
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../sdk/types.ts";
import { decodeRequest } from "./decode-request.ts";
import { peekRequest } from "./peek-request.ts";
import { runFunctionMethod, structOf } from "../../test/support/protocol-builders.ts";

const method = runFunctionMethod;
const s = structOf;

const withXr = (xr: JsonObject, tag = "t"): Buffer => method.requestSerialize({ meta: { tag }, observed: { composite: { resource: s(xr) } } });
const xr = (metadata: JsonValue): JsonObject => ({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache", metadata, spec: { big: "x".repeat(1000) } });

describe("peekRequest", () => {
  const cases = [
    {
      reason: "a namespaced XR: its namespace and the tag",
      bytes: withXr(xr({ name: "c", namespace: "team-a" }), "tag-1"),
      want: { tag: "tag-1", namespace: "team-a" },
    },
    { reason: "a cluster-scoped XR has no namespace", bytes: withXr(xr({ name: "c" })), want: { tag: "t", namespace: undefined } },
    { reason: "metadata that is not an object", bytes: withXr(xr("team-a")), want: { namespace: undefined } },
    { reason: "a namespace that is not a string", bytes: withXr(xr({ namespace: 7 })), want: { namespace: undefined } },
    { reason: "a namespace longer than a DNS label can be", bytes: withXr(xr({ namespace: "n".repeat(64) })), want: { namespace: undefined } },
    {
      reason: "observed sent twice: the last one wins, as decodeRequest reads it",
      bytes: Buffer.concat([withXr(xr({ namespace: "first" })), withXr(xr({ namespace: "second" }))]),
      want: { namespace: "second" },
    },
    {
      reason: "desired, input and required resources are skipped, not read",
      bytes: method.requestSerialize({
        meta: { tag: "t" },
        desired: { composite: { resource: s(xr({ namespace: "desired" })) } },
        input: s({ metadata: { namespace: "input" } }),
        required_resources: { clusters: { items: [{ resource: s(xr({ namespace: "cluster" })) }] } },
        observed: { composite: { resource: s(xr({ namespace: "observed" })) } },
      }),
      want: { namespace: "observed" },
    },
    { reason: "no request at all", bytes: Buffer.alloc(0), want: { tag: "", namespace: undefined } },
    {
      reason: "damaged bytes: what was read before the damage",
      bytes: withXr(xr({ namespace: "team-a" }), "kept").subarray(0, 12),
      want: { tag: "kept", namespace: undefined },
    },
    { reason: "a tag longer than the limit is cut", bytes: withXr(xr({}), "x".repeat(40)), tagBytes: 8, want: { tag: "xxxxxxxx" } },
  ];
  it.each(cases)("$reason", ({ bytes, tagBytes, want }) => {
    expect(peekRequest(bytes, tagBytes ?? 1024)).toMatchObject(want);
  });

  it("gives up (no namespace) on a metadata object with more keys than an XR has, without reading them all", () => {
    const metadata = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, "v"]));
    expect(peekRequest(withXr(xr({ ...metadata, namespace: "team-a" })), 1024).namespace).toBeUndefined();
  });

  it("agrees with decodeRequest on random XRs and damaged bytes, and never throws", () => {
    const namespace = fc.oneof(fc.constantFrom("team-a", "mc-x", ""), fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null));
    const metadata = fc.oneof(fc.record({ namespace, name: fc.string() }, { requiredKeys: [] }), fc.string(), fc.constant(null));
    fc.assert(
      fc.property(metadata, fc.nat(), (md, cut) => {
        const bytes = withXr(xr(md as JsonValue));
        const damaged = bytes.subarray(0, bytes.length - (cut % 4 === 0 ? cut % bytes.length : 0));
        const peeked = peekRequest(damaged, 1024);
        const decoded = decodeRequest(damaged);
        if (!decoded.ok) return;
        const ns = (decoded.request.observed.composite?.resource["metadata"] as JsonObject | undefined)?.["namespace"];
        const want = typeof ns === "string" && Buffer.byteLength(ns) <= 63 ? ns : undefined;
        expect(peeked).toEqual({ tag: decoded.request.tag, namespace: want });
      }),
    );
  });
});
