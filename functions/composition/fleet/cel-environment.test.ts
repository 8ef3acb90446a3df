// Selection through the real CEL environment: each failure mode surfaces
// where it belongs (compile-time ones as a Fatal result with the position,
// per-cluster ones as "not selected", reported).
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject } from "../../sdk/types.ts";
import { ClusterFields } from "../../api/input.ts";
import { celFacts } from "./cel-environment.ts";
import { readCluster } from "./read-cluster.ts";
import { composeFleet } from "./compose.ts";
import { fleet, replicaKeys, inferenceCluster, GPUS, modelCache, request } from "../../../test/support/fleet-builders.ts";

const opts = { defaultHydratorImage: "img:v1" };
const explain = { annotations: { "modelcache.dev/explain-selection": "true" } };

function run(cel: string, clusters: JsonObject[] = fleet()): FunctionResponse {
  return composeFleet(request(modelCache({ clusterSelector: { cel } }, explain), { clusters }), opts);
}
const selected = (rsp: FunctionResponse) => replicaKeys(rsp);
const fatal = (rsp: FunctionResponse) => rsp.results.find((r) => r.severity === "Fatal")?.message;

describe("CEL selection", () => {
  it.each([
    {
      reason: "DRA attributes: H100 devices select 2 of 4",
      cel: `cluster.devices.exists(device, device.driver == "gpu.nvidia.com" && device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`,
      want: ["replica-eks-us-east-1-h100", "replica-gke-us-east1-h100"],
    },
    {
      reason: "counting devices: at least 16 H100s",
      cel: `cluster.devices.filter(d, d.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100")).size() >= 16`,
      want: ["replica-gke-us-east1-h100"],
    },
    {
      reason: "capacity as a quantity (80G, since an H100 reports 81559Mi)",
      cel: `cluster.devices.exists(d, d.capacity["gpu.nvidia.com"].memory.isGreaterThan(quantity("80G")))`,
      want: ["replica-aks-eastus-a100", "replica-eks-us-east-1-h100", "replica-gke-us-east1-h100"],
    },
    {
      reason: "version attributes as semver",
      cel: `cluster.devices.exists(d, d.attributes["gpu.nvidia.com"].cudaComputeCapability.compareTo(semver("9.0.0")) >= 0)`,
      want: ["replica-eks-us-east-1-h100", "replica-gke-us-east1-h100"],
    },
    { reason: "labels, combined with cel.bind", cel: `cel.bind(r, cluster.labels["region"], r.startsWith("us-east-"))`, want: ["replica-eks-us-east-1-h100"] },
  ])("$reason", ({ cel, want }) => {
    const rsp = run(cel);
    expect(fatal(rsp)).toBeUndefined();
    expect(selected(rsp)).toEqual(want);
  });

  it("a syntax error is Fatal, quoting line, column and a caret", () => {
    expect(fatal(run(`cluster.devices.exists(device, device.driver == )`))).toBe(
      "invalid ModelCache: spec.clusterSelector.cel: syntax error: Unexpected token: RPAREN\n  at line 1, column 49:\n    cluster.devices.exists(device, device.driver == )\n                                                    ^",
    );
  });

  it("a type error is Fatal, with the position", () => {
    expect(fatal(run(`cluster.labels["region"] + 1`))).toMatch(
      /^invalid ModelCache: spec\.clusterSelector\.cel: type error: no such overload: string \+ int\n {2}at line 1, column 1:/,
    );
  });

  it("an expression too costly to bound is Fatal before any cluster is evaluated", () => {
    expect(fatal(run(`cluster.devices.all(a, cluster.devices.all(b, cluster.devices.all(c, a.name != b.name)))`))).toMatch(
      /^invalid ModelCache: spec\.clusterSelector\.cel: cost error: estimated cost .* exceeds the budget of 1,000,000 per cluster/,
    );
  });

  it("a missing key is an evaluation error on that cluster only: not selected, reported with the message", () => {
    const cs = [
      inferenceCluster({ name: "zoned", labels: { zone: "a" }, pools: [{ gpu: GPUS.H100, nodes: 1 }] }),
      inferenceCluster({ name: "unzoned", pools: [] }),
    ];
    const rsp = run(`cluster.labels["zone"] == "a"`, cs);
    expect(fatal(rsp)).toBeUndefined();
    expect(selected(rsp)).toEqual(["replica-zoned"]);
    const notSelected = (rsp.desired.composite?.resource["status"] as JsonObject)["notSelected"];
    expect(notSelected).toEqual([{ name: "unzoned", reason: expect.stringMatching(/^cel: evaluation failed: cluster "unzoned": No such key: zone/) }]);
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "SelectorEvaluationFailed" }));
  });

  it("a false expression is a plain non-selection", () => {
    const rsp = run(`cluster.name == "nope"`);
    expect(selected(rsp)).toEqual([]);
    expect((rsp.desired.composite?.resource["status"] as JsonObject)["notSelected"]).toContainEqual({
      name: "onprem-l40s",
      reason: "cel: the expression is false for this cluster",
    });
  });
});

describe("bounds before expansion, and the call's runtime budget", () => {
  const withCount = (n: number): JsonObject => {
    const c = inferenceCluster({ name: "counted", labels: {}, pools: [{ gpu: GPUS.H100, nodes: 1, perNode: 1 }] });
    const pool = ((c["status"] as JsonObject)["gpuPools"] as JsonObject[])[0] as JsonObject;
    ((pool["devices"] as JsonObject[])[0] as JsonObject)["count"] = n;
    return c;
  };

  it.each([
    { n: 512, ok: true, reason: "a pool of 4 ResourceSlices of 128 devices is within the maxima" },
    { n: 513, ok: false, reason: "one more than a pool may hold" },
    { n: 1e9, ok: false, reason: "issue 9: counted before it is expanded (it allocated 3 GiB)" },
  ])("count $n: $reason", ({ n, ok }) => {
    const f = readCluster(withCount(n), ClusterFields.parse({}));
    if (!f.ok) throw new Error(f.reason);
    const facts = celFacts(f.facts);
    expect(facts.ok).toBe(ok);
    if (!facts.ok) expect(facts.message).toContain(`stands for ${n} devices (counts included), more than the 512 a pool may hold`);
  });

  it("the budget is pooled over the call's clusters: the first clusters spend it, the rest are stopped with the rule", () => {
    const list = `[${Array.from({ length: 100 }, (_, i) => i).join(", ")}]`;
    // About 12,000 units on every cluster; each cluster of this fleet brings 10,000 + 250 per device.
    const tiny = (name: string) => inferenceCluster({ name, labels: {}, pools: [] });
    const rsp = run(`${list}.all(a, ${list}.all(b, a + b >= 0)) && cluster.name != ""`, [tiny("a1"), tiny("a2"), tiny("a3")]);
    expect(fatal(rsp)).toBeUndefined();
    const warning = rsp.results.find((r) => r.reason === "SelectorEvaluationFailed")?.message ?? "";
    expect(warning).toContain("it used its runtime budget of 10,000 cost units");
    expect(warning).toContain("spec.clusterSelector.cel is metered as it runs: 10,000 cost units per cluster plus 250 per DRA device");
  });
});
