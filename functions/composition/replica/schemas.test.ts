// Every manifest inside an Object is valid for its kind by Kubernetes' own
// OpenAPI schemas (kubernetes-models' generated validators). Observe-only
// manifests name an object rather than describe it, so for them a missing
// required field is expected and every other rule still applies.
import { field, isObject } from "../../common/json.ts";
import { describe, expect, it } from "vitest";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, ServiceAccount } from "kubernetes-models/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { CSIDriver, StorageClass } from "kubernetes-models/storage.k8s.io/v1";
import type { JsonObject } from "../../sdk/types.ts";
import { composeScenario, scenarios } from "../../../test/support/replica-scenarios.ts";

interface Validatable {
  validate(): void;
}
const MODELS: Record<string, (m: JsonObject) => Validatable> = {
  "batch/v1/Job": (m) => new Job(m as never),
  "v1/ConfigMap": (m) => new ConfigMap(m as never),
  "v1/Namespace": (m) => new Namespace(m as never),
  "v1/PersistentVolume": (m) => new PersistentVolume(m as never),
  "v1/PersistentVolumeClaim": (m) => new PersistentVolumeClaim(m as never),
  "v1/ServiceAccount": (m) => new ServiceAccount(m as never),
  "rbac.authorization.k8s.io/v1/Role": (m) => new Role(m as never),
  "rbac.authorization.k8s.io/v1/RoleBinding": (m) => new RoleBinding(m as never),
  "storage.k8s.io/v1/CSIDriver": (m) => new CSIDriver(m as never),
  "storage.k8s.io/v1/StorageClass": (m) => new StorageClass(m as never),
};

/** The schema errors of `m`, as ajv reports them through kubernetes-models. */
function schemaErrors(v: Validatable): { keyword: string; instancePath: string; message?: string }[] {
  try {
    v.validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: { keyword: string; instancePath: string; message?: string }[] }).errors;
    if (!errors) throw e;
    return errors;
  }
}

/** A Custom backend's kind is the substrate's own CRD, not Kubernetes': custom.test.ts checks what the function hands it. */
const customKinds = (s: { input?: JsonObject }): string[] => {
  const list = field(s.input, "tenancy", "customBackends");
  return Array.isArray(list) ? list.map((b) => `${String(field(b, "apiVersion"))}/${String(field(b, "kind"))}`) : [];
};

const manifests = scenarios()
  .filter((s) => s.phase !== "Fatal")
  .flatMap((s) =>
    Object.entries(composeScenario(s).desired.resources)
      .filter(([, st]) => st.resource["kind"] === "Object")
      .filter(([, st]) => {
        const m = field(st.resource, "spec", "forProvider", "manifest");
        return !customKinds(s).includes(`${String(field(m, "apiVersion"))}/${String(field(m, "kind"))}`);
      })
      .map(([key, st]) => {
        const policies = field(st.resource, "spec", "managementPolicies") as string[];
        return [
          `${s.name} ${key}`,
          field(st.resource, "spec", "forProvider", "manifest") as JsonObject,
          policies.length === 1 && policies[0] === "Observe",
        ] as const;
      }),
  );

describe("manifests inside Objects validate against Kubernetes' schemas", () => {
  it.each(manifests)("%s", (_n, m, observeOnly) => {
    const gvk = `${String(m["apiVersion"])}/${String(m["kind"])}`;
    const model = MODELS[gvk];
    expect(model, `a schema for ${gvk}`).toBeDefined();
    if (!model) return;
    expect(isObject(m["metadata"]) && typeof m["metadata"]["name"] === "string", "named").toBe(true);
    const errors = schemaErrors(model(m)).filter((e) => !(observeOnly && e.keyword === "required"));
    expect(errors).toEqual([]);
  });

  it("the validator rejects what Kubernetes would (so the checks above can fail)", () => {
    expect(() =>
      new Job({
        metadata: { name: "j" },
        spec: { template: { spec: { containers: [{ name: "c", args: ["a", 1] }], restartPolicy: "Sometimes" } } },
      } as never).validate(),
    ).toThrow();
  });
});
