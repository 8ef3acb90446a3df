// Every manifest the serving step composes in every scenario is valid for
// its kind: Kubernetes' own OpenAPI schemas (kubernetes-models) for core and
// apps kinds; for a LeaderWorkerSet, the LWS v1 spec's fields (strict, so an
// unknown or misplaced field fails) with each pod template checked as the
// core/v1 PodTemplateSpec LWS embeds; for a KServe InferenceService, the
// predictor's model container and volumes as the core/v1 types KServe embeds.
// Observe-only manifests name an object rather than describe it, so for them
// a missing required field is expected.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Container, PersistentVolume, PersistentVolumeClaim, PodTemplateSpec, Service, Volume } from "kubernetes-models/v1";
import type { JsonObject, JsonValue } from "../../sdk/types.ts";
import { field, isObject } from "../../common/json.ts";
import { composeScenario, scenarios } from "../../../test/support/serving-scenarios.ts";

interface Validatable {
  validate(): void;
}
function errors(v: Validatable): { keyword: string; instancePath: string; message?: string }[] {
  try {
    v.validate();
    return [];
  } catch (e) {
    const list = (e as { errors?: { keyword: string; instancePath: string; message?: string }[] }).errors;
    if (!list) throw e;
    return list;
  }
}

const Template = z.object({ metadata: z.record(z.string(), z.unknown()).optional(), spec: z.record(z.string(), z.unknown()) }).strict();
/** The LeaderWorkerSet v1 spec (leaderworkerset.x-k8s.io/v1). */
const LwsSpec = z
  .object({
    replicas: z.number().int().min(0).optional(),
    startupPolicy: z.enum(["LeaderCreated", "LeaderReady"]).optional(),
    rolloutStrategy: z.record(z.string(), z.unknown()).optional(),
    networkConfig: z
      .object({ subdomainPolicy: z.enum(["Shared", "UniquePerReplica"]).optional() })
      .strict()
      .optional(),
    leaderWorkerTemplate: z
      .object({
        leaderTemplate: Template.optional(),
        workerTemplate: Template,
        size: z.number().int().min(1).optional(),
        restartPolicy: z.enum(["RecreateGroupOnPodRestart", "None", "Default"]).optional(),
        subGroupPolicy: z.record(z.string(), z.unknown()).optional(),
        volumeClaimTemplates: z.array(z.unknown()).optional(),
      })
      .strict(),
  })
  .strict();

function lws(m: JsonObject): string[] {
  const spec = LwsSpec.safeParse(m["spec"]);
  if (!spec.success) return spec.error.issues.map((i) => `spec.${i.path.join(".")}: ${i.message}`);
  const out: string[] = [];
  for (const t of ["leaderTemplate", "workerTemplate"]) {
    const tpl = field(m, "spec", "leaderWorkerTemplate", t);
    if (tpl !== undefined) out.push(...errors(new PodTemplateSpec(tpl as never)).map((e) => `${t}${e.instancePath}: ${e.message ?? e.keyword}`));
  }
  return out;
}

function inferenceService(m: JsonObject): string[] {
  const out: string[] = [];
  const model = field(m, "spec", "predictor", "model");
  if (isObject(model))
    out.push(
      ...errors(
        new Container({
          name: "kserve-container",
          ...(Object.fromEntries(Object.entries(model).filter(([k]) => k !== "modelFormat" && k !== "runtime" && k !== "storageUri")) as Record<
            string,
            JsonValue
          >),
        } as never),
      ).map((e) => `model${e.instancePath}: ${e.message ?? e.keyword}`),
    );
  const volumes = field(m, "spec", "predictor", "volumes");
  for (const v of Array.isArray(volumes) ? volumes : [])
    out.push(...errors(new Volume(v as never)).map((e) => `volume${e.instancePath}: ${e.message ?? e.keyword}`));
  return out;
}

const CHECKS: Record<string, (m: JsonObject, observeOnly: boolean) => string[]> = {
  "apps/v1/Deployment": (m) => errors(new Deployment(m as never)).map((e) => `${e.instancePath}: ${e.message ?? e.keyword}`),
  "apps/v1/StatefulSet": (m) => errors(new StatefulSet(m as never)).map((e) => `${e.instancePath}: ${e.message ?? e.keyword}`),
  "v1/ConfigMap": (m) => errors(new ConfigMap(m as never)).map((e) => `${e.instancePath}: ${e.message ?? e.keyword}`),
  "v1/Service": (m) => errors(new Service(m as never)).map((e) => `${e.instancePath}: ${e.message ?? e.keyword}`),
  "v1/PersistentVolume": (m, o) =>
    errors(new PersistentVolume(m as never))
      .filter((e) => !(o && e.keyword === "required"))
      .map((e) => `${e.instancePath}: ${e.message ?? e.keyword}`),
  "v1/PersistentVolumeClaim": (m, o) =>
    errors(new PersistentVolumeClaim(m as never))
      .filter((e) => !(o && e.keyword === "required"))
      .map((e) => `${e.instancePath}: ${e.message ?? e.keyword}`),
  "leaderworkerset.x-k8s.io/v1/LeaderWorkerSet": lws,
  "serving.kserve.io/v1beta1/InferenceService": inferenceService,
};

const manifests = scenarios().flatMap((s) =>
  Object.entries(composeScenario(s).desired.resources).map(([key, st]) => {
    const policies = field(st.resource, "spec", "managementPolicies");
    const observeOnly = Array.isArray(policies) && policies.length === 1 && policies[0] === "Observe";
    // A workload or bridge travels in an Object; the record of use is composed as it is, in the consumer's namespace.
    const manifest = st.resource["kind"] === "Object" ? field(st.resource, "spec", "forProvider", "manifest") : st.resource;
    return [`${s.name} ${key}`, manifest as JsonObject, observeOnly] as const;
  }),
);

describe("serving manifests validate against their kinds' schemas", () => {
  it.each(manifests)("%s", (_n, m, observeOnly) => {
    const gvk = `${String(m["apiVersion"])}/${String(m["kind"])}`;
    const check = CHECKS[gvk];
    expect(check, `a schema for ${gvk}`).toBeDefined();
    expect(check?.(m, observeOnly)).toEqual([]);
  });

  it("the checks reject what the API servers would (so the checks above can fail)", () => {
    const bad = {
      apiVersion: "leaderworkerset.x-k8s.io/v1",
      kind: "LeaderWorkerSet",
      spec: { leaderWorkerTemplate: { workerTemplate: { spec: { containers: [{ name: "w", volumeMounts: [{ name: "v" }] }] } }, sise: 2 } },
    };
    expect(lws(bad as JsonObject).length).toBeGreaterThan(0);
    const noMountPath = {
      apiVersion: "leaderworkerset.x-k8s.io/v1",
      kind: "LeaderWorkerSet",
      spec: { leaderWorkerTemplate: { workerTemplate: { spec: { containers: [{ name: "w", volumeMounts: [{ name: "v" }] }] } } } },
    };
    expect(lws(noMountPath as JsonObject)).not.toEqual([]);
    expect(inferenceService({ spec: { predictor: { volumes: [{ persistentVolumeClaim: { claimName: "x" } }] } } })).not.toEqual([]);
  });
});
