// The compact replica at the cluster level: with its contract delivered it
// composes exactly what the same spec in full composes; without it (not yet
// fetched, not found, not written, another hash) it keeps every observed
// resource exactly as observed; and it asks for its contract's ConfigMap the
// same way on every call.
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject, ResourceState } from "../../sdk/types.ts";
import { CONTRACT_REQUIREMENT, contractRequirement, TTL_WAITING_SECONDS } from "./contract.ts";
import { CONTRACT_DATA_KEY, contractHash } from "../contract-configmap.ts";
import { field } from "../../common/json.ts";
import { scenarios } from "../../../test/support/replica-scenarios.ts";
import { composeReplica } from "./compose.ts";
import { baseXr, compactForm, compose, contractMap, EPOCH_MS, request, statusOf } from "../../../test/support/replica-builders.ts";

/** Every replica asks who mounts this cache on its cluster: the serving step's records, in any namespace (mounts.ts). */
const mounts = (cluster = "prod-east") => ({
  mounts: {
    apiVersion: "v1",
    kind: "ConfigMap",
    match: { labels: { "modelcache.dev/cache": "qwen3-8b", "modelcache.dev/cache-namespace": "ml-team", "modelcache.dev/cluster": cluster } },
  },
});
/** What a compact replica naming `hash` asks for: its contract's ConfigMap, by name, in its own namespace, and the mounts. */
const requirements = (hash: string, cluster?: string) => ({
  resources: {
    contract: { apiVersion: "v1", kind: "ConfigMap", match: { name: `qwen3-8b-contract-${hash}` }, namespace: "ml-team" },
    ...(cluster !== undefined ? mounts(cluster) : {}),
  },
});
const delivered = (...maps: JsonObject[]) => ({ [CONTRACT_REQUIREMENT]: maps });
/** A ConfigMap named after `hash` whose data says `data`. */
const mapWith = (hash: string, data: JsonObject) => ({ ...contractMap({ hash, spec: {} }), data });

/** Everything but the requirements: what the cluster sees and what the status says. */
function outcome(rsp: FunctionResponse) {
  return { desired: rsp.desired, results: rsp.results, conditions: rsp.conditions, ttlSeconds: rsp.ttlSeconds };
}

describe("a compact replica with its contract delivered", () => {
  // A Fatal or a refusal names the field where the spec came from, which differs by form.
  const full = scenarios().filter((s) => s.phase !== "Fatal" && s.refused !== true && s.required === undefined);
  it.each(full.map((s) => [s.name, s] as const))("composes exactly what the full spec composes: %s", (_name, s) => {
    const compact = compactForm(s.xr);
    const want = compose(s.xr, s.observed, undefined, {}, s.input);
    const got = compose(compact.xr, s.observed, undefined, delivered(contractMap(compact.contract)), s.input);
    // The desired composite differs only in what Crossplane started from: nothing, in both.
    expect(outcome(got)).toEqual(outcome(want));
    // The mount records are asked for only while an earlier revision's volume is observed beside the current one.
    const oldVolume = Object.keys(s.observed).filter((k) => k.startsWith("volume-")).length > 1;
    const cluster = oldVolume ? String(field(s.xr, "spec", "cluster", "name")) : undefined;
    expect(got.requirements).toEqual(requirements(compact.contract.hash, cluster));
    expect(want.requirements).toEqual({ resources: cluster !== undefined ? mounts(cluster) : {} });
  });

  it("takes cacheRef and cluster from the replica, never from the contract", () => {
    const compact = compactForm(baseXr());
    const spec = {
      ...compact.contract.spec,
      cacheRef: { name: "other" },
      cluster: { name: "elsewhere", providerConfigRef: { name: "elsewhere" }, cloud: "GKE" },
    };
    const tampered = { hash: contractHash(spec), spec };
    const got = compose(
      { ...compact.xr, spec: { ...(compact.xr["spec"] as JsonObject), contractHash: tampered.hash } },
      {},
      undefined,
      delivered(contractMap(tampered)),
    );
    expect(outcome(got)).toEqual(outcome(compose(baseXr())));
  });

  it("a contract that is not a valid replica spec is a Fatal naming the ConfigMap's field, and keeps the requirement", () => {
    const compact = compactForm(baseXr({ storage: { backend: "PVC", pvc: { size: "forty gigs" } } }));
    const rsp = compose(compact.xr, {}, undefined, delivered(contractMap(compact.contract)));
    expect(rsp.results.map((r) => [r.severity, r.message])).toEqual([
      [
        "Fatal",
        `invalid ModelCacheReplica: ConfigMap ml-team/qwen3-8b-contract-${compact.contract.hash} data['contract.json'].storage.pvc.size: must be a Kubernetes quantity such as 40Gi or 500G`,
      ],
    ]);
    expect(rsp.requirements).toEqual(requirements(compact.contract.hash));
  });
});

