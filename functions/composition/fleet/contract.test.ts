// The replica contract at the fleet level: its hash is stable (key order does
// not matter, every value does), it is written once into the ModelCache's
// status, and every composed replica carries only its cluster and the hash.
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject } from "../../sdk/types.ts";
import { canonicalJson, contractHash, fleetPreviousClaims } from "./contract.ts";
import { isContractKey } from "../contract-configmap.ts";
import { composeFleet } from "./compose.ts";
import { observedReplicas } from "./replicas.ts";
import { COMMIT, contractOf, replicaKeys, DIGEST, fleet, modelCache, observedReplica, request } from "../../../test/support/fleet-builders.ts";

const opts = { defaultHydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0" };
const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };
const CONTRACT: JsonObject = {
  artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main" } } },
  storage: { backend: "PVC", pvc: { size: "40Gi" } },
  namespace: "model-cache",
  claimName: "qwen3-8b-52f65bb112",
  mountPath: "/models/qwen3-8b",
  hydratorImage: "img:v1",
};

/** Every key of `o`, recursively, in reverse order: the same value built another way. */
function reversed(o: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(o).reverse()) {
    const v = o[k] ?? null;
    out[k] = v !== null && typeof v === "object" && !Array.isArray(v) ? reversed(v) : v;
  }
  return out;
}

describe("contract hash", () => {
  it("is 16 hex digits and the same for the same contract, however its keys were ordered", () => {
    const h = contractHash(CONTRACT);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(contractHash(reversed(CONTRACT))).toBe(h);
    expect(canonicalJson(reversed(CONTRACT))).toBe(canonicalJson(CONTRACT));
    // Pinned literally: a change of canonical form would strand every replica composed before it.
    expect(canonicalJson({ b: [2, { d: 1, c: null }], a: "x" })).toBe('{"a":"x","b":[2,{"c":null,"d":1}]}');
  });

  it.each<{ reason: string; change: JsonObject }>([
    { reason: "a new pin means other bytes", change: { pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST } } },
    { reason: "a new refetch token starts a new hydration", change: { refetch: "2024-06-01" } },
    { reason: "a new claim is a new volume", change: { claimName: "qwen3-8b-0000000000" } },
    { reason: "another image runs the Jobs", change: { hydratorImage: "img:v2" } },
    { reason: "a nested value (the storage size) changes the volume", change: { storage: { backend: "PVC", pvc: { size: "80Gi" } } } },
  ])("changes with every value: $reason", ({ change }) => {
    expect(contractHash({ ...CONTRACT, ...change })).not.toBe(contractHash(CONTRACT));
  });

  it("lists are hashed in order", () => {
    expect(contractHash({ ...CONTRACT, previousClaimNames: ["a", "b"] })).not.toBe(contractHash({ ...CONTRACT, previousClaimNames: ["b", "a"] }));
  });
});

