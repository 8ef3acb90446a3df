import { describe, expect, it } from "vitest";
import { Source } from "../../api/artifact.ts";
import { Tenancy } from "../../api/input.ts";
import { checkCredentialDestination, destinationAllowed } from "./destinations.ts";

describe("destinationAllowed", () => {
  it.each([
    { reason: "the exact origin", url: "https://huggingface.co", allowed: ["https://huggingface.co"], want: true },
    { reason: "a path does not change the origin", url: "https://huggingface.co/api/models", allowed: ["https://huggingface.co"], want: true },
    { reason: "the default port spelled out", url: "https://huggingface.co:443", allowed: ["https://huggingface.co"], want: true },
    { reason: "another port", url: "https://huggingface.co:8443", allowed: ["https://huggingface.co"], want: false },
    { reason: "plain http to an https entry", url: "http://huggingface.co", allowed: ["https://huggingface.co"], want: false },
    { reason: "a look-alike suffix", url: "https://huggingface.co.evil.example", allowed: ["https://huggingface.co"], want: false },
    { reason: "a subdomain of an exact entry", url: "https://mirror.huggingface.co", allowed: ["https://huggingface.co"], want: false },
    { reason: "* is one label", url: "https://s3.eu-west-1.amazonaws.com", allowed: ["https://s3.*.amazonaws.com"], want: true },
    {
      reason: "* is not two labels (an API Gateway host under amazonaws.com)",
      url: "https://abc.execute-api.us-east-1.amazonaws.com",
      allowed: ["https://s3.*.amazonaws.com"],
      want: false,
    },
    { reason: "a trailing dot is another name", url: "https://huggingface.co.", allowed: ["https://huggingface.co"], want: false },
    { reason: "uppercase is the same host", url: "https://HuggingFace.co", allowed: ["https://huggingface.co"], want: true },
    { reason: "an in-cluster service with a port", url: "https://minio.storage.svc:9000", allowed: ["https://minio.storage.svc:9000"], want: true },
    { reason: "an empty list allows nothing", url: "https://registry.example.com", allowed: [], want: false },
  ])("$reason", ({ url, allowed, want }) => {
    expect(destinationAllowed(url, allowed)).toBe(want);
  });
});

describe("checkCredentialDestination", () => {
  const policy = Tenancy.parse({});
  const at = "spec.artifact.source";
  it.each([
    { reason: "a hub token to the public hub", source: { huggingFace: { repo: "a/b", tokenSecretRef: { name: "t" } } }, want: [] },
    {
      reason: "a hub token to an endpoint of the tenant's own",
      source: { huggingFace: { repo: "a/b", tokenSecretRef: { name: "t" }, endpoint: "https://collector.example" } },
      want: ["spec.artifact.source.huggingFace.endpoint"],
    },
    { reason: "an endpoint without a token sends no credential", source: { huggingFace: { repo: "a/b", endpoint: "https://mirror.example" } }, want: [] },
    {
      reason: "S3 credentials to AWS in a region",
      source: { s3: { uri: "s3://bucket/x", region: "eu-west-1", credentialsSecretRef: { name: "c" } } },
      want: [],
    },
    {
      reason: "S3 credentials to a region that is not a host label",
      source: { s3: { uri: "s3://bucket/x", region: "x.evil.example", credentialsSecretRef: { name: "c" } } },
      want: ["spec.artifact.source.s3.region"],
    },
    {
      reason: "S3 credentials to another endpoint",
      source: { s3: { uri: "s3://bucket/x", endpoint: "https://minio.example", credentialsSecretRef: { name: "c" } } },
      want: ["spec.artifact.source.s3.endpoint"],
    },
    {
      reason: "a registry pull secret: no registry is allowed by default",
      source: { oci: { reference: "ghcr.io/org/model:v1", pullSecretRef: { name: "p" } } },
      want: ["spec.artifact.source.oci.reference"],
    },
    { reason: "a public OCI artifact", source: { oci: { reference: "ghcr.io/org/model:v1" } }, want: [] },
  ])("$reason", ({ source, want }) => {
    const issues = checkCredentialDestination(Source.parse(source), at, policy);
    expect(issues.map((i) => i.field)).toEqual(want);
    for (const i of issues) expect(i.rule).toMatch(/^tenancy\.credentialDestinations\./);
  });
});
