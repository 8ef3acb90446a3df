// A request walked as it arrives, through the worker's own composition (createCompose: its selection cache and
// the `forget` that lets known clusters' bytes go), must compose exactly what the same request decoded whole and
// composed without any cache does: never a stale decision. Each case says how many clusters' bytes went.
import { describe, expect, it } from "vitest";
import { clustersRequest, EVERY_H100, h100Cluster } from "../../test/support/cluster-requests.ts";
import { decodeRequest } from "../protocol/decode-request.ts";
import { runFunction } from "../composition/run-function.ts";
import type { FunctionResponse, JsonObject } from "../sdk/types.ts";
import { GPUS, inferenceCluster, modelCache } from "../../test/support/fleet-builders.ts";
import { field, resourceBytes, structBytes } from "../../test/security/server-wire.ts";
import { createCompose } from "./compose-run-function.ts";
import { streamedRequest } from "./service.ts";

const opts = { defaultHydratorImage: "img:v1" };

/** The same bytes decoded whole and composed with no cache: what every streamed call must answer. */
function reference(bytes: Buffer): FunctionResponse {
  const d = decodeRequest(bytes);
  if (!d.ok) throw new Error(d.message);
  return runFunction(d.request, opts);
}

/** One worker: its compose (and selection cache) kept between calls, each request walked in 64 KiB pieces. */
function worker() {
  const compose = createCompose(opts);
  return (bytes: Buffer) => {
    const s = streamedRequest(bytes.length, compose);
    for (let at = 0; at < bytes.length; at += 65_536) s.write(bytes.subarray(at, at + 65_536));
    const d = s.end();
    if (!d.ok) throw new Error(d.message);
    return { rsp: compose(d.request) as FunctionResponse, forgotten: s.stats.forgotten, items: s.stats.items };
  };
}

const replica = (rsp: FunctionResponse, i: number) => rsp.desired.resources[`replica-gke-${String(i).padStart(4, "0")}`];

describe("walked as it arrives, never a stale decision, at 5,000 clusters", () => {
  const N = 5000;
  const xr = modelCache({ clusterSelector: { matchLabels: { tier: "prod" }, cel: EVERY_H100 } });
  const items = Array.from({ length: N }, (_, i) => structBytes(h100Cluster(i)));
  const call = worker();

  it("the first call keeps every cluster's bytes; a converged one lets every one go", () => {
    const bytes = clustersRequest(xr, items);
    const first = call(bytes);
    expect(first).toMatchObject({ items: N, forgotten: 0 });
    expect(first.rsp).toEqual(reference(bytes));
    const again = call(bytes);
    expect(again).toMatchObject({ items: N, forgotten: N });
    expect(again.rsp).toEqual(reference(bytes));
  });

  it("one attribute of one device of one cluster changed: that cluster alone is kept and read, and turned away", () => {
    const changed = [...items];
    changed[2345] = structBytes(
      h100Cluster(2345, (c) => {
        const device = (((c["status"] as JsonObject)["gpuPools"] as JsonObject[])[0]?.["devices"] as JsonObject[])[3] as JsonObject;
        (device["attributes"] as JsonObject)["productName"] = { string: GPUS.A100.productName };
      }),
    );
    const bytes = clustersRequest(xr, changed);
    const r = call(bytes);
    expect(r.forgotten).toBe(N - 1);
    expect(r.rsp).toEqual(reference(bytes));
    expect(replica(r.rsp, 2345)).toBeUndefined();
    expect(replica(r.rsp, 2344)).toBeDefined();
  });

  it("the selector changed: no cluster's bytes go, every one is decided again", () => {
    const other = modelCache({ clusterSelector: { matchLabels: { tier: "prod" }, cel: `cluster.labels["region"] == "us-east1"` } });
    const bytes = clustersRequest(other, items);
    const r = call(bytes);
    expect(r.forgotten).toBe(0);
    expect(r.rsp).toEqual(reference(bytes));
  });
});

