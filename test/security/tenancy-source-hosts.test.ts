// What a hydration pod may connect to, with or without credentials: a tenant
// must not point it at the cloud's metadata service (it would fetch the
// node's credentials into a volume the tenant reads), and the platform may
// list the only origins sources may use. Both levels refuse, naming the field
// and the Input rule, and compose nothing. Driven through the real function
// over gRPC.
import { describe, expect, it } from "vitest";
import { fleet, modelCache, request as fleetRequest } from "../support/fleet-builders.ts";
import { baseXr, request as replicaRequest, tenancyInput } from "../support/replica-builders.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { call, fatals, onCluster, realFunction } from "./tenancy-support.ts";

const fn = realFunction();
const SHA = "c".repeat(64);
const METADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/node-role";
const spec = (source: JsonObject): JsonObject => ({ artifact: { kind: "Weights", source }, clusterSelector: { matchLabels: { region: "us-east1" } } });

describe("a source at the cloud metadata service is refused by default", () => {
  it.each([
    { reason: "an http URL at 169.254.169.254", source: { http: { url: METADATA, sha256: SHA } }, field: "spec.artifact.source.http.url" },
    {
      reason: "the same address written as a decimal number",
      source: { http: { url: "http://2852039166/latest/meta-data/", sha256: SHA } },
      field: "spec.artifact.source.http.url",
    },
    {
      reason: "a hub endpoint at GCP's metadata name",
      source: { huggingFace: { repo: "a/b", endpoint: "http://metadata.google.internal" } },
      field: "spec.artifact.source.huggingFace.endpoint",
    },
    {
      reason: "a GCS endpoint at GCP's metadata name (what workload identity's token would come from)",
      source: { gcs: { uri: "gs://bucket/x", endpoint: "http://metadata.google.internal" } },
      field: "spec.artifact.source.gcs.endpoint",
    },
    {
      reason: "an S3 endpoint at AWS's IPv6 metadata address",
      source: { s3: { uri: "s3://bucket/x", endpoint: "http://[fd00:ec2::254]" } },
      field: "spec.artifact.source.s3.endpoint",
    },
    {
      reason: "an Azure endpoint at the metadata address",
      source: { azure: { uri: "azure://acct/models/x", endpoint: "http://169.254.169.254/acct" } },
      field: "spec.artifact.source.azure.endpoint",
    },
  ] as { reason: string; source: JsonObject; field: string }[])("the ModelCache: $reason", async ({ source, field }) => {
    const a = await call(fn.client(), fleetRequest(modelCache(spec(source)), { clusters: fleet() }));
    const [f] = fatals(a);
    expect(f?.message).toContain(`${field}: would have the hydrator connect to`);
    expect(f?.message).toContain("(tenancy policy: input.tenancy.sources.refusedAddresses)");
    expect(Object.keys(a.desired)).toEqual([]);
  });

  it("a ModelCacheReplica written by hand with such a source is Blocked and composes no Job", async () => {
    const xr = baseXr({ artifact: { kind: "Weights", layout: "Flat", source: { http: { url: METADATA, sha256: SHA } } } });
    const a = await call(fn.client(), replicaRequest(xr));
    const warning = a.results.find((r) => r.reason === "TenancyPolicy");
    expect(a.status["phase"]).toBe("Blocked");
    expect(warning?.message).toContain(
      "http.url: would have the hydrator connect to http://169.254.169.254, a link-local address (LinkLocal), which the platform refuses",
    );
    expect(Object.values(a.desired).filter((r) => JSON.stringify(r).includes('"kind":"Job"'))).toEqual([]);
  });

  it("the platform may allow in-cluster mirrors and still refuse the metadata service", async () => {
    const a = await onCluster(fn.client(), "team-a", spec({ s3: { uri: "s3://models/x", endpoint: "http://minio.storage.svc:9000" } }));
    expect(fatals(a)).toEqual([]);
  });
});

describe("the platform's list of source origins", () => {
  const input = tenancyInput({ sources: { allowedOrigins: ["https://huggingface.co", "https://*.mirror.example.com"] } });

  it("an origin not listed is refused, without credentials too, naming the field and the rule", async () => {
    const a = await call(
      fn.client(),
      fleetRequest(modelCache(spec({ http: { url: "https://attacker.example.net/m.gguf", sha256: SHA } })), { clusters: fleet(), input }),
    );
    const [f] = fatals(a);
    expect(f?.message).toContain(
      "spec.artifact.source.http.url: would have the hydrator fetch from https://attacker.example.net, which the platform does not allow (allowed: https://huggingface.co, https://*.mirror.example.com) (tenancy policy: input.tenancy.sources.allowedOrigins)",
    );
    expect(Object.keys(a.desired)).toEqual([]);
  });

  it("a listed origin is composed", async () => {
    const a = await call(
      fn.client(),
      fleetRequest(modelCache(spec({ http: { url: "https://eu.mirror.example.com/m.gguf", sha256: SHA } })), { clusters: fleet(), input }),
    );
    expect(fatals(a)).toEqual([]);
    expect(Object.values(a.desired).some((r) => r["kind"] === "ModelCacheReplica")).toBe(true);
  });
});

describe("a GCS service-account key goes only where the platform allows", () => {
  const keyed = (more: JsonObject = {}): JsonObject => spec({ gcs: { uri: "gs://models/qwen/", credentialsSecretRef: { name: "gcp" }, ...more } });

  it("to Google's endpoint by default", async () => {
    const a = await call(fn.client(), fleetRequest(modelCache(keyed()), { clusters: fleet() }));
    expect(fatals(a)).toEqual([]);
    expect(Object.values(a.desired).some((r) => r["kind"] === "ModelCacheReplica")).toBe(true);
  });

  it("not to an endpoint the tenant names, unless the platform lists it", async () => {
    const a = await call(fn.client(), fleetRequest(modelCache(keyed({ endpoint: "https://gcs.attacker.example.net" })), { clusters: fleet() }));
    const [f] = fatals(a);
    expect(f?.message).toContain(
      "spec.artifact.source.gcs.endpoint: would send the source's credentials to https://gcs.attacker.example.net, which the platform does not allow (allowed: https://storage.googleapis.com)",
    );
    expect(f?.message).toContain("tenancy.credentialDestinations.gcs");
    expect(Object.keys(a.desired)).toEqual([]);
    const input = tenancyInput({ credentialDestinations: { gcs: ["https://gcs.attacker.example.net"] } });
    const allowed = await call(fn.client(), fleetRequest(modelCache(keyed({ endpoint: "https://gcs.attacker.example.net" })), { clusters: fleet(), input }));
    expect(fatals(allowed)).toEqual([]);
  });

  it("with a list of origins, the token endpoint must be on it too, named by the key's field", async () => {
    const only = tenancyInput({ sources: { allowedOrigins: ["https://storage.googleapis.com"] } });
    const a = await call(fn.client(), fleetRequest(modelCache(keyed()), { clusters: fleet(), input: only }));
    expect(fatals(a)[0]?.message).toContain(
      "spec.artifact.source.gcs.credentialsSecretRef: would have the hydrator fetch from https://oauth2.googleapis.com, which the platform does not allow",
    );
    const both = tenancyInput({ sources: { allowedOrigins: ["https://storage.googleapis.com", "https://oauth2.googleapis.com"] } });
    expect(fatals(await call(fn.client(), fleetRequest(modelCache(keyed()), { clusters: fleet(), input: both })))).toEqual([]);
  });
});