describe("fan-out with the contract", () => {
  const first = composeFleet(request(modelCache(prod), { clusters: fleet() }), opts);
  const observed = Object.fromEntries(
    Object.entries(first.desired.resources).map(([k, r]) => [
      k,
      observedReplica(
        r.resource,
        isContractKey(k)
          ? undefined
          : { phase: "Ready", claimName: String(contractOf(first).spec["claimName"]), resolvedRevision: COMMIT, manifestDigest: DIGEST },
        k,
      ),
    ]),
  );
  const cases: { reason: string; rsp: FunctionResponse }[] = [
    { reason: "first pass", rsp: first },
    { reason: "pinned by the first verification", rsp: composeFleet(request(modelCache(prod), { clusters: fleet(), observed }), opts) },
    {
      reason: "refetch annotation and an Input image",
      rsp: composeFleet(
        request(modelCache(prod, { annotations: { "modelcache.dev/refetch": "r1" } }), {
          clusters: fleet(),
          input: { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", hydratorImage: "reg/x:v9" },
        }),
        opts,
      ),
    },
    {
      reason: "ExistingPVC with hydration and retention written",
      rsp: composeFleet(
        request(
          modelCache({
            ...prod,
            storage: { backend: "ExistingPVC", existingPVC: { claimName: "team" } },
            hydration: { concurrency: 4 },
            retention: { whenUnselected: "Delete" },
          }),
          { clusters: fleet() },
        ),
        opts,
      ),
    },
  ];

  it.each(cases)("every replica carries only cacheRef, cluster and the hash of the contract in status: $reason", ({ rsp }) => {
    const contract = contractOf(rsp);
    expect(contract.hash).toBe(contractHash(contract.spec));
    const keys = replicaKeys(rsp);
    expect(keys.length).toBe(3);
    for (const k of keys) {
      const spec = rsp.desired.resources[k]?.resource["spec"] as JsonObject;
      expect(Object.keys(spec).sort()).toEqual(["cacheRef", "cluster", "contractHash"]);
      expect(spec["contractHash"]).toBe(contract.hash);
    }
  });

  it("the contract holds what the cases changed, and nothing per cluster", () => {
    const [, pinned, refetch, existing] = cases.map((c) => contractOf(c.rsp).spec);
    expect(pinned?.["pin"]).toEqual({ resolvedRevision: COMMIT, manifestDigest: DIGEST });
    expect(refetch).toMatchObject({ refetch: "r1", hydratorImage: "reg/x:v9" });
    expect(existing).toMatchObject({ claimName: "team", hydration: { concurrency: 4 }, retention: { whenUnselected: "Delete" } });
    for (const c of cases) expect(Object.keys(contractOf(c.rsp).spec)).not.toContain("cluster");
  });

  it("is the same contract, byte for byte, on the same request", () => {
    const again = composeFleet(request(modelCache(prod), { clusters: fleet() }), opts);
    expect(contractOf(again)).toEqual(contractOf(first));
  });
});

describe("volumes of earlier revisions, fleet-wide", () => {
  const claim = "qwen3-8b-new0000000";
  const observe = (spec: JsonObject, status: JsonObject, contract?: { hash: string; spec: JsonObject }) =>
    [
      ...observedReplicas(
        {
          "replica-a": observedReplica(
            { apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCacheReplica", metadata: { name: "x" }, spec: { cluster: { name: "a" }, ...spec } },
            status,
            "replica-a",
          ),
        },
        undefined,
        new Map(contract ? [[contract.hash, contract.spec]] : []),
      ).values(),
    ][0];
  const oldContract = { hash: "00000000000000aa", spec: { claimName: "qwen3-8b-old0000000", previousClaimNames: ["qwen3-8b-older000000"] } };
  it.each<{ reason: string; spec: JsonObject; status: JsonObject; contract?: { hash: string; spec: JsonObject }; want: string[] }>([
    {
      reason: "a compact replica of an observed contract (its ConfigMap) keeps that contract's claims",
      spec: { contractHash: oldContract.hash },
      status: { phase: "Hydrating" },
      contract: oldContract,
      want: ["qwen3-8b-old0000000", "qwen3-8b-older000000"],
    },
    {
      reason: "a compact replica of an unknown contract is known by the claim it reports",
      spec: { contractHash: "00000000000000bb" },
      status: { phase: "Ready", claimName: "qwen3-8b-old0000000" },
      contract: oldContract,
      want: ["qwen3-8b-old0000000"],
    },
    {
      reason: "a full-form replica (composed before the contract) keeps its spec's claims",
      spec: { claimName: "qwen3-8b-old0000000", previousClaimNames: ["p"] },
      status: {},
      want: ["qwen3-8b-old0000000", "p"],
    },
    {
      reason: "a replica Ready on the new claim keeps nothing",
      spec: { contractHash: oldContract.hash },
      status: { phase: "Ready", claimName: claim },
      contract: oldContract,
      want: [],
    },
  ])("$reason", ({ spec, status, contract, want }) => {
    expect(fleetPreviousClaims(claim, [observe(spec, status, contract), undefined])).toEqual(want);
  });
});

describe("a compact replica of a contract the status no longer records", () => {
  it("without a report yet is Pending, not rolling out a new revision", () => {
    const first = composeFleet(request(modelCache(prod), { clusters: fleet() }), opts);
    const observed = Object.fromEntries(Object.entries(first.desired.resources).map(([k, r]) => [k, observedReplica(r.resource, undefined, k)]));
    // No status on the XR: the contract those replicas name is unknown here.
    const rsp = composeFleet(request(modelCache(prod), { clusters: fleet(), observed }), opts);
    const lines = (rsp.desired.composite?.resource["status"] as JsonObject)["clusters"] as JsonObject[];
    for (const l of lines) expect(l).toEqual({ name: l["name"] ?? "", phase: "Pending" });
  });
});
