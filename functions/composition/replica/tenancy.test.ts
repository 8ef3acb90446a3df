// The cluster level enforces the tenancy policy whatever its spec says: a
// replica can be written by hand and a contract edited.
import { field } from "../../common/json.ts";
import { describe, expect, it } from "vitest";
import type { JsonObject, ResourceState } from "../../sdk/types.ts";
import { KEY } from "./names.ts";
import { baseXr, compose, keysOfKind, manifestAt, observedObject, statusOf, tenancyInput } from "../../../test/support/replica-builders.ts";

const CLAIM = "qwen3-8b-3f9c2a1b7d";

function namespacesOf(rsp: ReturnType<typeof compose>): string[] {
  const out = new Set<string>();
  for (const s of Object.values(rsp.desired.resources)) {
    const ns = field(s.resource, "spec", "forProvider", "manifest", "metadata", "namespace");
    if (typeof ns === "string") out.add(ns);
  }
  return [...out].sort();
}

describe("the namespace on the cluster", () => {
  it.each<{ reason: string; spec: JsonObject; ns?: string; want: string[] | "Blocked" }>([
    { reason: "derived from the replica's own control-plane namespace", spec: {}, want: ["mc-ml-team"] },
    {
      reason: "the shared namespace of earlier versions, for a volume not composed there yet: the tenant's own instead",
      spec: { namespace: "model-cache" },
      want: ["mc-ml-team"],
    },
    { reason: "another team's namespace, written into the spec", spec: { namespace: "mc-team-b" }, want: "Blocked" },
    { reason: "a replica in another control-plane namespace gets that one's", spec: { namespace: "mc-team-b" }, ns: "team-b", want: ["mc-team-b"] },
    { reason: "and may not name the first one's", spec: { namespace: "mc-ml-team" }, ns: "team-b", want: "Blocked" },
  ])("$reason", ({ spec, ns, want }) => {
    const xr = baseXr(spec);
    if (ns !== undefined) xr["metadata"] = { name: "qwen3-8b-prod-east", namespace: ns };
    const rsp = compose(xr);
    if (want === "Blocked") {
      expect(statusOf(rsp).phase).toBe("Blocked");
      expect(statusOf(rsp).message).toMatch(/spec\.namespace: must be mc-(ml-team|team-b), the namespace.*input\.tenancy\.clusterNamespaces/);
      expect(rsp.desired.resources).toEqual({});
    } else expect(namespacesOf(rsp)).toEqual(want);
  });

  it("labels the tenant's namespace with its control-plane namespace and the platform's labels", () => {
    const rsp = compose(baseXr(), {}, undefined, {}, tenancyInput({ clusterNamespaces: { labels: { "secrets.example.com/sync": "hf" } } }));
    expect(field(manifestAt(rsp, KEY.namespace), "metadata", "labels")).toMatchObject({
      "modelcache.dev/control-plane-namespace": "ml-team",
      "secrets.example.com/sync": "hf",
    });
  });
});