describe("a compact replica without its contract keeps everything observed", () => {
  const hydrating = scenarios().find((s) => s.name === "hydrating");
  if (hydrating === undefined) throw new Error("no hydrating scenario");
  const compact = compactForm(hydrating.xr);
  const other = compactForm(baseXr({ refetch: "later" })).contract;
  const h = compact.contract.hash;
  const cm = `ConfigMap ml-team\\/qwen3-8b-contract-${h}`;
  const cases: { reason: string; required: Record<string, JsonObject[]>; want: RegExp }[] = [
    {
      reason: "first call of a reconcile: not fetched yet",
      required: {},
      want: new RegExp(`^waiting for ${cm} \\(required resource contract\\) to read contract ${h} of ModelCache qwen3-8b$`),
    },
    {
      reason: "fetched, not found (Crossplane applied the replica before the ConfigMap, or it was deleted)",
      required: delivered(),
      want: new RegExp(`^${cm} was not found; this replica names contract ${h} of ModelCache qwen3-8b, which its ModelCache composes$`),
    },
    { reason: "only another contract's ConfigMap (an older hash)", required: delivered(contractMap(other)), want: /was not found/ },
    { reason: "only another cache's ConfigMap", required: delivered(contractMap(compact.contract, "other")), want: /was not found/ },
    {
      reason: "no contract.json",
      required: delivered(mapWith(h, {})),
      want: new RegExp(`^${cm} has no data\\.contract\\.json; this replica names contract ${h}`),
    },
    {
      reason: "contract.json that is not JSON",
      required: delivered(mapWith(h, { [CONTRACT_DATA_KEY]: "{artifact:" })),
      want: /has unreadable JSON in data\.contract\.json/,
    },
    {
      reason: "contract.json that is JSON but not an object",
      required: delivered(mapWith(h, { [CONTRACT_DATA_KEY]: "[1]" })),
      want: /has no JSON object in data\.contract\.json/,
    },
    {
      reason: "contract.json edited: it no longer hashes to the name",
      required: delivered(mapWith(h, { [CONTRACT_DATA_KEY]: JSON.stringify(other.spec) })),
      want: new RegExp(`holds contract ${other.hash}, not ${h}`),
    },
  ];

  it.each(cases)("$reason", ({ required, want }) => {
    const rsp = compose(compact.xr, hydrating.observed, undefined, required);
    // Nothing added, nothing deleted, nothing changed: every observed resource as observed.
    expect(Object.keys(rsp.desired.resources).sort()).toEqual(Object.keys(hydrating.observed).sort());
    for (const [key, o] of Object.entries(hydrating.observed)) {
      const d = rsp.desired.resources[key];
      expect(d?.resource).toEqual({ apiVersion: o.resource["apiVersion"], kind: o.resource["kind"], spec: o.resource["spec"] });
    }
    // The last status stays (the fleet keeps reporting it), the reason is in its message and the condition.
    const st = statusOf(rsp);
    expect(st).toMatchObject({ phase: "Hydrating", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" });
    expect(st.message).toMatch(want);
    expect(rsp.conditions).toEqual([{ type: "Hydrated", status: "False", reason: "WaitingForContract", message: st.message, target: "Composite" }]);
    expect(rsp.desired.composite?.ready).toBe("False");
    expect(rsp.results).toEqual([]);
    expect(rsp.ttlSeconds).toBe(TTL_WAITING_SECONDS);
    expect(rsp.requirements).toEqual(requirements(h));
  });

  it("a Ready replica stays Ready while it waits", () => {
    const ready = compactForm(baseXr({}, { phase: "Ready", attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d" }));
    const rsp = compose(ready.xr, {}, undefined, delivered(contractMap(other)));
    expect(rsp.desired.composite?.ready).toBe("True");
    expect(rsp.conditions[0]).toMatchObject({ status: "True", reason: "WaitingForContract" });
  });

  it("a desired resource of an earlier step under an observed key passes through as that step wants it", () => {
    const key = Object.keys(hydrating.observed)[0] ?? "";
    const earlier: ResourceState = { resource: { apiVersion: "v1", kind: "ConfigMap" }, connectionDetails: {}, ready: "True" };
    const rsp = composeReplica(request(compact.xr, hydrating.observed, { [key]: earlier }, {}), { now: () => EPOCH_MS });
    expect(rsp.desired.resources[key]).toBe(earlier);
  });
});

describe("the requirement", () => {
  const compact = compactForm(baseXr());
  const stale = compactForm(baseXr({ refetch: "x" })).contract;
  it.each<{ reason: string; required: Record<string, JsonObject[]>; xr?: JsonObject }>([
    { reason: "before the ConfigMap is fetched", required: {} },
    { reason: "with it delivered and matching", required: delivered(contractMap(compact.contract)) },
    { reason: "with only a stale contract's ConfigMap", required: delivered(contractMap(stale)) },
    { reason: "when it is not found", required: delivered() },
    {
      reason: "with its ConfigMap edited (content of another hash)",
      required: delivered(mapWith(compact.contract.hash, { [CONTRACT_DATA_KEY]: JSON.stringify({ storage: 1 }) })),
    },
  ])("is the same on every call: $reason", ({ required }) => {
    expect(compose(compact.xr, {}, undefined, required).requirements).toEqual(requirements(compact.contract.hash));
  });

  it("follows the replica's own namespace, cacheRef and contractHash, nothing else", () => {
    expect(contractRequirement({ cacheRef: { name: "a" }, contractHash: "0123456789abcdef" }, "team-b")).toEqual({
      contract: { apiVersion: "v1", kind: "ConfigMap", match: { name: "a-contract-0123456789abcdef" }, namespace: "team-b" },
    });
  });
});

describe("either form, never both", () => {
  const compact = compactForm(baseXr());
  it.each<{ reason: string; spec: JsonObject; want: string }>([
    {
      reason: "a hash and inline fields",
      spec: { ...(compact.xr["spec"] as JsonObject), claimName: "x" },
      want: "invalid ModelCacheReplica: spec: either contractHash alone (the compact form) or the full spec (artifact, storage, namespace, claimName, mountPath, hydratorImage) must be set, not both; contractHash and claimName are",
    },
    {
      reason: "neither a hash nor the full spec",
      spec: {
        cacheRef: { name: "qwen3-8b" },
        cluster: (compact.xr["spec"] as JsonObject)["cluster"] ?? null,
        artifact: (baseXr()["spec"] as JsonObject)["artifact"] ?? null,
      },
      want: "invalid ModelCacheReplica: spec: either contractHash alone (the compact form) or the full spec (artifact, storage, namespace, claimName, mountPath, hydratorImage) must be set, not both; storage, namespace, claimName, mountPath, hydratorImage are missing",
    },
    {
      reason: "a hash that is not one",
      spec: { ...(compact.xr["spec"] as JsonObject), contractHash: "ABC" },
      want: "invalid ModelCacheReplica: spec.contractHash: must be 16 lowercase hex digits",
    },
  ])("$reason", ({ spec, want }) => {
    const rsp = compose({ ...compact.xr, spec }, {});
    expect(rsp.results.map((r) => [r.severity, r.message])).toEqual([["Fatal", want]]);
  });
});
