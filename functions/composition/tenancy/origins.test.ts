import { describe, expect, it } from "vitest";
import { Source } from "../../api/artifact.ts";
import { Tenancy } from "../../api/input.ts";
import { checkSourceOrigins } from "./origins.ts";

describe("checkSourceOrigins", () => {
  const at = "spec.artifact.source";
  const sha256 = "a".repeat(64);
  const defaults = Tenancy.parse({});
  const listed = Tenancy.parse({ sources: { allowedOrigins: ["https://huggingface.co", "https://*.example.com"] } });
  it.each([
    {
      reason: "the cloud metadata service, no credentials needed: refused by default",
      policy: defaults,
      source: { http: { url: "http://169.254.169.254/latest/meta-data/iam/security-credentials/node", sha256 } },
      want: [
        {
          field: "spec.artifact.source.http.url",
          rule: "tenancy.sources.refusedAddresses",
          message: "would have the hydrator connect to http://169.254.169.254, a link-local address (LinkLocal), which the platform refuses",
        },
      ],
    },
    {
      reason: "a hub endpoint at GCP's metadata name",
      policy: defaults,
      source: { huggingFace: { repo: "a/b", endpoint: "http://metadata.google.internal" } },
      want: [
        {
          field: "spec.artifact.source.huggingFace.endpoint",
          rule: "tenancy.sources.refusedAddresses",
          message: "would have the hydrator connect to http://metadata.google.internal, a cloud metadata service (Metadata), which the platform refuses",
        },
      ],
    },
    {
      reason: "one bad file among many is named once, the rest counted",
      policy: defaults,
      source: {
        http: {
          files: [
            { url: "https://ok.example.com/a", path: "a", sha256 },
            { url: "http://169.254.169.254/b", path: "b", sha256 },
            { url: "http://[fe80::1]/c", path: "c", sha256 },
          ],
        },
      },
      want: [
        {
          field: "spec.artifact.source.http.files[1].url",
          rule: "tenancy.sources.refusedAddresses",
          message: "would have the hydrator connect to http://169.254.169.254, a link-local address (LinkLocal), which the platform refuses (and 1 more URLs)",
        },
      ],
    },
    { reason: "a public URL, no list: allowed", policy: defaults, source: { http: { url: "https://cdn.example.org/model.bin", sha256 } }, want: [] },
    {
      reason: "an in-cluster mirror is allowed by default",
      policy: defaults,
      source: { s3: { uri: "s3://models/x", endpoint: "http://minio.storage.svc:9000" } },
      want: [],
    },
    { reason: "inline bytes fetch nothing", policy: listed, source: { inline: { files: [{ path: "a", content: "x" }] } }, want: [] },
    { reason: "the default hub, listed", policy: listed, source: { huggingFace: { repo: "a/b" } }, want: [] },
    { reason: "a listed wildcard origin", policy: listed, source: { http: { url: "https://mirror.example.com/x", sha256 } }, want: [] },
    {
      reason: "an S3 bucket at AWS when only the hub and example.com are listed",
      policy: listed,
      source: { s3: { uri: "s3://bucket/x", region: "eu-west-1" } },
      want: [
        {
          field: "spec.artifact.source.s3.region",
          rule: "tenancy.sources.allowedOrigins",
          message:
            "would have the hydrator fetch from https://s3.eu-west-1.amazonaws.com, which the platform does not allow (allowed: https://huggingface.co, https://*.example.com)",
        },
      ],
    },
    {
      reason: "an OCI registry not listed",
      policy: listed,
      source: { oci: { reference: "ghcr.io/org/model:v1" } },
      want: [
        {
          field: "spec.artifact.source.oci.reference",
          rule: "tenancy.sources.allowedOrigins",
          message:
            "would have the hydrator fetch from https://ghcr.io, which the platform does not allow (allowed: https://huggingface.co, https://*.example.com)",
        },
      ],
    },
  ])("$reason", ({ policy, source, want }) => {
    expect(checkSourceOrigins(Source.parse(source), at, policy)).toEqual(want);
  });
});
