import { describe, expect, it } from "vitest";
import { Artifact } from "../../api/artifact.ts";
import { identityHash, immutableRevision, sourceLine } from "./identity.ts";

const hf = (extra: object = {}) => Artifact.parse({ source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", ...extra } } });
const COMMIT = "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
const SHA = "a".repeat(64);

describe("identityHash", () => {
  it("changes with the revision, so a new revision gets a new volume", () => {
    expect(identityHash(hf())).not.toBe(identityHash(hf({ revision: "v2" })));
  });
  it("changes with include globs and layout (other bytes on disk)", () => {
    expect(identityHash(hf())).not.toBe(identityHash(hf({ include: ["*.json"] })));
    expect(identityHash(hf())).not.toBe(identityHash(Artifact.parse({ layout: "HuggingFaceCache", source: { huggingFace: { repo: "Qwen/Qwen3-8B" } } })));
  });
  it("does not change with the token or a mirror endpoint (same bytes, fetched differently)", () => {
    expect(identityHash(hf())).toBe(identityHash(hf({ tokenSecretRef: { name: "other" }, endpoint: "https://mirror.example" })));
  });
  it("does not depend on key order", () => {
    const a = Artifact.parse({ kind: "Weights", source: { s3: { uri: "s3://bucket/p", region: "us-east-1" } } });
    const b = Artifact.parse({ source: { s3: { region: "us-east-1", uri: "s3://bucket/p" } }, kind: "Weights" });
    expect(identityHash(a)).toBe(identityHash(b));
  });
});

describe("immutableRevision", () => {
  it.each([
    { reason: "a Hugging Face commit is immutable", a: hf({ revision: COMMIT }), want: COMMIT },
    { reason: "a Hugging Face branch is not", a: hf(), want: undefined },
    { reason: "an OCI digest is immutable", a: Artifact.parse({ source: { oci: { reference: `reg.example/m/qwen@sha256:${SHA}` } } }), want: `sha256:${SHA}` },
    { reason: "an OCI tag is not", a: Artifact.parse({ source: { oci: { reference: "reg.example/m/qwen:v1" } } }), want: undefined },
    { reason: "an S3 prefix is not", a: Artifact.parse({ source: { s3: { uri: "s3://bucket/p" } } }), want: undefined },
    { reason: "a ConfigMap is not", a: Artifact.parse({ source: { configMap: { name: "cm" } } }), want: undefined },
  ])("$reason", ({ a, want }) => {
    expect(immutableRevision(a)).toBe(want);
  });
  it("pins HTTP files by the digest of their sha256 list, whatever their order", () => {
    const f1 = { url: "https://h/a", path: "a", sha256: SHA };
    const f2 = { url: "https://h/b", path: "b", sha256: "b".repeat(64) };
    const x = immutableRevision(Artifact.parse({ source: { http: { files: [f1, f2] } } }));
    expect(x).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(immutableRevision(Artifact.parse({ source: { http: { files: [f2, f1] } } }))).toBe(x);
  });
});

describe("sourceLine", () => {
  it("names the source in one line without credentials", () => {
    expect(sourceLine(hf({ tokenSecretRef: { name: "hf-token" } }))).toBe("hf://Qwen/Qwen3-8B@main");
    expect(sourceLine(Artifact.parse({ source: { oci: { reference: "reg.example/m/qwen:v1", pullSecretRef: { name: "pull" } } } }))).toBe(
      "oci://reg.example/m/qwen:v1",
    );
  });
});
