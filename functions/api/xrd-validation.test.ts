// What the API server itself refuses, before the function ever runs: the
// ModelCache XRD's schema (defaults, enums, patterns, bounds, required fields)
// and its x-kubernetes-validations rules, evaluated here with a CEL engine
// against specs as a user would write them. Each case says what it guards.
import { describe, expect, it } from "vitest";
import { SOURCE_KEYS } from "../sources/registry.ts";
import { specSchemaOf, validate, xrdErrors, type Value } from "../../test/support/xrd-schema.ts";

const specSchema = specSchemaOf("apis/modelcaches/definition.yaml");

function errorsOf(spec: Record<string, Value>): string[] {
  return xrdErrors(specSchema, spec);
}

const hf = { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main" } };
const base = (over: Record<string, Value> = {}, artifact: Record<string, Value> = {}) => ({
  artifact: { source: hf, ...artifact },
  storage: { backend: "PVC", pvc: { size: "40Gi" } },
  clusterSelector: { matchLabels: { region: "us-east1" } },
  ...over,
});
const DIGEST = `sha256:${"a".repeat(64)}`;

describe("the ModelCache XRD accepts what the API allows", () => {
  it.each<{ reason: string; spec: Record<string, Value> }>([
    { reason: "the brief's example: Hugging Face weights on a 40Gi PVC", spec: base() },
    {
      reason: "an S3 source on an existing claim",
      spec: base(
        { storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-models" } } },
        { source: { s3: { uri: "s3://models/qwen3-8b/", region: "us-east-1" } } },
      ),
    },
    {
      reason: "an Azure prefix with a SAS token by reference",
      spec: base({}, { source: { azure: { uri: "azure://acct/models/qwen3-8b/", credentialsSecretRef: { name: "azure-sas" } } } }),
    },
    {
      reason: "one Azure blob from Azurite's path-style endpoint",
      spec: base(
        {},
        { kind: "Bytes", source: { azure: { uri: "azure://devstoreaccount1/m-1/a b/x.bin", endpoint: "http://azurite.storage.svc:10000/devstoreaccount1" } } },
      ),
    },
    { reason: "an OCI source pinned by digest", spec: base({}, { source: { oci: { reference: `registry.example.com/models/qwen3@${DIGEST}` } } }) },
    {
      reason: "a GCS prefix with a service-account key, on a private endpoint",
      spec: base(
        {},
        {
          source: {
            gcs: {
              uri: "gs://my_models.example.com/qwen3-8b/",
              endpoint: "https://storage-psc.p.googleapis.com",
              credentialsSecretRef: { name: "gcp", key: "sa.json" },
            },
          },
        },
      ),
    },
    { reason: "one public GCS object", spec: base({}, { source: { gcs: { uri: "gs://public-models/qwen3-8b/model.gguf" } } }) },
    {
      reason: "HTTP files, each with its sha256",
      spec: base({}, { kind: "Bytes", source: { http: { files: [{ url: "https://example.com/a.bin", path: "a.bin", sha256: "b".repeat(64) }] } } }),
    },
    {
      reason: "an Engine with its engine block",
      spec: base({}, { kind: "Engine", engine: { runtime: "TensorRT-LLM", profile: "fp8-tp8" }, source: { oci: { reference: "nvcr.io/nim/engines:h100" } } }),
    },
    { reason: "an Adapter with its base", spec: base({}, { kind: "Adapter", adapter: { type: "lora", baseRef: { name: "qwen3-8b" } } }) },
    { reason: "the HuggingFaceCache layout with a Hugging Face source", spec: base({}, { layout: "HuggingFaceCache" }) },
    {
      reason: "Exists without values, In with values",
      spec: base({
        clusterSelector: {
          matchExpressions: [
            { key: "gpu", operator: "Exists" },
            { key: "region", operator: "In", values: ["a"] },
          ],
        },
      }),
    },
    { reason: "retention Delete", spec: base({ retention: { whenUnselected: "Delete" } }) },
    {
      reason: "a presigned HTTP URL: a query is accepted (and kept out of status and argv by the function)",
      spec: base({}, { source: { http: { url: "https://b.s3.amazonaws.com/m.bin?X-Amz-Signature=abc", sha256: "b".repeat(64) } } }),
    },
    {
      reason: "HTTP credentials by reference",
      spec: base(
        {},
        { source: { http: { url: "https://example.com/a.bin", sha256: "b".repeat(64), authSecretRef: { name: "http-creds", scheme: "Basic" } } } },
      ),
    },
    { reason: "a pvcClone source in the cache's own namespace", spec: base({}, { source: { pvcClone: { claimName: "qwen-golden" } } }) },
    {
      reason: "a pvcClone source in another namespace, copied, with its manifest digest",
      spec: base({}, { source: { pvcClone: { claimName: "qwen-golden", namespace: "models", method: "Copy", manifestDigest: DIGEST } } }),
    },
    {
      reason: "a Custom backend naming a substrate, with its size and parameters",
      spec: base({ storage: { backend: "Custom", custom: { substrate: "blobcache", size: "40Gi", parameters: { tier: "hot" } } } }),
    },
    {
      reason: "an @ in an HTTP URL's path is not userinfo",
      spec: base({}, { source: { http: { url: "https://example.com/org/m@v1.bin", sha256: "b".repeat(64) } } }),
    },
  ])("$reason", ({ spec }) => {
    expect(errorsOf(spec)).toEqual([]);
  });

  it("defaults retention to Retain, the safe choice, in the schema itself", () => {
    const out = validate(specSchema, base(), "spec", []) as { retention?: { whenUnselected?: string } };
    expect(out.retention?.whenUnselected).toBe("Retain");
  });
});

describe("the ModelCache XRD refuses, before the function runs", () => {
  it.each<{ reason: string; spec: Record<string, Value>; want: string }>([
    {
      reason: "two sources",
      spec: base({}, { source: { ...hf, s3: { uri: "s3://models/x" } } }),
      want: `spec.artifact.source: exactly one of ${SOURCE_KEYS.join(", ")} must be set`,
    },
    {
      reason: "no source",
      spec: base({}, { source: {} }),
      want: `spec.artifact.source: exactly one of ${SOURCE_KEYS.join(", ")} must be set`,
    },
    {
      reason: "an engine block on Weights",
      spec: base({}, { engine: { runtime: "vLLM", profile: "x" } }),
      want: "spec.artifact: engine is required when kind is Engine, and only allowed then",
    },
    {
      reason: "an Engine without its block",
      spec: base({}, { kind: "Engine" }),
      want: "spec.artifact: engine is required when kind is Engine, and only allowed then",
    },
    {
      reason: "an Adapter without its block",
      spec: base({}, { kind: "Adapter" }),
      want: "spec.artifact: adapter is required when kind is Adapter, and only allowed then",
    },
    {
      reason: "the HuggingFaceCache layout over S3",
      spec: base({}, { layout: "HuggingFaceCache", source: { s3: { uri: "s3://models/x" } } }),
      want: "spec.artifact: layout HuggingFaceCache needs a huggingFace source",
    },
    {
      reason: "an HTTP URL without its sha256",
      spec: base({}, { source: { http: { url: "https://example.com/a.bin" } } }),
      want: "spec.artifact.source.http: ",
    },
    {
      reason: "a repo that is not a Hugging Face repo id",
      spec: base({}, { source: { huggingFace: { repo: "not a repo", revision: "main" } } }),
      want: "spec.artifact.source.huggingFace.repo: should match",
    },
    {
      reason: "an S3 URI with another scheme",
      spec: base({}, { source: { s3: { uri: "https://bucket/x" } } }),
      want: "spec.artifact.source.s3.uri: should match",
    },
    {
      reason: "a GCS URI with another scheme",
      spec: base({}, { source: { gcs: { uri: "s3://models/x" } } }),
      want: "spec.artifact.source.gcs.uri: should match",
    },
    {
      reason: "a GCS bucket name with capitals",
      spec: base({}, { source: { gcs: { uri: "gs://Models/x" } } }),
      want: "spec.artifact.source.gcs.uri: should match",
    },
    {
      reason: "an OCI reference without a registry host (a repository path)",
      spec: base({}, { source: { oci: { reference: "library/ubuntu:22.04" } } }),
      want: "spec.artifact.source.oci.reference: should match",
    },
    {
      reason: "an OCI reference with neither tag nor digest",
      spec: base({}, { source: { oci: { reference: "registry.example.com/models/qwen3" } } }),
      want: "spec.artifact.source.oci.reference: should match",
    },
    {
      reason: "a size that is not a quantity",
      spec: base({ storage: { backend: "PVC", pvc: { size: "40 GB" } } }),
      want: "spec.storage.pvc.size: should match",
    },
    { reason: "a PVC backend without its block", spec: base({ storage: { backend: "PVC" } }), want: "spec.storage: " },
    { reason: "an ExistingPVC backend without its claim", spec: base({ storage: { backend: "ExistingPVC" } }), want: "spec.storage: " },
    {
      reason: "a Custom backend without its block",
      spec: base({ storage: { backend: "Custom" } }),
      want: "spec.storage: custom is required when backend is Custom",
    },
    {
      reason: "a Custom substrate that is not a DNS label (it names an entry of the platform's list, never a kind)",
      spec: base({ storage: { backend: "Custom", custom: { substrate: "example.com/ModelVolume" } } }),
      want: "spec.storage.custom.substrate: should match",
    },
    {
      reason: "a backend the API does not have",
      spec: base({ storage: { backend: "ContentAddressed" } }),
      want: 'spec.storage.backend: Unsupported value: "ContentAddressed"',
    },
    {
      reason: "node-local copies on a Custom substrate (nodes are seeded from the function's own cluster copy)",
      spec: base({ storage: { backend: "Custom", custom: { substrate: "reference" } }, replication: "AllMatchingNodes", nodeLocal: { size: "40Gi" } }),
      want: "spec: replication AllMatchingNodes is not allowed with storage.backend Custom (the substrate places the bytes)",
    },
    {
      reason: "a pvcClone method the API does not have",
      spec: base({}, { source: { pvcClone: { claimName: "golden", method: "Snapshot" } } }),
      want: 'spec.artifact.source.pvcClone.method: Unsupported value: "Snapshot"',
    },
    {
      reason: "a pvcClone manifest digest that is not a sha256 digest",
      spec: base({}, { source: { pvcClone: { claimName: "golden", manifestDigest: "abc" } } }),
      want: "spec.artifact.source.pvcClone.manifestDigest: should match",
    },
    {
      reason: "a pvcClone source claim that is not a Kubernetes name",
      spec: base({}, { source: { pvcClone: { claimName: "Golden_Volume" } } }),
      want: "spec.artifact.source.pvcClone.claimName: should match",
    },
    {
      reason: "In without values",
      spec: base({ clusterSelector: { matchExpressions: [{ key: "a", operator: "In" }] } }),
      want: "spec.clusterSelector.matchExpressions[0]: ",
    },
    {
      reason: "Exists with values",
      spec: base({ clusterSelector: { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] } }),
      want: "spec.clusterSelector.matchExpressions[0]: ",
    },
    // Every list and map a tenant writes is bounded (issue 9, item 6): one past the bound is refused, so 150,000 never reach the function.
    {
      reason: "65 matchExpressions",
      spec: base({ clusterSelector: { matchExpressions: Array.from({ length: 65 }, () => ({ key: "a", operator: "Exists" })) } }),
      want: "spec.clusterSelector.matchExpressions: at most 64 items",
    },
    {
      reason: "65 matchLabels",
      spec: base({ clusterSelector: { matchLabels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) } }),
      want: "spec.clusterSelector.matchLabels: at most 64 properties",
    },
    {
      reason: "a label value longer than Kubernetes allows",
      spec: base({ clusterSelector: { matchLabels: { region: "r".repeat(64) } } }),
      want: "spec.clusterSelector.matchLabels.region: too long",
    },
    {
      reason: "65 node selector labels",
      spec: base({ hydration: { nodeSelector: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) } }),
      want: "spec.hydration.nodeSelector: at most 64 properties",
    },
    {
      reason: "17 resource requests",
      spec: base({ hydration: { resources: { requests: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`example.com/r${i}`, "1"])) } } }),
      want: "spec.hydration.resources.requests: at most 16 properties",
    },
    { reason: "an artifact kind the API does not have", spec: base({}, { kind: "Model" }), want: 'spec.artifact.kind: Unsupported value: "Model"' },
    {
      reason: "a retention policy the API does not have",
      spec: base({ retention: { whenUnselected: "Orphan" } }),
      want: 'spec.retention.whenUnselected: Unsupported value: "Orphan"',
    },
    // Credentials by reference only (issue 9, item 7): a URL carrying userinfo is refused, pointing to the Secret reference.
    {
      reason: "userinfo in an HTTP URL",
      spec: base({}, { source: { http: { url: "https://u:p@example.com/a.bin", sha256: "b".repeat(64) } } }),
      want: "spec.artifact.source.http.url: must not carry credentials (user:password@): put them in a Secret and name it in spec.artifact.source.http.authSecretRef",
    },
    {
      reason: "userinfo in an HTTP file's URL",
      spec: base({}, { kind: "Bytes", source: { http: { files: [{ url: "https://tok@example.com/a.bin", path: "a.bin", sha256: "b".repeat(64) }] } } }),
      want: "spec.artifact.source.http.files[0].url: should match '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*([/?#].*)?$'",
    },
    {
      reason: "userinfo in a hub endpoint",
      spec: base({}, { source: { huggingFace: { repo: "Qwen/Qwen3-8B", endpoint: "https://hf_x@mirror.example.com" } } }),
      want: "spec.artifact.source.huggingFace.endpoint: must not carry credentials (user:password@): put them in a Secret and name it in spec.artifact.source.huggingFace.tokenSecretRef",
    },
    {
      reason: "a token in a hub endpoint's query",
      spec: base({}, { source: { huggingFace: { repo: "Qwen/Qwen3-8B", endpoint: "https://mirror.example.com/?token=x" } } }),
      want: "spec.artifact.source.huggingFace.endpoint: must not carry a query or fragment",
    },
    {
      reason: "userinfo in a GCS endpoint",
      spec: base({}, { source: { gcs: { uri: "gs://models/x", endpoint: "https://user:secret@gcs.example.com" } } }),
      want: "spec.artifact.source.gcs.endpoint: must not carry credentials (user:password@): put them in a Secret and name it in spec.artifact.source.gcs.credentialsSecretRef",
    },
    {
      reason: "a query in a GCS endpoint",
      spec: base({}, { source: { gcs: { uri: "gs://models/x", endpoint: "https://gcs.example.com/?access_token=x" } } }),
      want: "spec.artifact.source.gcs.endpoint: must not carry a query or fragment",
    },
    {
      reason: "an Azure URI with an uppercase account (accounts are lowercase letters and digits)",
      spec: base({}, { source: { azure: { uri: "azure://MyAccount/models/x" } } }),
      want: "spec.artifact.source.azure.uri: should match",
    },
    {
      reason: "an Azure container of two characters (3-63)",
      spec: base({}, { source: { azure: { uri: "azure://acct/ab/x" } } }),
      want: "spec.artifact.source.azure.uri: should match",
    },
    {
      reason: "an Azure URI with no container",
      spec: base({}, { source: { azure: { uri: "azure://acct" } } }),
      want: "spec.artifact.source.azure.uri: should match",
    },
    {
      reason: "a SAS token in the Azure URI (it goes in the Secret)",
      spec: base({}, { source: { azure: { uri: "azure://acct/models/x?sv=2024&sig=abc" } } }),
      want: "spec.artifact.source.azure.uri: should match",
    },
    {
      reason: "a SAS token in the Azure endpoint's query",
      spec: base({}, { source: { azure: { uri: "azure://acct/models/x", endpoint: "https://acct.blob.core.windows.net/?sv=2024&sig=abc" } } }),
      want: "spec.artifact.source.azure.endpoint: must not carry a query or fragment",
    },
    {
      reason: "userinfo in an S3 endpoint",
      spec: base({}, { source: { s3: { uri: "s3://models/x", endpoint: "https://AKIA:secret@minio.example.com" } } }),
      want: "spec.artifact.source.s3.endpoint: must not carry credentials",
    },
  ])("$reason", ({ spec, want }) => {
    const errors = errorsOf(spec);
    expect(
      errors.some((e) => e.startsWith(want)),
      `want "${want}…" in ${JSON.stringify(errors)}`,
    ).toBe(true);
  });
});

