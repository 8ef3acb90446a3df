import { describe, expect, it } from "vitest";
import {
  classifyLayer,
  layersToObjects,
  parseManifestDocument,
  parseOciReference,
  pickFromIndex,
  titlePath,
  type Descriptor,
  type Manifest,
} from "./oci-manifest.ts";

const D = `sha256:${"a".repeat(64)}`;
const E = `sha256:${"b".repeat(64)}`;
const layer = (mediaType: string, annotations?: Record<string, string>, digest = D): Descriptor => ({
  mediaType,
  digest,
  size: 10,
  ...(annotations ? { annotations } : {}),
});
const manifest = (layers: Descriptor[]): Manifest => ({
  schemaVersion: 2,
  config: layer("application/vnd.oci.empty.v1+json"),
  layers,
});

describe("parseOciReference", () => {
  it.each([
    ["oci://127.0.0.1:5000/models/qwen:v1", { registry: "127.0.0.1:5000", repository: "models/qwen", tag: "v1" }],
    [`oci://ghcr.io/org/model@${D}`, { registry: "ghcr.io", repository: "org/model", digest: D }],
    [`oci://ghcr.io/org/model:v2@${D}`, { registry: "ghcr.io", repository: "org/model", tag: "v2", digest: D }],
    ["oci://localhost:5000/m", { registry: "localhost:5000", repository: "m", tag: "latest" }],
    ["oci://docker.io/ubuntu:24.04", { registry: "docker.io", repository: "library/ubuntu", tag: "24.04" }],
  ])("parses %s", (uri, want) => {
    expect(parseOciReference(uri)).toEqual({ ok: true, value: want });
  });
  it.each([
    "docker://r/x:v1",
    "oci://r",
    // A repository path without a registry host: refused, never dialled as a host named "library".
    "oci://library/ubuntu:22.04",
    "oci://models/qwen@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "oci:///x:v1",
    "oci://r/Upper:v1",
    "oci://r/x:bad tag",
    "oci://r/x@sha512:abc",
    "oci://r/x@sha256:short",
  ])("refuses %s", (uri) => {
    expect(parseOciReference(uri).ok).toBe(false);
  });
});

