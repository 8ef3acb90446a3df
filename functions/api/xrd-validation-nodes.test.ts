// What the API server refuses about replication: AllMatchingNodes before the function runs (the ModelCache
// XRD's rules, evaluated as in xrd-validation.test.ts), and that the function's own schema agrees.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../../scripts/gen-apis.ts";
import { specSchemaOf, validate, xrdErrors, type Schema, type Value } from "../../test/support/xrd-schema.ts";
import { Input } from "./input.ts";
import { ModelCacheSpec } from "./modelcache.ts";

const schema = specSchemaOf("apis/modelcaches/definition.yaml");
const base = (over: Record<string, Value> = {}, artifact: Record<string, Value> = {}) => ({
  artifact: { source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main" } }, ...artifact },
  storage: { backend: "PVC", pvc: { size: "40Gi" } },
  clusterSelector: { matchLabels: { region: "us-east1" } },
  ...over,
});
const nodes = { replication: "AllMatchingNodes", nodeLocal: { size: "40Gi" } };

describe("the ModelCache XRD accepts AllMatchingNodes as the API allows it", () => {
  it.each<{ reason: string; spec: Record<string, Value> }>([
    { reason: "node copies with only their size (the platform's class by default, every node)", spec: base(nodes) },
    {
      reason: "a node selector with labels and CEL over the node's DRA devices, and a named local class",
      spec: base({
        ...nodes,
        nodeLocal: { size: "40Gi", storageClassName: "local-nvme" },
        nodeSelector: {
          matchLabels: { "node.kubernetes.io/instance-type": "p5.48xlarge" },
          matchExpressions: [{ key: "pool", operator: "In", values: ["inference"] }],
          cel: 'node.devices.exists(d, d.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))',
        },
      }),
    },
    { reason: "AllMatchingClusters, as before, with neither field", spec: base({ replication: "AllMatchingClusters" }) },
    { reason: "nodes that hydrate from the source (no shared copy)", spec: base({ ...nodes, nodeLocal: { size: "40Gi", seed: "Source" } }) },
    { reason: "the seed decided per cluster, spelled out", spec: base({ ...nodes, nodeLocal: { size: "40Gi", seed: "Auto" } }) },
    {
      reason: "nodes seeded from an existing claim the user brings",
      spec: base({ ...nodes, nodeLocal: { size: "40Gi", seed: "SharedCopy" }, storage: { backend: "ExistingPVC", existingPVC: { claimName: "weights" } } }),
    },
  ])("$reason", ({ spec }) => {
    expect(xrdErrors(schema, spec)).toEqual([]);
    expect(ModelCacheSpec.safeParse(spec).success).toBe(true);
  });
});

describe("the ModelCache XRD refuses, before the function runs", () => {
  it.each<{ reason: string; spec: Record<string, Value>; want: string; zodPath: string }>([
    {
      reason: "AllMatchingNodes without nodeLocal: no size for the node copies",
      spec: base({ replication: "AllMatchingNodes" }),
      want: "spec: nodeLocal is required when replication is AllMatchingNodes",
      zodPath: "nodeLocal",
    },
    {
      reason: "a nodeSelector on AllMatchingClusters: it would silently select nothing",
      spec: base({ nodeSelector: { matchLabels: { a: "b" } } }),
      want: "spec: nodeSelector and nodeLocal are only allowed when replication is AllMatchingNodes",
      zodPath: "nodeSelector",
    },
    {
      reason: "nodeLocal on the default replication",
      spec: base({ nodeLocal: { size: "1Gi" } }),
      want: "spec: nodeSelector and nodeLocal are only allowed when replication is AllMatchingNodes",
      zodPath: "nodeLocal",
    },
    {
      reason: "the HuggingFaceCache layout: a node copies the cluster's copy as a verified Flat bundle",
      spec: base(nodes, { layout: "HuggingFaceCache" }),
      want: "spec: artifact.layout must be Flat when replication is AllMatchingNodes",
      zodPath: "artifact.layout",
    },
    {
      reason: "a ReadWriteOnce shared copy: the nodes' Jobs, on many nodes, could not all mount it",
      spec: base({ ...nodes, storage: { backend: "PVC", pvc: { size: "40Gi", accessMode: "ReadWriteOnce" } } }),
      want: "spec: storage.pvc.accessMode must be ReadWriteMany or ReadOnlyMany when replication is AllMatchingNodes",
      zodPath: "storage.pvc.accessMode",
    },
    {
      reason: "a replication mode that does not exist",
      spec: base({ replication: "AllMatchingPods" }),
      want: 'spec.replication: Unsupported value: "AllMatchingPods"',
      zodPath: "replication",
    },
    {
      reason: "nodes from the source with an existing claim: the claim would be ignored",
      spec: base({ ...nodes, nodeLocal: { size: "40Gi", seed: "Source" }, storage: { backend: "ExistingPVC", existingPVC: { claimName: "weights" } } }),
      want: "spec: nodeLocal.seed must not be Source with storage.backend ExistingPVC",
      zodPath: "nodeLocal.seed",
    },
    {
      reason: "a seed that does not exist",
      spec: base({ ...nodes, nodeLocal: { size: "40Gi", seed: "Internet" } }),
      want: 'spec.nodeLocal.seed: Unsupported value: "Internet"',
      zodPath: "nodeLocal.seed",
    },
    {
      reason: "a node size that is not a quantity",
      spec: base({ ...nodes, nodeLocal: { size: "forty gigs" } }),
      want: "spec.nodeLocal.size: should match",
      zodPath: "nodeLocal.size",
    },
  ])("$reason", ({ spec, want, zodPath }) => {
    expect(xrdErrors(schema, spec).join("\n")).toContain(want);
    const parsed = ModelCacheSpec.safeParse(spec);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues.map((i) => i.path.join("."))).toContain(zodPath);
  });
});