describe("migration: a volume composed in the shared namespace stays there", () => {
  // What an earlier version composed and provider-kubernetes observed: everything in model-cache.
  const legacy = baseXr({ namespace: "model-cache" }, { attempts: 1, claimName: CLAIM, phase: "Ready" });
  function observedIn(ns: string): Record<string, ResourceState> {
    const first = compose(legacy);
    const out: Record<string, ResourceState> = {};
    for (const [key, state] of Object.entries(first.desired.resources)) {
      const manifest = field(state.resource, "spec", "forProvider", "manifest") as JsonObject;
      const meta = manifest["metadata"] as JsonObject;
      const moved = {
        ...state.resource,
        spec: {
          ...(state.resource["spec"] as JsonObject),
          forProvider: { manifest: { ...manifest, metadata: meta["namespace"] !== undefined ? { ...meta, namespace: ns } : { ...meta, name: ns } } },
        },
      };
      out[key] = observedObject(key, moved, key.startsWith("volume-") ? { status: { phase: "Bound" } } : {});
    }
    return out;
  }

  it.each<{ reason: string; spec: JsonObject }>([
    { reason: "the fleet still writes the shared namespace (an earlier contract)", spec: { namespace: "model-cache" } },
    { reason: "the fleet now writes the tenant's namespace", spec: {} },
  ])("keeps the volume, Job and report where they are: $reason", ({ spec }) => {
    const rsp = compose(baseXr(spec, { attempts: 1, claimName: CLAIM, phase: "Hydrating" }), observedIn("model-cache"));
    expect(namespacesOf(rsp)).toEqual(["model-cache"]);
    expect(keysOfKind(rsp, "PersistentVolumeClaim")).toEqual([KEY.volume(CLAIM)]);
    expect(field(manifestAt(rsp, KEY.namespace), "metadata", "labels", "modelcache.dev/control-plane-namespace")).toBeUndefined();
    expect(statusOf(rsp).namespace).toBe("model-cache");
  });

  it("moves to the tenant's namespace with the next revision (a new claim), keeping the old volume until then", () => {
    const rsp = compose(baseXr({ claimName: "qwen3-8b-0aa11bb22c" }, { attempts: 1, claimName: CLAIM, phase: "Ready" }), observedIn("model-cache"));
    expect(field(manifestAt(rsp, KEY.volume("qwen3-8b-0aa11bb22c")), "metadata", "namespace")).toBe("mc-ml-team");
    expect(field(manifestAt(rsp, KEY.volume(CLAIM)), "metadata", "namespace")).toBe("model-cache");
  });

  it("never adopts a volume in the shared namespace it did not compose (another team's, same name)", () => {
    const rsp = compose(baseXr({ namespace: "model-cache" }));
    expect(namespacesOf(rsp)).toEqual(["mc-ml-team"]);
  });
});

describe("refused by the policy: Blocked, nothing new, nothing dropped", () => {
  it("keeps every observed Object exactly as it is and names the field and the rule", () => {
    const ok = compose(baseXr());
    const observed = Object.fromEntries(Object.entries(ok.desired.resources).map(([k, s]) => [k, observedObject(k, s.resource)]));
    const hostile = baseXr({
      hydration: { activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8, tolerations: [{ operator: "Exists" }] },
    });
    const rsp = compose(hostile, observed);
    expect(statusOf(rsp).phase).toBe("Blocked");
    expect(statusOf(rsp).message).toContain(
      "spec.hydration.tolerations[0]: operator Exists with no key tolerates every taint (tenancy policy: input.tenancy.hydration.allowedTolerations)",
    );
    expect(Object.keys(rsp.desired.resources).sort()).toEqual(Object.keys(observed).sort());
    for (const [k, s] of Object.entries(observed)) expect(rsp.desired.resources[k]?.resource["spec"]).toEqual(s.resource["spec"]);
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "TenancyPolicy" }));
  });

  it("clamps instead when the platform says Clamp, and adds the platform's own placement", () => {
    const input = tenancyInput({ hydration: { onViolation: "Clamp", nodeSelector: { pool: "hydration" }, maxResources: { cpu: "1", memory: "512Mi" } } });
    const xr = baseXr({
      hydration: {
        activeDeadlineSeconds: 21600,
        backoffLimit: 4,
        ttlSecondsAfterFinished: 86400,
        concurrency: 8,
        tolerations: [{ operator: "Exists" }],
        nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
        resources: { limits: { "nvidia.com/gpu": "1" } },
      },
    });
    const rsp = compose(xr, {}, undefined, {}, input);
    const [job] = keysOfKind(rsp, "Job");
    const pod = field(manifestAt(rsp, job ?? ""), "spec", "template", "spec") as JsonObject;
    expect(pod["tolerations"]).toEqual([]);
    expect(pod["nodeSelector"]).toEqual({ pool: "hydration" });
    // The Job's own defaults (2 CPU, 1Gi) are lowered to the ceiling too.
    expect(field(pod, "containers")).toMatchObject([{ resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } } }]);
    expect(rsp.results).toContainEqual(expect.objectContaining({ severity: "Warning", reason: "HydrationClamped" }));
  });
});
