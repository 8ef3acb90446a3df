// The contract ConfigMaps the fleet composes: the current one while a replica
// uses it, and every older one an observed replica still names, so a kept,
// retained or not yet updated replica keeps reading its contract.
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject, ResourceState } from "../../sdk/types.ts";
import { contractKey, isContractKey } from "../contract-configmap.ts";
import { composeFleet } from "./compose.ts";
import { contractOf, fleet, modelCache, observedReplica, request } from "../../../test/support/fleet-builders.ts";

const opts = { defaultHydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0" };
const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };
const refetch = (token: string) => ({ annotations: { "modelcache.dev/refetch": token } });

/** Everything `rsp` composed, observed as Crossplane would (replicas with no report yet). */
function observe(rsp: FunctionResponse): Record<string, ResourceState> {
  return Object.fromEntries(Object.entries(rsp.desired.resources).map(([k, r]) => [k, observedReplica(r.resource, undefined, k)]));
}
const contractKeys = (rsp: FunctionResponse) => Object.keys(rsp.desired.resources).filter(isContractKey).sort();

// The previous reconcile, under contract "old": every prod cluster has a replica naming it.
const before = composeFleet(request(modelCache(prod, refetch("old")), { clusters: fleet() }), opts);
const old = contractOf(before).hash;
const observedBefore = observe(before);
const without = (name: string) => fleet().filter((c) => (c["metadata"] as JsonObject)["name"] !== name);

describe("which contract ConfigMaps are desired", () => {
  const cases: { reason: string; xr: JsonObject; clusters: JsonObject[]; observed: Record<string, ResourceState>; keepOld: boolean }[] = [
    { reason: "first pass: the current one only", xr: modelCache(prod), clusters: fleet(), observed: {}, keepOld: false },
    {
      reason: "the contract did not change: the same one, once",
      xr: modelCache(prod, refetch("old")),
      clusters: fleet(),
      observed: observedBefore,
      keepOld: false,
    },
    {
      reason: "the contract moved on: every replica is recomposed with the new hash, and the old ConfigMap stays while the observed replicas still name it",
      xr: modelCache(prod, refetch("new")),
      clusters: fleet(),
      observed: observedBefore,
      keepOld: true,
    },
    {
      reason: "a replica kept because its cluster vanished keeps its old contract",
      xr: modelCache(prod, refetch("new")),
      clusters: without("aks-eastus-a100"),
      observed: observedBefore,
      keepOld: true,
    },
    {
      reason: "a retained replica (no longer selected) keeps its old contract",
      xr: modelCache({ clusterSelector: { matchLabels: { region: "us-east1" } } }, refetch("new")),
      clusters: fleet(),
      observed: observedBefore,
      keepOld: true,
    },
  ];
  it.each(cases)("$reason", ({ xr, clusters, observed, keepOld }) => {
    const rsp = composeFleet(request(xr, { clusters, observed }), opts);
    const current = contractOf(rsp).hash;
    expect(contractKeys(rsp)).toEqual([...new Set([contractKey(current), ...(keepOld ? [contractKey(old)] : [])])].sort());
    // Every one is data: Ready as soon as composed, and the old one is exactly what was observed.
    for (const k of contractKeys(rsp)) expect(rsp.desired.resources[k]?.ready).toBe("True");
    if (keepOld) expect(rsp.desired.resources[contractKey(old)]?.resource["data"]).toEqual(observedBefore[contractKey(old)]?.resource["data"]);
  });

  it("drops the old one once every observed replica names the current contract", () => {
    const next = composeFleet(request(modelCache(prod, refetch("new")), { clusters: fleet(), observed: observedBefore }), opts);
    const rsp = composeFleet(request(modelCache(prod, refetch("new")), { clusters: fleet(), observed: observe(next) }), opts);
    expect(contractKeys(rsp)).toEqual([contractKey(contractOf(rsp).hash)]);
  });

  it.each<{ reason: string; edit: (cm: JsonObject) => JsonObject | undefined }>([
    { reason: "its ConfigMap is not observed (deleted by hand)", edit: () => undefined },
    { reason: "its ConfigMap no longer hashes to its name (edited by hand)", edit: (cm) => ({ ...cm, data: { "contract.json": "{}" } }) },
  ])("cannot keep an old contract it cannot read back: $reason", ({ edit }) => {
    const key = contractKey(old);
    const state = observedBefore[key];
    const edited = state === undefined ? undefined : edit(state.resource);
    const others = Object.fromEntries(Object.entries(observedBefore).filter(([k]) => k !== key));
    const observed: Record<string, ResourceState> = edited === undefined || state === undefined ? others : { ...others, [key]: { ...state, resource: edited } };
    const rsp = composeFleet(request(modelCache(prod, refetch("new")), { clusters: without("aks-eastus-a100"), observed }), opts);
    expect(contractKeys(rsp)).toEqual([contractKey(contractOf(rsp).hash)]);
  });

  it("no cluster selected and no replica: no ConfigMap", () => {
    const rsp = composeFleet(request(modelCache({ clusterSelector: { matchLabels: { tier: "none" } } }), { clusters: fleet() }), opts);
    expect(rsp.desired.resources).toEqual({});
  });
});

describe("when the fleet decides nothing, every contract ConfigMap composed before is kept", () => {
  it.each<{ reason: string; xr: JsonObject; clusters: JsonObject[] | undefined }>([
    { reason: "the clusters are not delivered yet", xr: modelCache(prod, refetch("new")), clusters: undefined },
    { reason: "a Fatal (invalid spec)", xr: modelCache({ storage: { backend: "PVC" } }), clusters: fleet() },
  ])("$reason", ({ xr, clusters }) => {
    const rsp = composeFleet(request(xr, { ...(clusters ? { clusters } : {}), observed: observedBefore }), opts);
    expect(contractKeys(rsp)).toEqual([contractKey(old)]);
    const kept = rsp.desired.resources[contractKey(old)]?.resource ?? {};
    expect(kept["data"]).toEqual(observedBefore[contractKey(old)]?.resource["data"]);
    expect((kept["metadata"] as JsonObject)["name"]).toBe(`qwen3-8b-contract-${old}`);
  });
});