describe("the Input's tenancy.nodeLocal: what the platform may set", () => {
  const crd = parse(readFileSync(join(ROOT, "package/input/modelcache.fn.crossplane.io_inputs.yaml"), "utf8")) as {
    spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
  };
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema ?? {};
  const input = (nodeLocal: Record<string, Value>) => ({ apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input", tenancy: { nodeLocal } });
  const errorsOf = (v: Record<string, Value>) => {
    const errors: string[] = [];
    validate(root, v, "input", errors);
    return errors;
  };

  it("defaults to refusing the mode (no class), 200Gi, 64 nodes, no seeding from the source, a 24h grace", () => {
    expect(Input.parse(input({})).tenancy.nodeLocal).toEqual({
      storageClassNames: [],
      maxSize: "200Gi",
      maxNodesPerCluster: 64,
      seedFromSource: "Deny",
      leftNodeGracePeriod: "24h",
    });
    expect(errorsOf(input({}))).toEqual([]);
  });
  it.each<{ reason: string; nodeLocal: Record<string, Value>; want: string }>([
    {
      reason: "more than the hard ceiling of nodes per cluster",
      nodeLocal: { maxNodesPerCluster: 1000 },
      want: "input.tenancy.nodeLocal.maxNodesPerCluster: above 256",
    },
    {
      reason: "a grace period that is not a duration",
      nodeLocal: { leftNodeGracePeriod: "a day" },
      want: "input.tenancy.nodeLocal.leftNodeGracePeriod: should match",
    },
    { reason: "a size that is not a quantity", nodeLocal: { maxSize: "lots" }, want: "input.tenancy.nodeLocal.maxSize: should match" },
  ])("refuses $reason", ({ nodeLocal, want }) => {
    expect(errorsOf(input(nodeLocal)).join("\n")).toContain(want);
    expect(Input.safeParse(input(nodeLocal)).success).toBe(false);
  });
});
