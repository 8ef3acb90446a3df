// Nodes seeded from the source, at the replica: what happens to a shared copy already on the cluster when the
// seed changes (explicitly, or by the cluster's class going missing under Auto). A transient gap never deletes
// a volume; a tenant's switch to Source lets the shared copy go only once every node holds its own.
import { describe, expect, it } from "vitest";
import { field } from "../../common/json.ts";
import type { JsonObject } from "../../sdk/types.ts";
import { NODE_INPUT, NODE_SOURCE_INPUT, nodeScenarios } from "../../../test/support/node-scenarios.ts";
import { composeScenario, type Scenario } from "../../../test/support/replica-scenarios.ts";
import { statusOf } from "../../../test/support/replica-builders.ts";

const SHARED_VOLUME = "volume-qwen3-8b-3f9c2a1b7d";

function scenario(name: string): Scenario {
  const s = nodeScenarios().find((x) => x.name === name);
  if (s === undefined) throw new Error(`no scenario ${name}`);
  return s;
}

/** The scenario with its spec changed: `cluster` and `nodeLocal` fields merged over the scenario's. */
function changed(s: Scenario, over: { cluster?: JsonObject; nodeLocal?: JsonObject; dropClass?: boolean }, input: JsonObject): Scenario {
  const spec = s.xr["spec"] as JsonObject;
  const cluster = { ...(spec["cluster"] as JsonObject), ...(over.cluster ?? {}) };
  if (over.dropClass === true) delete cluster["storageClassName"];
  const nodeLocal = { ...(spec["nodeLocal"] as JsonObject), ...(over.nodeLocal ?? {}) };
  return { ...s, xr: { ...s.xr, spec: { ...spec, cluster, nodeLocal } }, input };
}

const sharedKeys = (s: Scenario) =>
  Object.keys(s.observed)
    .filter((k) => !k.startsWith("node"))
    .sort();

describe("a shared copy on the cluster when the nodes' seed changes", () => {
  it("Auto, the cluster's class missing from its object for a moment, the platform allowing the source: the shared copy stays, composed as before", () => {
    const before = scenario("ready");
    const s = changed(before, { dropClass: true }, NODE_SOURCE_INPUT);
    const rsp = composeScenario(s);
    // The claim keeps the class it was provisioned with: never patched to none, never Blocked for it.
    expect(rsp.desired.resources[SHARED_VOLUME]?.resource["spec"]).toEqual(before.observed[SHARED_VOLUME]?.resource["spec"]);
    expect(statusOf(rsp).seed).toBeUndefined();
    expect(statusOf(rsp).phase).toBe("Ready");
    // Every node's copy as before.
    expect(Object.keys(rsp.desired.resources).filter((k) => k.startsWith("nodevolume-")).length).toBe(3);
  });

  it("a switch to Source while nodes still copy: every object of the shared copy is kept exactly as observed", () => {
    const before = scenario("hydrating");
    const s = changed(before, { nodeLocal: { seed: "Source" } }, NODE_SOURCE_INPUT);
    const rsp = composeScenario(s);
    expect(statusOf(rsp).seed).toBe("Source");
    for (const key of sharedKeys(before).filter((k) => k !== "namespace"))
      expect(rsp.desired.resources[key]?.resource["spec"], key).toEqual(before.observed[key]?.resource["spec"]);
  });

  it("a switch to Source once every node holds a verified copy: the shared copy is let go (retention decides its claim), the nodes' copies stay", () => {
    const before = scenario("ready");
    const s = changed(before, { nodeLocal: { seed: "Source" } }, NODE_SOURCE_INPUT);
    const rsp = composeScenario(s);
    expect(statusOf(rsp).phase).toBe("Ready");
    expect(Object.keys(rsp.desired.resources).filter((k) => !k.startsWith("node") && k !== "namespace")).toEqual([]);
    expect(Object.keys(rsp.desired.resources).filter((k) => k.startsWith("nodevolume-")).length).toBe(3);
  });

  it("Source where the platform denies it: Blocked by the tenancy policy naming the field and the knob, every object kept", () => {
    const before = scenario("ready");
    const s = changed(before, { nodeLocal: { seed: "Source" } }, NODE_INPUT);
    const rsp = composeScenario(s);
    expect(statusOf(rsp).phase).toBe("Blocked");
    expect(statusOf(rsp).message).toContain("spec.nodeLocal.seed: Source is not offered here");
    expect(statusOf(rsp).message).toContain("tenancy.nodeLocal.seedFromSource");
    expect(Object.keys(rsp.desired.resources).sort()).toEqual(Object.keys(before.observed).sort());
  });
});

describe("a node's Job from the source is the shared Job's, with the node's claim", () => {
  it("a source listed in a ConfigMap (http files): the ConfigMap is composed once and every node's Job mounts it", () => {
    const s = changed(scenario("source-first-pass"), { nodeLocal: { seed: "Source" } }, NODE_SOURCE_INPUT);
    const spec = s.xr["spec"] as JsonObject;
    const artifact = {
      kind: "Weights",
      layout: "Flat",
      source: { http: { files: [{ url: "https://mirror.example.com/a.bin", path: "a.bin", sha256: "a".repeat(64) }] } },
    };
    const rsp = composeScenario({ ...s, xr: { ...s.xr, spec: { ...spec, artifact } } });
    const cm = Object.entries(rsp.desired.resources).find(([k]) => k.startsWith("source-"));
    const cmName = field(cm?.[1].resource, "spec", "forProvider", "manifest", "metadata", "name");
    expect(typeof cmName).toBe("string");
    const jobs = Object.entries(rsp.desired.resources).filter(([k]) => k.startsWith("nodejob-"));
    expect(jobs.length).toBe(1);
    const pod = field(jobs[0]?.[1].resource, "spec", "forProvider", "manifest", "spec", "template", "spec");
    expect(field(pod, "volumes")).toContainEqual({ name: "source", configMap: { name: cmName } });
    expect(field(pod, "volumes")).toContainEqual({ name: "cache", persistentVolumeClaim: { claimName: "qwen3-8b-3f9c2a1b7d-n-12ed82f363", readOnly: false } });
    const [container] = field(pod, "containers") as JsonObject[];
    expect((field(container, "args") as string[]).slice(0, 3)).toEqual(["hydrate", "--files", "/etc/modelcache/source/files.json"]);
  });
});
