// The oci:// source against a real registry (CNCF Distribution, started here
// on a loopback port) holding artifacts pushed by the real oras CLI: plain
// files, a directory, a ModelPack artifact, image indexes; digests, ranges,
// tampering, and htpasswd and token auth.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readAll } from "../support/hydrator.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOciSource, type OciSource } from "../../functions/hydrator/sources/oci.ts";
import { SourceError, type Listing, type RemoteObject } from "../../functions/hydrator/sources/types.ts";
import { dockerConfig, REGISTRY_USER, startRegistry, type Registry } from "../support/registry.ts";

const sha256 = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

function source(uri: string, env: Record<string, string>, fetchImpl?: typeof fetch): OciSource {
  const res = createOciSource({ uri, env, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  if (!res.ok) throw new Error(res.error);
  return res.value;
}

function byPath(listing: Listing): Map<string, RemoteObject> {
  return new Map(listing.objects.map((o) => [o.unpack.kind === "file" ? o.unpack.path : `tar:${o.id}`, o]));
}

/** The digest oras reports for a pushed manifest. */
function pushedDigest(out: string): string {
  const m = /Digest: (sha256:[0-9a-f]{64})/.exec(out);
  if (!m?.[1]) throw new Error(`no digest in oras output:\n${out}`);
  return m[1];
}

let work: string;
const weights = randomBytes(2 * 1024 * 1024 + 11);
const small = Buffer.from("hello from oras\n");
const nested = randomBytes(70_000);

describe("oci:// source against a registry without auth", () => {
  let reg: Registry;
  let env: Record<string, string>;
  let plainDigest: string;
  let modelDigest: string;

  beforeAll(async () => {
    reg = await startRegistry("none");
    env = { REGISTRY_AUTH_FILE: reg.authFile };
    work = await mkdtemp(join(tmpdir(), "fmc-oci-test-"));
    // A plain ORAS artifact: two files and a directory.
    await writeFile(join(work, "a.txt"), small);
    await mkdir(join(work, "sub"));
    await writeFile(join(work, "sub", "weights.bin"), weights);
    await mkdir(join(work, "model-dir", "inner"), { recursive: true });
    await writeFile(join(work, "model-dir", "inner", "nested.bin"), nested);
    plainDigest = pushedDigest(await reg.oras(["push", `${reg.host}/models/plain:v1`, "a.txt", "sub/weights.bin", "model-dir"], work));

    // A ModelPack artifact: config, a raw weight layer named by org.cncf.model.filepath, a tar layer.
    const mp = join(work, "modelpack");
    await mkdir(join(mp, "tok"), { recursive: true });
    await writeFile(join(mp, "config.json"), JSON.stringify({ descriptor: { name: "tiny" }, config: {}, modelfs: { type: "layers", diffIds: [] } }));
    await writeFile(join(mp, "model.safetensors"), weights);
    await writeFile(join(mp, "tok", "tokenizer.json"), '{"vocab":{}}\n');
    const tar = spawnSync("tar", ["-cf", "tokenizer.tar", "tok"], { cwd: mp, encoding: "utf8" });
    if (tar.status !== 0) throw new Error(tar.stderr);
    await writeFile(join(mp, "annotations.json"), JSON.stringify({ "model.safetensors": { "org.cncf.model.filepath": "weights/model.safetensors" } }));
    modelDigest = pushedDigest(
      await reg.oras(
        [
          "push",
          `${reg.host}/models/tiny:v1`,
          "--artifact-type",
          "application/vnd.cncf.model.manifest.v1+json",
          "--config",
          "config.json:application/vnd.cncf.model.config.v1+json",
          "--annotation-file",
          "annotations.json",
          "model.safetensors:application/vnd.cncf.model.weight.v1.raw",
          "tokenizer.tar:application/vnd.cncf.model.weight.config.v1.tar",
        ],
        mp,
      ),
    );
  });

  afterAll(async () => {
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("resolves a tag to the manifest digest and lists every layer with its blob digest", async () => {
    const listing = await source(`oci://${reg.host}/models/plain:v1`, env).list(signal());
    expect(listing.identity).toEqual({ kind: "oci", reference: `oci://${reg.host}/models/plain:v1`, resolved: plainDigest });
    const files = byPath(listing);
    expect(files.get("a.txt")?.expected).toEqual({ algorithm: "sha256", hex: sha256(small) });
    expect(files.get("sub/weights.bin")?.expected).toEqual({ algorithm: "sha256", hex: sha256(weights) });
    expect(files.get("sub/weights.bin")?.size).toBe(weights.length);
    const tars = listing.objects.filter((o) => o.unpack.kind === "tar");
    expect(tars).toHaveLength(1);
    expect(tars[0]?.unpack).toEqual({ kind: "tar", compression: "gzip" });
  });

  it("reads every blob whole, matching its digest, and oras's directory tarball holds the directory", async () => {
    const src = source(`oci://${reg.host}/models/plain:v1`, env);
    const listing = await src.list(signal());
    for (const obj of listing.objects) {
      const body = await readAll(await src.read(obj, undefined, signal()));
      expect(body.length).toBe(obj.size);
      expect(sha256(body)).toBe(obj.expected?.hex);
      if (obj.unpack.kind === "tar") {
        await writeFile(join(work, "dir.tgz"), body);
        const list = spawnSync("tar", ["-tzf", join(work, "dir.tgz")], { encoding: "utf8" });
        expect(list.stdout.split("\n")).toContain("model-dir/inner/nested.bin");
      }
    }
  });

  it("accepts a digest reference, and checks the manifest against it", async () => {
    const listing = await source(`oci://${reg.host}/models/plain@${plainDigest}`, env).list(signal());
    expect(listing.identity.resolved).toBe(plainDigest);
    expect(listing.objects).toHaveLength(3);
    const missing = `sha256:${"0".repeat(64)}`;
    const err = await source(`oci://${reg.host}/models/plain@${missing}`, env)
      .list(signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).status).toBe(404);
    expect((err as SourceError).message).toContain(`models/plain@${missing}`);
  });

  it("serves ranges when the registry honours them, and slices whole responses when it does not", async () => {
    const src = source(`oci://${reg.host}/models/plain:v1`, env);
    const obj = byPath(await src.list(signal())).get("sub/weights.bin") as RemoteObject;
    expect(src.supportsRanges(obj)).toBe(true);
    const range = { start: 1_000_000, end: 1_500_000 };
    const part = await readAll(await src.read(obj, range, signal()));
    expect(part.equals(weights.subarray(range.start, range.end + 1))).toBe(true);

    // The same registry behind something that drops Range headers.
    const stripRange: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.delete("range");
      return fetch(input, { ...init, headers });
    };
    const noRanges = source(`oci://${reg.host}/models/plain:v1`, env, stripRange);
    const obj2 = byPath(await noRanges.list(signal())).get("sub/weights.bin") as RemoteObject;
    expect(noRanges.supportsRanges(obj2)).toBe(false);
    const sliced = await readAll(await noRanges.read(obj2, range, signal()));
    expect(sliced.equals(weights.subarray(range.start, range.end + 1))).toBe(true);
  });

  it("maps a ModelPack artifact: raw layers to their filepath, tar layers to unpacking", async () => {
    const src = source(`oci://${reg.host}/models/tiny:v1`, env);
    const listing = await src.list(signal());
    expect(listing.identity.resolved).toBe(modelDigest);
    expect(listing.objects.map((o) => o.unpack)).toEqual([
      { kind: "file", path: "weights/model.safetensors" },
      { kind: "tar", compression: "none" },
    ]);
    const raw = listing.objects[0] as RemoteObject;
    expect(raw.expected?.hex).toBe(sha256(weights));
  });

  it("picks the single artifact of an image index and refuses an ambiguous one", async () => {
    const entry = (digest: string, size: number, extra: object = {}): object => ({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest,
      size,
      ...extra,
    });
    const manifestSize = async (repo: string, digest: string): Promise<number> => {
      const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${digest}`, {
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      return (await res.arrayBuffer()).byteLength;
    };
    const size = await manifestSize("models/plain", plainDigest);
    const one = { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [entry(plainDigest, size)] };
    await writeFile(join(work, "index1.json"), JSON.stringify(one));
    const indexDigest = pushedDigest(
      await reg.oras(["manifest", "push", "--media-type", "application/vnd.oci.image.index.v1+json", `${reg.host}/models/plain:index`, "index1.json"], work),
    );
    const listing = await source(`oci://${reg.host}/models/plain:index`, env).list(signal());
    expect(listing.identity.resolved).toBe(indexDigest);
    expect(listing.objects.map((o) => o.expected?.hex).sort()).toEqual(
      (await source(`oci://${reg.host}/models/plain:v1`, env).list(signal())).objects.map((o) => o.expected?.hex).sort(),
    );

    // Two platform images: which one is meant cannot be guessed.
    const two = {
      ...one,
      manifests: [
        entry(plainDigest, size, { platform: { os: "linux", architecture: "amd64" } }),
        entry(plainDigest, size, { platform: { os: "linux", architecture: "arm64" } }),
      ],
    };
    await writeFile(join(work, "index2.json"), JSON.stringify(two));
    await reg.oras(["manifest", "push", "--media-type", "application/vnd.oci.image.index.v1+json", `${reg.host}/models/plain:multi`, "index2.json"], work);
    const err = await source(`oci://${reg.host}/models/plain:multi`, env)
      .list(signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toContain("lists 2 manifests (linux/amd64, linux/arm64)");
  });

  it("refuses a layer whose path would escape the destination", async () => {
    const dir = join(work, "hostile");
    await mkdir(dir);
    await writeFile(join(dir, "x.txt"), "escape\n");
    await writeFile(join(dir, "empty.json"), "{}");
    await reg.oras(["blob", "push", `${reg.host}/models/hostile`, "x.txt"], dir);
    await reg.oras(["blob", "push", `${reg.host}/models/hostile`, "empty.json"], dir);
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/vnd.unknown.artifact.v1",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: `sha256:${sha256("{}")}`, size: 2 },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest: `sha256:${sha256("escape\n")}`,
          size: 7,
          annotations: { "org.opencontainers.image.title": "../../etc/evil.txt" },
        },
      ],
    };
    await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
    await reg.oras(["manifest", "push", `${reg.host}/models/hostile:v1`, "manifest.json"], dir);
    const err = await source(`oci://${reg.host}/models/hostile:v1`, env)
      .list(signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).message).toContain('"../../etc/evil.txt" escapes');
  });

  it("detects a blob and a manifest corrupted in the registry's storage", async () => {
    const dir = join(work, "victim");
    await mkdir(dir);
    await writeFile(join(dir, "victim.bin"), randomBytes(10_000));
    const digest = pushedDigest(await reg.oras(["push", `${reg.host}/models/victim:v1`, "victim.bin"], dir));
    const src = source(`oci://${reg.host}/models/victim:v1`, env);
    const obj = (await src.list(signal())).objects[0] as RemoteObject;
    const blobData = (hex: string): string => join(reg.dataDir, "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data");
    // One flipped byte in the stored layer: what is served no longer matches the layer digest.
    const layerFile = blobData(obj.expected?.hex ?? "");
    const bytes = await readFile(layerFile);
    bytes[5000] = (bytes[5000] as number) ^ 0x01;
    await writeFile(layerFile, bytes);
    const served = await readAll(await src.read(obj, undefined, signal()));
    expect(sha256(served)).not.toBe(obj.expected?.hex);

    // A tampered manifest: by digest and by tag, the bytes no longer match.
    const manifestFile = blobData(digest.slice("sha256:".length));
    const text = (await readFile(manifestFile, "utf8")).replace("victim.bin", "victim.bim");
    await writeFile(manifestFile, text);
    const byDigest = await source(`oci://${reg.host}/models/victim@${digest}`, env)
      .list(signal())
      .catch((e: unknown) => e);
    expect((byDigest as SourceError).message).toContain(`not ${digest}`);
    const byTag = await source(`oci://${reg.host}/models/victim:v1`, env)
      .list(signal())
      .catch((e: unknown) => e);
    expect((byTag as SourceError).message).toContain(`the registry says ${digest}`);
  });
});

