import { describe, expect, it } from "vitest";
import { Source } from "../../api/artifact.ts";
import { Tenancy } from "../../api/input.ts";
import { Storage } from "../../api/modelcache.ts";
import type { Issue } from "./issues.ts";
import { checkCustomBackend, checkPvcClone } from "./pvc-clone.ts";

const AT = "spec.artifact.source";
const ctx = (tenancy: object = {}) => ({ controlPlaneNamespace: "team-a", ownNamespace: "mc-team-a", policy: Tenancy.parse(tenancy) });
const clone = (c: object) => Source.parse({ pvcClone: c });
const grants = { pvcClone: { grants: [{ controlPlaneNamespaces: ["team-a"], namespace: "models", claimNames: ["qwen-golden"] }] } };

describe("checkPvcClone: which claims a tenant may copy is the platform's decision", () => {
  it.each<{ reason: string; source: Source; tenancy?: object; want: Issue[] }>([
    { reason: "another source kind is none of its business", source: Source.parse({ huggingFace: { repo: "a/b" } }), want: [] },
    { reason: "a claim in the cache's own namespace, by default", source: clone({ claimName: "golden" }), want: [] },
    { reason: "its own namespace, named", source: clone({ claimName: "golden", namespace: "mc-team-a" }), want: [] },
    {
      reason: "its own namespace when the platform refuses pvcClone altogether: the field and the rule",
      source: clone({ claimName: "golden" }),
      tenancy: { pvcClone: { ownNamespace: "Refuse" } },
      want: [
        {
          field: `${AT}.pvcClone`,
          rule: "tenancy.pvcClone.ownNamespace",
          message: "is not allowed: the platform does not let caches be made from existing claims; use a source the platform allows",
        },
      ],
    },
    { reason: "a granted claim in another namespace", source: clone({ claimName: "qwen-golden", namespace: "models" }), tenancy: grants, want: [] },
    {
      reason: "another claim in the granted namespace: the grant names claims, not the namespace",
      source: clone({ claimName: "llama-golden", namespace: "models" }),
      tenancy: grants,
      want: [
        {
          field: `${AT}.pvcClone.namespace`,
          rule: "tenancy.pvcClone.grants",
          message:
            "models is not this cache's namespace on the clusters (mc-team-a), and no grant gives control-plane namespace team-a the claim llama-golden there: ask the platform engineer for one, or use a claim in mc-team-a",
        },
      ],
    },
    {
      reason: "another tenant's namespace, with no grant (a tenant cannot read a neighbour's volume)",
      source: clone({ claimName: "weights", namespace: "mc-team-b" }),
      want: [
        {
          field: `${AT}.pvcClone.namespace`,
          rule: "tenancy.pvcClone.grants",
          message:
            "mc-team-b is not this cache's namespace on the clusters (mc-team-a), and no grant gives control-plane namespace team-a the claim weights there: ask the platform engineer for one, or use a claim in mc-team-a",
        },
      ],
    },
    {
      reason: "a * grant covers every claim of its namespace",
      source: clone({ claimName: "anything", namespace: "models" }),
      tenancy: { pvcClone: { grants: [{ controlPlaneNamespaces: ["team-a"], namespace: "models", claimNames: ["*"] }] } },
      want: [],
    },
  ])("$reason", ({ source, tenancy, want }) => {
    expect(checkPvcClone(source, AT, ctx(tenancy))).toEqual(want);
  });

  it.each<{ reason: string; source: Source; storage: Storage; want: Issue[] }>([
    {
      reason: "into an existing claim in the tenant's own namespace: the copy runs there",
      source: clone({ claimName: "qwen-golden", namespace: "models" }),
      storage: Storage.parse({ backend: "ExistingPVC", existingPVC: { claimName: "mine" } }),
      want: [],
    },
    {
      reason: "into an existing claim granted in another namespace: the source would be bridged into a namespace not the tenant's",
      source: clone({ claimName: "golden" }),
      storage: Storage.parse({ backend: "ExistingPVC", existingPVC: { claimName: "shared", namespace: "models-shared" } }),
      want: [
        {
          field: `${AT}.pvcClone`,
          rule: "tenancy.pvcClone",
          message:
            "cannot be copied into an existing claim in namespace models-shared: the source would be mounted there; use a claim in mc-team-a, or storage.backend PVC",
        },
      ],
    },
  ])("$reason", ({ source, storage, want }) => {
    expect(checkPvcClone(source, AT, ctx(grants), storage)).toEqual(want);
  });
});

const blob = { name: "blobcache", apiVersion: "cache.example.com/v1alpha1", kind: "ModelVolume" };
const custom = (substrate: string) => Storage.parse({ backend: "Custom", custom: { substrate } });

describe("checkCustomBackend: a tenant names a substrate; the platform's list says which exist", () => {
  it.each<{ reason: string; storage: Storage; tenancy?: object; want: Issue[] }>([
    { reason: "a composed volume is none of its business", storage: Storage.parse({ pvc: { size: "1Gi" } }), want: [] },
    { reason: "a substrate the platform lists", storage: custom("blobcache"), tenancy: { customBackends: [blob] }, want: [] },
    {
      reason: "no substrate allowed (the default): the field, the rule and whom to ask",
      storage: custom("blobcache"),
      want: [
        {
          field: "spec.storage.custom.substrate",
          rule: "tenancy.customBackends",
          message:
            "blobcache is not a substrate the platform allows (allowed: none): ask the platform engineer to add it to the Input's tenancy.customBackends",
        },
      ],
    },
    {
      reason: "a substrate listed for other control-plane namespaces only",
      storage: custom("blobcache"),
      tenancy: { customBackends: [{ ...blob, controlPlaneNamespaces: ["team-b"] }] },
      want: [
        {
          field: "spec.storage.custom.substrate",
          rule: "tenancy.customBackends",
          message: "blobcache is not allowed for control-plane namespace team-a (only for team-b)",
        },
      ],
    },
  ])("$reason", ({ storage, tenancy, want }) => {
    expect(checkCustomBackend(storage, "spec.storage", ctx(tenancy))).toEqual(want);
  });
});
