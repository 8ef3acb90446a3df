import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../sdk/types.ts";
import { identityHash } from "../fleet/identity.ts";
import { parseCache } from "../fleet/parse.ts";
import { cacheOnCluster, type CacheOnCluster } from "./cache-view.ts";
import { CACHE_NS, CLUSTER, modelCache, V1_CLAIM, V1_PIN, V2_CLAIM } from "../../../test/support/serving-builders.ts";

function view(mc: JsonObject, cluster = CLUSTER): CacheOnCluster {
  const r = cacheOnCluster(mc, cluster);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe("cacheOnCluster", () => {
  it("a Ready cluster the fleet compacted: digest, claim, namespace and mount path come from the fleet-wide fields", () => {
    expect(view(modelCache("ready"))).toStrictEqual({
      ref: "ml-team/qwen3-8b",
      listed: true,
      reported: true,
      selected: true,
      phase: "Ready",
      drift: false,
      claimName: V1_CLAIM,
      seed: undefined,
      namespace: CACHE_NS,
      mountPath: "/models/qwen3-8b",
      manifestDigest: V1_PIN,
      pinnedDigest: V1_PIN,
      pinStale: false,
      accessMode: "ReadWriteMany",
    });
  });

  it("a hydrating cluster is not given the pin's digest it has not verified", () => {
    const v = view(modelCache("rollout-hydrating"));
    expect(v.manifestDigest).toBeUndefined();
    expect(v.claimName).toBe(V2_CLAIM);
    expect({ pinStale: v.pinStale, pinnedDigest: v.pinnedDigest, bytesDone: v.bytesDone, etaSeconds: v.etaSeconds }).toStrictEqual({
      pinStale: true,
      pinnedDigest: undefined,
      bytesDone: 12 * 2 ** 30,
      etaSeconds: 41,
    });
  });

  it("a pin whose identity is the current source's is current; any other identity is stale", () => {
    const mc = modelCache("ready");
    const parsed = parseCache(mc);
    if (!parsed.ok) throw new Error(parsed.message);
    const pin = (mc["status"] as JsonObject)["pin"] as JsonObject;
    pin["identity"] = identityHash(parsed.value.spec.artifact);
    expect(view(mc)).toMatchObject({ pinStale: false, pinnedDigest: V1_PIN });
    pin["identity"] = "ffffffffff";
    expect(view(mc)).toMatchObject({ pinStale: true, pinnedDigest: undefined });
  });

  it("a cluster the cache does not list is neither selected nor given a claim", () => {
    expect(view(modelCache("ready"), "elsewhere")).toMatchObject({
      listed: false,
      selected: false,
      phase: undefined,
      claimName: undefined,
      manifestDigest: undefined,
    });
  });

  it("a ModelCache the fleet has not reported on yet (no status.clusters, no ClustersSelected True or False) is not reported; either one is", () => {
    const mc = modelCache("ready");
    const status = mc["status"] as JsonObject;
    delete status["clusters"];
    expect(view(mc)).toMatchObject({ listed: false, reported: false });
    status["conditions"] = [{ type: "ClustersSelected", status: "Unknown", reason: "WaitingForClusters" }];
    expect(view(mc), "the fleet waiting for its clusters has not reported them").toMatchObject({ reported: false });
    status["conditions"] = [{ type: "ClustersSelected", status: "False", reason: "NoClusterMatches" }];
    expect(view(mc)).toMatchObject({ listed: false, reported: true });
    delete status["conditions"];
    status["clusters"] = [];
    expect(view(mc)).toMatchObject({ listed: false, reported: true });
  });

  it("a cluster whose nodes hydrate from the source says so (seed Source); a cluster with a shared copy, or one not listed, does not", () => {
    const mc = modelCache("ready");
    const line = ((mc["status"] as JsonObject)["clusters"] as JsonObject[])[0] as JsonObject;
    line["seed"] = "Source";
    expect(view(mc)).toMatchObject({ listed: true, phase: "Ready", seed: "Source", claimName: V1_CLAIM });
    expect(view(mc, "elsewhere").seed).toBeUndefined();
    expect(view(modelCache("ready")).seed).toBeUndefined();
  });

  it("a drifted cluster keeps its own digest and says so", () => {
    expect(view(modelCache("drift"))).toMatchObject({
      drift: true,
      phase: "Failed",
      manifestDigest: "sha256:ffff000000000000000000000000000000000000000000000000000000000000",
      pinnedDigest: V1_PIN,
    });
  });

  it("a ModelCache whose spec does not parse is reported with the field, never guessed at", () => {
    const mc = modelCache("ready");
    delete (mc["spec"] as JsonObject)["storage"];
    const r = cacheOnCluster(mc, CLUSTER);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toMatch(/^spec\.storage: /);
  });
});