for (const auth of ["htpasswd", "token"] as const) {
  describe(`oci:// source against a registry with ${auth} auth`, () => {
    let reg: Registry;
    let dir: string;
    let digest: string;
    const file = randomBytes(300_000);

    beforeAll(async () => {
      reg = await startRegistry(auth);
      dir = await mkdtemp(join(tmpdir(), "fmc-oci-auth-"));
      await writeFile(join(dir, "model.bin"), file);
      digest = pushedDigest(await reg.oras(["push", `${reg.host}/private/model:v1`, "model.bin"], dir));
    });

    afterAll(async () => {
      await reg?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("lists and reads with the credentials of the docker config", async () => {
      const src = source(`oci://${reg.host}/private/model:v1`, { REGISTRY_AUTH_FILE: reg.authFile });
      const listing = await src.list(signal());
      expect(listing.identity.resolved).toBe(digest);
      const obj = listing.objects[0] as RemoteObject;
      expect(sha256(await readAll(await src.read(obj, undefined, signal())))).toBe(sha256(file));
      expect(sha256(await readAll(await src.read(obj, { start: 10, end: 99 }, signal())))).toBe(sha256(file.subarray(10, 100)));
      if (auth === "token") expect(reg.tokenRequests()).toBeGreaterThan(0);
    });

    it("also finds the credentials in $DOCKER_CONFIG/config.json", async () => {
      const cfgDir = join(dir, "docker");
      await mkdir(cfgDir, { recursive: true });
      await writeFile(join(cfgDir, "config.json"), await readFile(reg.authFile));
      const listing = await source(`oci://${reg.host}/private/model:v1`, { DOCKER_CONFIG: cfgDir }).list(signal());
      expect(listing.identity.resolved).toBe(digest);
    });

    it("fails with a clear error when no credentials are given", async () => {
      const empty = join(dir, "empty.json");
      await writeFile(empty, "{}");
      const err = await source(`oci://${reg.host}/private/model:v1`, { REGISTRY_AUTH_FILE: empty })
        .list(signal())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).status).toBe(401);
      expect((err as SourceError).retryable).toBe(false);
      expect((err as SourceError).message).toContain(`no credentials for ${reg.host} were found`);
    });

    it("fails with a clear error, without the password, when the credentials are wrong", async () => {
      const wrong = join(dir, "wrong.json");
      await writeFile(wrong, dockerConfig(reg.host, REGISTRY_USER, "not-the-password"));
      const err = await source(`oci://${reg.host}/private/model:v1`, { REGISTRY_AUTH_FILE: wrong })
        .list(signal())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).message).toContain(`rejected the credentials`);
      expect((err as SourceError).message).toContain(wrong);
      expect((err as SourceError).message).not.toContain("not-the-password");
    });
  });
}
