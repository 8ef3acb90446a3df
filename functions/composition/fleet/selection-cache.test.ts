// The selection cache: bounded and evicting, and never stale. Every case
// composes the same request twice, once from its bytes with the cache (as a
// worker does, the cache kept between calls) and once decoded whole without
// it, and compares the whole responses; the cache's counters show each
// answer came from where the case says.
import { describe, expect, it } from "vitest";
import { clustersRequest, EVERY_H100, h100Cluster, INPUT } from "../../../test/support/cluster-requests.ts";
import { decodeRequest } from "../../protocol/decode-request.ts";
import type { FunctionRequest, FunctionResponse, JsonObject } from "../../sdk/types.ts";
import { GPUS, inferenceCluster, modelCache } from "../../../test/support/fleet-builders.ts";
import { structBytes } from "../../../test/security/server-wire.ts";
import { composeFleet, isClusterRequirement } from "./compose.ts";
import { SelectionCache, type CachedSelection } from "./selection-cache.ts";

const opts = { defaultHydratorImage: "img:v1" };

const entry = (name: string, reason = "r"): CachedSelection => ({ metaKey: `${name}\u0000`, outcome: { kind: "notSelected", name, reason } });

describe("bounds", () => {
  it("evicts the least recently used entry past its entries", () => {
    const c = new SelectionCache({ entries: 2, bytes: 1 << 20 });
    c.set("ctx", "a", entry("a"));
    c.set("ctx", "b", entry("b"));
    expect(c.get("ctx", "a")).toEqual(entry("a"));
    c.set("ctx", "c", entry("c"));
    // b was used least recently: a was read after it.
    expect(c.get("ctx", "b")).toBeUndefined();
    expect(c.get("ctx", "a")).toEqual(entry("a"));
    expect(c.get("ctx", "c")).toEqual(entry("c"));
    expect(c.stats()).toMatchObject({ entries: 2, hits: 3, misses: 1 });
  });

  it("evicts past its bytes, and keeps no entry larger than all of them", () => {
    const c = new SelectionCache({ entries: 1000, bytes: 4096 });
    for (let i = 0; i < 20; i++) c.set("ctx", `d${i}`, entry(`c${i}`, "x".repeat(200)));
    const { entries, bytes } = c.stats();
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(20);
    expect(bytes).toBeLessThanOrEqual(4096);
    expect(c.get("ctx", "d19")).toBeDefined();
    expect(c.get("ctx", "d0")).toBeUndefined();
    c.set("ctx", "huge", entry("h", "x".repeat(10_000)));
    expect(c.get("ctx", "huge")).toBeUndefined();
  });

  it("keys on the context and the digest together", () => {
    const c = new SelectionCache();
    c.set("one", "d", entry("a"));
    expect(c.get("two", "d")).toBeUndefined();
    expect(c.get("one", "e")).toBeUndefined();
  });

  it("freezes what it keeps: calls share entries, and none may change one", () => {
    const c = new SelectionCache();
    c.set("ctx", "d", entry("a"));
    const got = c.get("ctx", "d");
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got?.outcome)).toBe(true);
  });
});

function decoded(bytes: Buffer, encoded: boolean): FunctionRequest {
  const d = decodeRequest(bytes, encoded ? { encoded: isClusterRequirement } : {});
  if (!d.ok) throw new Error(d.message);
  return d.request;
}

/** The response through the cache, checked against the same request decoded whole and composed without it; and the cache's hits and misses on that call. */
function compare(cache: SelectionCache, bytes: Buffer): { rsp: FunctionResponse; hits: number; misses: number } {
  const before = cache.stats();
  const rsp = composeFleet(decoded(bytes, true), { ...opts, selectionCache: cache });
  const after = cache.stats();
  expect(rsp).toEqual(composeFleet(decoded(bytes, false), opts));
  return { rsp, hits: after.hits - before.hits, misses: after.misses - before.misses };
}

const replica = (rsp: FunctionResponse, i: number) => rsp.desired.resources[`replica-gke-${String(i).padStart(4, "0")}`];

