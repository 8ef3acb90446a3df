// parseCache and parseInput remember each validation by its value's JSON text (parse.ts): the same answers as
// without the cache, shared read-only, never confusing two values one JSON text stands for.
import { describe, expect, it } from "vitest";
import { ModelCacheSpec, ModelCacheStatus } from "../../api/modelcache.ts";
import { Input, INPUT_API_VERSION } from "../../api/input.ts";
import type { JsonObject } from "../../sdk/types.ts";
import { modelCache } from "../../../test/support/fleet-builders.ts";
import { parseCache, parseInput } from "./parse.ts";

const summary = (n: number) => ({ summary: { selected: n, ready: 0, failed: 0, drifted: 0 } });

describe("parseCache and parseInput remember validations", () => {
  const cases: { reason: string; xr: JsonObject }[] = [
    { reason: "a ModelCache with defaults to fill in", xr: modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } }) },
    { reason: "with a status read back", xr: modelCache({}, { status: { ready: "1/2", ...summary(2) } }) },
    { reason: "an unreadable status is ignored, as without the cache", xr: modelCache({}, { status: { summary: "hand-edited" } }) },
    { reason: "an invalid spec is the same error each time", xr: modelCache({ storage: { backend: "Tape" } }) },
    {
      reason: "a status too large to remember (a fleet of 2,000 clusters) is validated each time",
      xr: modelCache({}, { status: { clusters: Array.from({ length: 2000 }, (_, i) => ({ name: `c${i}`, phase: "Ready", bytesDone: i })), ...summary(2000) } }),
    },
  ];
  for (const { reason, xr } of cases)
    it(`gives what zod gives, every time: ${reason}`, () => {
      const spec = ModelCacheSpec.safeParse(xr["spec"]);
      const status = ModelCacheStatus.safeParse(xr["status"] ?? {});
      const expected = spec.success
        ? { ok: true, spec: spec.data, status: status.success ? status.data : {} }
        : { ok: false, spec: undefined, status: undefined };
      for (let i = 0; i < 3; i++) {
        const got = parseCache(structuredClone(xr));
        expect({ ok: got.ok, spec: got.ok ? got.value.spec : undefined, status: got.ok ? got.value.observedStatus : undefined }).toStrictEqual(expected);
        if (!got.ok && !spec.success) expect(got.message).toContain("spec.storage");
      }
    });

  it("shares one frozen result between calls with the same value, so no call can change another's", () => {
    const xr = modelCache({ clusterSelector: { matchLabels: { tier: "shared" } } });
    const a = parseCache(structuredClone(xr));
    const b = parseCache(structuredClone(xr));
    if (!a.ok || !b.ok) throw new Error("valid ModelCache refused");
    expect(b.value.spec).toBe(a.value.spec);
    expect(Object.isFrozen(a.value.spec.clusterSelector.matchLabels)).toBe(true);
    expect(() => {
      (a.value.spec.clusterSelector as { matchLabels: unknown }).matchLabels = {};
    }).toThrow(TypeError);
    // Nothing of the request is kept: the result is not the request's own objects.
    const req = structuredClone(xr);
    const c = parseCache(req);
    if (!c.ok) throw new Error("valid ModelCache refused");
    expect(Object.isFrozen((req["spec"] as JsonObject)["clusterSelector"])).toBe(false);
  });

  it("tells -0 from 0, which one JSON text stands for", () => {
    const line = (bytesDone: number) => ({ clusters: [{ name: "c1", phase: "Hydrating", bytesDone }], ...summary(1) });
    for (const first of [0, -0]) {
      const second = Object.is(first, 0) ? -0 : 0;
      const a = parseCache(modelCache({}, { status: line(first) }));
      const b = parseCache(modelCache({}, { status: line(second) }));
      if (!a.ok || !b.ok) throw new Error("valid ModelCache refused");
      expect(Object.is(a.value.observedStatus.clusters?.[0]?.bytesDone, first)).toBe(true);
      expect(Object.is(b.value.observedStatus.clusters?.[0]?.bytesDone, second)).toBe(true);
    }
  });

  it("validates the Input as zod does, the default one and an invalid one", () => {
    const none = parseInput(undefined);
    expect(none).toStrictEqual({ ok: true, value: Input.parse({ apiVersion: INPUT_API_VERSION, kind: "Input" }) });
    expect(parseInput(undefined)).toStrictEqual(none);
    const bad = { apiVersion: INPUT_API_VERSION, kind: "Input", clusterNamespace: "default" };
    const first = parseInput(bad);
    expect(first.ok).toBe(false);
    expect(parseInput(structuredClone(bad))).toStrictEqual(first);
  });
});
