// Issue 9, items 1 and 6 (the device count): hostile cluster selectors against the real server over
// gRPC, each beside another tenant's plain ModelCache sent at the same time. Before the fixes each
// hostile call ran for more than 20 s (or 3 GiB) on the event loop and the plain call timed out;
// now the hostile one answers within the client's deadline with the right result, a Fatal or a
// per-cluster reason naming spec.clusterSelector.cel and the budget, and the plain one answers too.
import { describe, expect, it } from "vitest";
import { GPUS, inferenceCluster, modelCache } from "../support/fleet-builders.ts";
import { RUNTIME_LIMITS } from "../../functions/cel/index.ts";
import type { RunFunctionResponse__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionResponse.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { runFunction } from "../support/client.ts";
import { modelCacheRequest } from "../support/modelcache-request.ts";
import { realFunction } from "./tenancy-support.ts";

/** 40 a's and a "!": the input of issue 9's backtracking patterns. */
const AAA = `${"a".repeat(40)}!`;
/** What each call must answer within (the hostile ones took more than 20 s before). */
const DEADLINE_MS = 10_000;

const clusters = (): JsonObject[] => [
  inferenceCluster({ name: "c1", labels: { probe: AAA, tier: "prod" }, pools: [{ gpu: GPUS.H100, nodes: 2 }] }),
  inferenceCluster({ name: "c2", labels: { probe: "xyz", tier: "prod" }, pools: [{ gpu: GPUS.A100, nodes: 1 }] }),
];

const explain = { annotations: { "modelcache.dev/explain-selection": "true" } };
const hostileCache = (cel: string): JsonObject => modelCache({ clusterSelector: { cel } }, explain);
const plainCache = (): JsonObject => modelCache({ clusterSelector: { matchLabels: { tier: "prod" } } });

/** The replicas a response composes, by cluster name. */
function selected(rsp: RunFunctionResponse__Output): string[] {
  return Object.keys(rsp.desired?.resources ?? {})
    .filter((k) => k.startsWith("replica-"))
    .sort();
}

const fatalOf = (rsp: RunFunctionResponse__Output) => rsp.results.find((r) => r.severity === "SEVERITY_FATAL");
const warning = (rsp: RunFunctionResponse__Output, reason: string) => rsp.results.find((r) => r.reason === reason)?.message ?? "";

const fn = realFunction();

/** The hostile call and a plain tenant's call, sent together; both must answer. */
async function besidePlain(hostile: JsonObject, hostileClusters: JsonObject[] = clusters()) {
  const [h, p] = await Promise.all([
    runFunction(fn.client(), modelCacheRequest("hostile", hostile, hostileClusters), DEADLINE_MS),
    runFunction(fn.client(), modelCacheRequest("plain", plainCache(), clusters()), DEADLINE_MS),
  ]);
  expect(p.meta?.tag).toBe("plain");
  expect(fatalOf(p)).toBeUndefined();
  expect(selected(p)).toHaveLength(2);
  return h;
}

describe("regular expressions run on RE2, in linear time, with Go's answers", () => {
  it.each([
    { pattern: "^(a|a)*$", matches: false, reason: "anchored: the '!' cannot match (JavaScript backtracked for 20+ s)" },
    { pattern: "(a|aa)+", matches: true, reason: "unanchored search finds the a's" },
    { pattern: "(?:a|a){1,99}", matches: true, reason: "bounded repetition of an ambiguous group" },
    { pattern: "^a*a*a*a*a*a*a*a*a*a*$", matches: false, reason: "ten stars, anchored, a '!' at the end" },
  ])("$pattern: $reason", async ({ pattern, matches }) => {
    const h = await besidePlain(hostileCache(`cluster.labels["probe"].matches('${pattern}')`));
    expect(fatalOf(h)).toBeUndefined();
    expect(selected(h)).toEqual(matches ? ["replica-c1"] : []);
  });
});

describe("the runtime budget is enforced while evaluating", () => {
  const list = `[${Array.from({ length: 100 }, (_, i) => i).join(", ")}]`;

  it("a selector the estimate lets through is stopped at the call's budget; the reason names the field and the budget", async () => {
    // Estimated at about 51,000 (under the 1,000,000 static budget); it runs 10,000 iterations on
    // every cluster, more than 10,000 per cluster + 250 per device allow.
    const h = await besidePlain(hostileCache(`${list}.all(a, ${list}.all(b, a + b >= 0))`));
    expect(fatalOf(h)).toBeUndefined();
    expect(selected(h)).toEqual([]);
    const message = warning(h, "SelectorEvaluationFailed");
    expect(message).toContain("spec.clusterSelector.cel");
    expect(message).toMatch(/evaluation stopped after [\d,]+ cost units: it used its runtime budget of [\d,]+ cost units/);
    expect(message).toContain(`${RUNTIME_LIMITS.costPerCluster.toLocaleString("en-US")} cost units per cluster`);
  });

  it("a string grown past the cap by replace() is stopped, naming the cap", async () => {
    const grow = `"A"${'.replace("", "AAAAAAAAAA")'.repeat(5)}`;
    const h = await besidePlain(hostileCache(`${grow}.size() > 0`));
    expect(fatalOf(h)).toBeUndefined();
    expect(selected(h)).toEqual([]);
    expect(warning(h, "SelectorEvaluationFailed")).toContain(`more than the ${RUNTIME_LIMITS.maxStringLength.toLocaleString("en-US")} a selector may build`);
  });

  it("a size hidden behind dyn no longer slips past the estimate (true ? dyn(s) : dyn(0), doubled): Fatal, nothing composed", async () => {
    let body = "x12.size() > 0";
    for (let i = 12; i >= 1; i--) body = `cel.bind(x${i}, x${i - 1} + x${i - 1}, ${body})`;
    const h = await besidePlain(hostileCache(`cel.bind(x0, true ? dyn(cluster.name) : dyn(0), ${body})`));
    expect(fatalOf(h)?.message).toMatch(/spec\.clusterSelector\.cel: cost error: estimated cost [\d,]+ exceeds the budget/);
    expect(selected(h)).toEqual([]);
  });
});

describe("sizes from the request are bounded before they are expanded", () => {
  it("a device with count: 1e9 is refused for its cluster, not expanded (it took 3 GiB and never answered)", async () => {
    const huge = inferenceCluster({ name: "c1", labels: { tier: "prod" }, pools: [{ gpu: GPUS.H100, nodes: 1, perNode: 1 }] });
    const pools = (huge["status"] as JsonObject)["gpuPools"] as JsonObject[];
    const device = (pools[0]?.["devices"] as JsonObject[])[0] as JsonObject;
    device["count"] = 1e9;
    const h = await besidePlain(hostileCache(`cluster.devices.size() > 0`), [huge, ...clusters().slice(1)]);
    expect(fatalOf(h)).toBeUndefined();
    expect(selected(h)).toEqual(["replica-c2"]);
    expect(warning(h, "SelectorEvaluationFailed")).toContain("stands for 1000000000 devices (counts included), more than the 512 a pool may hold");
  });
});