describe("never a stale decision, at 5,000 clusters", () => {
  const N = 5000;
  const xr = modelCache({ clusterSelector: { matchLabels: { tier: "prod" }, cel: EVERY_H100 } });
  const items = Array.from({ length: N }, (_, i) => structBytes(h100Cluster(i)));
  // One cache for the whole sequence, as one worker keeps it between calls.
  const cache = new SelectionCache();

  it("first the whole fleet is read, then a converged call reads none of it", () => {
    const first = compare(cache, clustersRequest(xr, items));
    expect(first).toMatchObject({ hits: 0, misses: N });
    expect(Object.keys(first.rsp.desired.resources).filter((k) => k.startsWith("replica-"))).toHaveLength(N);
    expect(compare(cache, clustersRequest(xr, items))).toMatchObject({ hits: N, misses: 0 });
  });

  it("one attribute of one device of one cluster changed: that cluster alone is read again, and turned away", () => {
    const changed = [...items];
    changed[2345] = structBytes(
      h100Cluster(2345, (c) => {
        const device = (((c["status"] as JsonObject)["gpuPools"] as JsonObject[])[0]?.["devices"] as JsonObject[])[3] as JsonObject;
        (device["attributes"] as JsonObject)["productName"] = { string: GPUS.A100.productName };
      }),
    );
    const r = compare(cache, clustersRequest(xr, changed));
    expect(r).toMatchObject({ hits: N - 1, misses: 1 });
    expect(replica(r.rsp, 2345)).toBeUndefined();
    expect(replica(r.rsp, 2344)).toBeDefined();
    // And back: the old bytes are still known.
    expect(compare(cache, clustersRequest(xr, items))).toMatchObject({ hits: N, misses: 0 });
  });

  it("only a label changed: that cluster alone is read again, and no longer matches", () => {
    const changed = [...items];
    changed[17] = structBytes(h100Cluster(17, (c) => ((c["metadata"] as JsonObject)["labels"] = { tier: "staging", region: "europe-west4" })));
    const r = compare(cache, clustersRequest(xr, changed));
    expect(r).toMatchObject({ hits: N - 1, misses: 1 });
    expect(replica(r.rsp, 17)).toBeUndefined();
  });

  it("the selector changed: every cluster is decided again under it", () => {
    const other = modelCache({ clusterSelector: { matchLabels: { tier: "prod" }, cel: `cluster.labels["region"] == "us-east1"` } });
    const r = compare(cache, clustersRequest(other, items));
    expect(r).toMatchObject({ hits: 0, misses: N });
    expect(replica(r.rsp, 1)).toBeUndefined();
    expect(replica(r.rsp, 2)).toBeDefined();
  });

  it("the Input changed (where a cluster's storage class is read): every cluster is decided again under it", () => {
    const input = { ...INPUT, clusters: { fields: { storageClassName: "status.nowhere" } } };
    const pvc = modelCache({ clusterSelector: { matchLabels: { tier: "prod" }, cel: EVERY_H100 }, storage: { backend: "PVC", pvc: { size: "40Gi" } } });
    const r = compare(cache, clustersRequest(pvc, items, input));
    expect(r).toMatchObject({ hits: 0, misses: N });
    // No RWX class where the Input now looks: every cluster Blocked.
    expect(replica(r.rsp, 1)).toBeUndefined();
    expect(((r.rsp.desired.composite?.resource["status"] as JsonObject)["clusters"] as JsonObject[])[0]).toMatchObject({ phase: "Blocked" });
  });
});

describe("the call's CEL budget", () => {
  // Costs about 14,500 units on a cluster labelled n: big, 8 on any other: more than one cluster's
  // allowance (10,000), so it finishes only with the credit a cheap cluster before it left unspent.
  const list = `[${Array.from({ length: 42 }, (_, i) => i).join(",")}]`;
  const xr = modelCache({ clusterSelector: { cel: `cluster.labels["n"] == "big" ? ${list}.all(a, ${list}.all(b, a + b >= 0)) : true` } });
  const c = (name: string, n: string) => structBytes(inferenceCluster({ name, labels: { n }, cloud: "GKE", storageClassName: "filestore-rwx", pools: [] }));

  it("is replayed for a remembered cluster: one that finished on credit it no longer has is evaluated again, and stopped", () => {
    const cache = new SelectionCache();
    const both = compare(cache, clustersRequest(xr, [c("a-small", "small"), c("b-big", "big")]));
    expect(both.rsp.desired.resources["replica-b-big"]).toBeDefined();
    // Alone, b-big has only its own allowance: the remembered outcome would be stale, so it is not used.
    const alone = compare(cache, clustersRequest(xr, [c("b-big", "big")]));
    expect(alone).toMatchObject({ hits: 1, misses: 0 });
    expect(alone.rsp.desired.resources["replica-b-big"]).toBeUndefined();
    expect(alone.rsp.results).toContainEqual(expect.objectContaining({ reason: "SelectorEvaluationFailed" }));
    // With the credit back, the remembered outcome stands again.
    const again = compare(cache, clustersRequest(xr, [c("a-small", "small"), c("b-big", "big")]));
    expect(again).toMatchObject({ hits: 2, misses: 0 });
    expect(again.rsp.desired.resources["replica-b-big"]).toBeDefined();
  });
});

describe("a cluster that cannot be read", () => {
  it("fails the call as reading the whole request at once did, keeping every replica", () => {
    const xr = modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } });
    // A key over the 16 KiB a key may have, inside the cluster object.
    const bad = structBytes({ metadata: { name: "x" }, ["k".repeat(20_000)]: 1 });
    const bytes = clustersRequest(xr, [structBytes(h100Cluster(1)), bad]);
    const whole = decodeRequest(bytes);
    expect(whole).toMatchObject({ ok: false, refused: true });
    const rsp = composeFleet(decoded(bytes, true), { ...opts, selectionCache: new SelectionCache() });
    const fatal = rsp.results.find((r) => r.severity === "Fatal");
    expect(fatal).toMatchObject({ reason: "RequestRefused" });
    expect(fatal?.message).toBe(`function-model-cache refused the request: ${whole.ok ? "" : whole.message}`);
  });
});