describe("what was let go is used only in the context it was known in", () => {
  const xr = modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } });
  const items = Array.from({ length: 3 }, (_, i) => structBytes(h100Cluster(i)));

  it("a composite sent again after the clusters, with another spec: refused naming why, every replica kept", () => {
    const call = worker();
    call(clustersRequest(xr, items));
    const other = modelCache({ clusterSelector: { matchLabels: { tier: "staging" } } });
    // The observed composite again (field 2), after the required resources: the last one wins.
    const bytes = Buffer.concat([clustersRequest(xr, items), field(2, field(1, resourceBytes(structBytes(other))))]);
    const r = call(bytes);
    expect(r.forgotten).toBe(3);
    const fatal = r.rsp.results.find((x) => x.severity === "Fatal");
    expect(fatal).toMatchObject({ reason: "RequestRefused" });
    expect(fatal?.message).toContain(`required_resources["clusters"][0]: its bytes were let go as they arrived`);
  });

  it("the same composite sent again after the clusters: the decisions stand", () => {
    const call = worker();
    call(clustersRequest(xr, items));
    const bytes = Buffer.concat([clustersRequest(xr, items), field(2, field(1, resourceBytes(structBytes(xr))))]);
    const r = call(bytes);
    expect(r.forgotten).toBe(3);
    expect(r.rsp).toEqual(reference(bytes));
  });
});

describe("under an XR that is not a ModelCache the clusters pass unread", () => {
  const items = Array.from({ length: 50 }, (_, i) => structBytes(h100Cluster(i)));
  const other = { apiVersion: "example.org/v1", kind: "SomethingElse", metadata: { name: "x", namespace: "team-a" } };

  it("none of their bytes is kept, and the answer is the one the whole request gets", () => {
    const bytes = clustersRequest(other, items);
    const r = worker()(bytes);
    expect(r).toMatchObject({ items: 50, forgotten: 50 });
    expect(r.rsp).toEqual(reference(bytes));
  });

  it("a ModelCache sent after them in its place: refused naming why, not composed without its clusters", () => {
    const xr = modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } });
    const bytes = Buffer.concat([clustersRequest(other, items), field(2, field(1, resourceBytes(structBytes(xr))))]);
    const r = worker()(bytes);
    expect(r.forgotten).toBe(50);
    expect(r.rsp.results.find((x) => x.severity === "Fatal")).toMatchObject({
      reason: "RequestRefused",
      message: expect.stringContaining(`required_resources["clusters"][0]: its bytes were let go as they arrived`),
    });
  });
});

describe("the call's CEL budget", () => {
  // As selection-cache.test.ts: b-big costs more than its own allowance, so it finishes only on credit a cheap
  // cluster before it left. Its outcome may need evaluating again: its bytes are never let go.
  const list = `[${Array.from({ length: 42 }, (_, i) => i).join(",")}]`;
  const xr = modelCache({ clusterSelector: { cel: `cluster.labels["n"] == "big" ? ${list}.all(a, ${list}.all(b, a + b >= 0)) : true` } });
  const c = (name: string, n: string) => structBytes(inferenceCluster({ name, labels: { n }, cloud: "GKE", storageClassName: "filestore-rwx", pools: [] }));

  it("keeps the bytes of a cluster that finished on borrowed credit, and decides it again when the credit is gone", () => {
    const call = worker();
    const both = clustersRequest(xr, [c("a-small", "small"), c("b-big", "big")]);
    expect(call(both).rsp).toEqual(reference(both));
    const again = call(both);
    expect(again.forgotten).toBe(1);
    expect(again.rsp).toEqual(reference(both));
    const alone = clustersRequest(xr, [c("b-big", "big")]);
    const r = call(alone);
    expect(r.forgotten).toBe(0);
    expect(r.rsp).toEqual(reference(alone));
    expect(r.rsp.desired.resources["replica-b-big"]).toBeUndefined();
  });
});
