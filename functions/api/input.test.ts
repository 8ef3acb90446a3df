import { describe, expect, it } from "vitest";
import { Input, INPUT_API_VERSION } from "./input.ts";

const base = { apiVersion: INPUT_API_VERSION, kind: "Input" };

describe("the Input's tenancy policy keeps every tenant's namespace its own", () => {
  it.each([
    { reason: "the defaults", input: {}, issue: undefined },
    {
      reason: "a map to distinct names outside the prefix",
      input: { tenancy: { clusterNamespaces: { map: { a: "models-a", b: "models-b" } } } },
      issue: undefined,
    },
    {
      reason: "two control-plane namespaces mapped to one",
      input: { tenancy: { clusterNamespaces: { map: { a: "models", b: "models" } } } },
      issue: "tenancy.clusterNamespaces.map.b",
    },
    {
      reason: "a mapped name a derived one could equal",
      input: { tenancy: { clusterNamespaces: { map: { a: "mc-b" } } } },
      issue: "tenancy.clusterNamespaces.map.a",
    },
    {
      reason: "a mapped name that is the shared namespace of earlier versions",
      input: { tenancy: { clusterNamespaces: { map: { a: "model-cache" } } } },
      issue: "tenancy.clusterNamespaces.map.a",
    },
    {
      reason: "a prefix that would derive the shared namespace (model- + cache)",
      input: { tenancy: { clusterNamespaces: { prefix: "model-" } } },
      issue: "tenancy.clusterNamespaces.prefix",
    },
    {
      reason: "an empty prefix (a tenant named kube-system)",
      input: { tenancy: { clusterNamespaces: { prefix: "" } } },
      issue: "tenancy.clusterNamespaces.prefix",
    },
    { reason: "a kube- prefix", input: { tenancy: { clusterNamespaces: { prefix: "kube-" } } }, issue: "tenancy.clusterNamespaces.prefix" },
    { reason: "a map into kube-system", input: { tenancy: { clusterNamespaces: { map: { a: "kube-system" } } } }, issue: "tenancy.clusterNamespaces.map.a" },
    {
      reason: "a credential destination with a path",
      input: { tenancy: { credentialDestinations: { huggingFace: ["https://huggingface.co/x"] } } },
      issue: "tenancy.credentialDestinations.huggingFace.0",
    },
    {
      reason: "a custom backend of the substrate's own CRD",
      input: { tenancy: { customBackends: [{ name: "blobcache", apiVersion: "cache.example.com/v1alpha1", kind: "ModelVolume" }] } },
      issue: undefined,
    },
    {
      reason: "a custom backend of a core kind (the function would compose Pods for tenants)",
      input: { tenancy: { customBackends: [{ name: "pods", apiVersion: "v1", kind: "Pod" }] } },
      issue: "tenancy.customBackends.0.apiVersion",
    },
    {
      reason: "a custom backend of a built-in group",
      input: { tenancy: { customBackends: [{ name: "rbac", apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding" }] } },
      issue: "tenancy.customBackends.0.apiVersion",
    },
    {
      reason: "one substrate name meaning two kinds",
      input: {
        tenancy: {
          customBackends: [
            { name: "blobcache", apiVersion: "cache.example.com/v1alpha1", kind: "ModelVolume" },
            { name: "blobcache", apiVersion: "other.example.com/v1", kind: "Volume" },
          ],
        },
      },
      issue: "tenancy.customBackends.1.name",
    },
    {
      reason: "a pvcClone grant into kube-system",
      input: { tenancy: { pvcClone: { grants: [{ controlPlaneNamespaces: ["ml"], namespace: "kube-system", claimNames: ["*"] }] } } },
      issue: "tenancy.pvcClone.grants.0.namespace",
    },
  ])("$reason", ({ input, issue }) => {
    const r = Input.safeParse({ ...base, ...input });
    if (issue === undefined) expect(r.error).toBeUndefined();
    else expect(r.error?.issues.map((i) => i.path.join("."))).toContain(issue);
  });
});