describe("the ModelCacheReplica XRD takes either form, never both", () => {
  const replicaSpec = specSchemaOf("apis/modelcachereplicas/definition.yaml");
  const own = { cacheRef: { name: "qwen3-8b" }, cluster: { name: "a", providerConfigRef: { name: "a" }, cloud: "GKE" } };
  const inline = {
    artifact: { source: hf },
    storage: { backend: "PVC", pvc: { size: "40Gi" } },
    namespace: "model-cache",
    claimName: "qwen3-8b-52f65bb112",
    mountPath: "/models/qwen3-8b",
    hydratorImage: "img:v1",
  };
  const check = (spec: Record<string, Value>) => {
    const errors: string[] = [];
    const out = validate(replicaSpec, spec, "spec", errors) as Record<string, Value>;
    return { errors, out };
  };
  const RULE = "spec: either contractHash alone (the compact form) or the full spec";

  it.each<{ reason: string; spec: Record<string, Value>; want: string | undefined }>([
    { reason: "the compact form the fleet composes", spec: { ...own, contractHash: "0123456789abcdef" }, want: undefined },
    { reason: "the full form", spec: { ...own, ...inline }, want: undefined },
    { reason: "a hash and inline fields at once", spec: { ...own, ...inline, contractHash: "0123456789abcdef" }, want: RULE },
    { reason: "a hash and only a refetch token", spec: { ...own, contractHash: "0123456789abcdef", refetch: "x" }, want: RULE },
    { reason: "neither a hash nor the full spec", spec: { ...own, artifact: { source: hf } }, want: RULE },
    { reason: "a hash that is not 16 hex digits", spec: { ...own, contractHash: "XYZ" }, want: "spec.contractHash: should match" },
  ])("$reason", ({ spec, want }) => {
    const { errors } = check(spec);
    if (want === undefined) expect(errors).toEqual([]);
    else
      expect(
        errors.some((e) => e.startsWith(want)),
        `want "${want}…" in ${JSON.stringify(errors)}`,
      ).toBe(true);
  });

  it("defaults nothing into a compact spec (a defaulted hydration or retention would break the rule)", () => {
    const { out } = check({ ...own, contractHash: "0123456789abcdef" });
    expect(Object.keys(out).sort()).toEqual(["cacheRef", "cluster", "contractHash"]);
  });
});