describe("titlePath: a layer title is checked by the one path rule", () => {
  it("keeps plain relative paths, and a directory's trailing slash", () => {
    expect(titlePath("a/b.bin")).toEqual({ ok: true, value: "a/b.bin" });
    expect(titlePath("dir/")).toEqual({ ok: true, value: "dir" });
  });
  it.each(["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "a\nb", "a\u001b[2Jb"])("refuses %j", (p) => {
    expect(titlePath(p).ok).toBe(false);
  });
});

describe("classifyLayer", () => {
  it.each([
    ["application/vnd.cncf.model.weight.v1.raw", { "org.cncf.model.filepath": "w/model.safetensors" }, { kind: "file", path: "w/model.safetensors" }],
    ["application/vnd.cncf.model.weight.config.v1.raw", { "org.opencontainers.image.title": "config.json" }, { kind: "file", path: "config.json" }],
    ["application/vnd.cncf.model.weight.v1.tar", { "org.cncf.model.filepath": "w" }, { kind: "tar", compression: "none" }],
    ["application/vnd.cncf.model.doc.v1.tar+gzip", undefined, { kind: "tar", compression: "gzip" }],
    ["application/vnd.cncf.model.dataset.v1.tar+zstd", undefined, { kind: "tar", compression: "zstd" }],
    [
      "application/vnd.oci.image.layer.v1.tar+gzip",
      { "org.opencontainers.image.title": "dir", "io.deis.oras.content.unpack": "true" },
      { kind: "tar", compression: "gzip" },
    ],
    // oras gives plain files this media type by default: the title, not the type, decides.
    ["application/vnd.oci.image.layer.v1.tar", { "org.opencontainers.image.title": "a.txt" }, { kind: "file", path: "a.txt" }],
    ["text/plain", { "org.opencontainers.image.title": "notes/readme.md" }, { kind: "file", path: "notes/readme.md" }],
  ])("%s %j", (mediaType, annotations, want) => {
    expect(classifyLayer(layer(mediaType, annotations))).toEqual({ ok: true, value: want });
  });

  it("refuses unnamed layers, unnamed raw weights and escaping names", () => {
    const image = classifyLayer(layer("application/vnd.oci.image.layer.v1.tar+gzip"));
    expect(image.ok ? "" : image.error).toContain("container image layers are not a model artifact");
    const raw = classifyLayer(layer("application/vnd.cncf.model.weight.v1.raw"));
    expect(raw.ok ? "" : raw.error).toContain("org.cncf.model.filepath");
    expect(classifyLayer(layer("x", { "org.opencontainers.image.title": "../x" })).ok).toBe(false);
  });
});

describe("layersToObjects", () => {
  it("makes one object per layer with its digest as the expected digest", () => {
    const res = layersToObjects(manifest([layer("x", { "org.opencontainers.image.title": "a" })]), "oci://r/m:v1");
    expect(res).toEqual({
      ok: true,
      value: [
        {
          id: `${D}:a`,
          size: 10,
          expected: { algorithm: "sha256", hex: "a".repeat(64) },
          unpack: { kind: "file", path: "a" },
          description: 'layer 0 "a" of oci://r/m:v1',
        },
      ],
    });
  });
  it("keeps equal files at two paths apart, and unpacks one archive once", () => {
    const res = layersToObjects(
      manifest([
        layer("x", { "org.opencontainers.image.title": "a" }),
        layer("x", { "org.opencontainers.image.title": "b" }),
        layer("application/vnd.cncf.model.weight.v1.tar", undefined, E),
        layer("application/vnd.cncf.model.weight.v1.tar", undefined, E),
      ]),
      "w",
    );
    expect(res.ok && res.value.map((o) => o.id)).toEqual([`${D}:a`, `${D}:b`, E]);
  });
  it("refuses two layers at one path and non-sha256 digests", () => {
    const dup = layersToObjects(
      manifest([layer("x", { "org.opencontainers.image.title": "a" }), layer("x", { "org.opencontainers.image.title": "a" }, E)]),
      "w",
    );
    expect(dup.ok ? "" : dup.error).toContain('the path "a" is given by two layers');
    const sha512 = layersToObjects(manifest([{ ...layer("x", { "org.opencontainers.image.title": "a" }), digest: "sha512:ab" }]), "w");
    expect(sha512.ok ? "" : sha512.error).toContain("only sha256");
  });
});

describe("manifests and indexes", () => {
  it("tells an index from a manifest by media type, body or Content-Type", () => {
    const idx = parseManifestDocument(JSON.stringify({ schemaVersion: 2, manifests: [] }), "application/vnd.oci.image.index.v1+json");
    expect(idx.ok && idx.value.kind).toBe("index");
    const m = parseManifestDocument(JSON.stringify(manifest([])), null);
    expect(m.ok && m.value.kind).toBe("manifest");
    const v1 = parseManifestDocument(JSON.stringify({ schemaVersion: 1 }), "application/vnd.docker.distribution.manifest.v1+prettyjws");
    expect(v1.ok ? "" : v1.error).toContain("unsupported manifest media type");
    const broken = parseManifestDocument(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", layers: [] }), null);
    expect(broken.ok ? "" : broken.error).toMatch(/^malformed image manifest: config/);
  });

  const entry = (digest: string, extra: Partial<Descriptor> = {}): Descriptor => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest,
    size: 1,
    ...extra,
  });
  it("picks the only entry, ignoring attestations, or the only ModelPack entry", () => {
    const att = entry(E, { annotations: { "vnd.docker.reference.type": "attestation-manifest" } });
    expect(pickFromIndex({ schemaVersion: 2, manifests: [entry(D), att] })).toEqual({ ok: true, value: entry(D) });
    const model = entry(E, { artifactType: "application/vnd.cncf.model.manifest.v1+json" });
    expect(pickFromIndex({ schemaVersion: 2, manifests: [entry(D), model] })).toEqual({ ok: true, value: model });
  });
  it("refuses an empty or ambiguous index", () => {
    expect(pickFromIndex({ schemaVersion: 2, manifests: [] }).ok).toBe(false);
    const two = pickFromIndex({ schemaVersion: 2, manifests: [entry(D), entry(E)] });
    expect(two.ok ? "" : two.error).toContain("lists 2 manifests");
  });
});
