// End to end: `function-model-cache hydrate --source oci://...` from a real
// registry holding artifacts pushed by the real oras (files, a directory, a
// ModelPack artifact), into directories that `sha256sum -c` and `verify`
// accept; a hostile archive, a corrupted blob and missing credentials fail.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { access, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { zstdCompressSync } from "node:zlib";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT } from "../support/function-server.ts";
import { durableChunks, runCliIsolated as cli } from "../support/hydrator.ts";
import { startRegistry, type Registry } from "../support/registry.ts";

function sha256sumCheck(dir: string): { status: number | null; out: string } {
  const r = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

const weights = randomBytes(6 * 1024 * 1024 + 5);
const nested = randomBytes(300_000);
const tokenizer = Buffer.from('{"vocab":{"a":1}}\n');
const readme = Buffer.from("# tiny\nA model card.\n");

describe("resume from an OCI registry", () => {
  let reg: Registry;
  let work: string;

  beforeAll(async () => {
    reg = await startRegistry("none");
    work = await mkdtemp(join(tmpdir(), "fmc-oci-resume-"));
  });

  afterAll(async () => {
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("resumes after kill -9 from the chunks already on disk, asking only for the rest", async () => {
    const big = randomBytes(24 * 1024 * 1024);
    await writeFile(join(work, "big.bin"), big);
    await reg.oras(["push", `${reg.host}/models/big:v1`, "big.bin"], work);
    const digest = `sha256:${createHash("sha256").update(big).digest("hex")}`;
    const dest = join(work, "out");
    const args = ["hydrate", "--source", `oci://${reg.host}/models/big:v1`, "--dest", dest, "--chunk-size", "64Ki"];
    const child = spawn(process.execPath, [BIN, ...args, "--concurrency", "1"], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", HOME: work },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let done: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      done = await durableChunks(dest, digest);
      if (done.length >= 4) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    expect(await exited, "the first run finished before it could be killed").toBe(null);
    expect(done.length).toBeGreaterThanOrEqual(4);

    const blobGets = (): number => reg.requests().filter((l) => l.includes(`"GET /v2/models/big/blobs/${digest} `)).length;
    const before = blobGets();
    const run = await cli(args, { HOME: work });
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(big)).toBe(true);
    // A log line still in the pipe can only lower the count, never raise it above the bound.
    const gets = blobGets() - before;
    // One more than the chunks left: the listing probes once whether the registry honours ranges.
    expect(gets).toBeGreaterThan(1);
    expect(gets).toBeLessThanOrEqual(Math.ceil(big.length / (64 * 1024)) - done.length + 1);
  });
});

describe("hydrate from an OCI registry end to end", () => {
  let reg: Registry;
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    reg = await startRegistry("htpasswd");
    env = { REGISTRY_AUTH_FILE: reg.authFile };
    work = await mkdtemp(join(tmpdir(), "fmc-oci-hydrate-"));
    const src = join(work, "src");
    await mkdir(join(src, "model-dir", "inner"), { recursive: true });
    await writeFile(join(src, "config.json"), '{"model_type":"tiny"}\n');
    await writeFile(join(src, "model.safetensors"), weights);
    await writeFile(join(src, "model-dir", "inner", "nested.bin"), nested);
    await writeFile(join(src, "model-dir", "tokenizer.json"), tokenizer);
    await reg.oras(["push", `${reg.host}/models/plain:v1`, "config.json", "model.safetensors", "model-dir"], src);

    // ModelPack: a raw weight at its filepath, the tokenizer as an uncompressed tar layer.
    const mp = join(work, "mp");
    await mkdir(join(mp, "tok"), { recursive: true });
    await writeFile(join(mp, "model-config.json"), JSON.stringify({ descriptor: { name: "tiny" } }));
    await writeFile(join(mp, "w.bin"), weights);
    await writeFile(join(mp, "tok", "tokenizer.json"), tokenizer);
    spawnSync("tar", ["-cf", "tok.tar", "tok"], { cwd: mp });
    // Documentation as a zstd-compressed tar layer (compressed here with Node's own zstd).
    await mkdir(join(mp, "docs"));
    await writeFile(join(mp, "docs", "README.md"), readme);
    spawnSync("tar", ["-cf", "docs.tar", "docs"], { cwd: mp });
    await writeFile(join(mp, "docs.tar.zst"), zstdCompressSync(await readFile(join(mp, "docs.tar"))));
    await writeFile(join(mp, "ann.json"), JSON.stringify({ "w.bin": { "org.cncf.model.filepath": "weights/model.safetensors" } }));
    await reg.oras(
      [
        "push",
        `${reg.host}/models/tiny:v1`,
        "--artifact-type",
        "application/vnd.cncf.model.manifest.v1+json",
        "--config",
        "model-config.json:application/vnd.cncf.model.config.v1+json",
        "--annotation-file",
        "ann.json",
        "w.bin:application/vnd.cncf.model.weight.v1.raw",
        "tok.tar:application/vnd.cncf.model.weight.config.v1.tar",
        "docs.tar.zst:application/vnd.cncf.model.doc.v1.tar+zstd",
      ],
      mp,
    );

    // A hostile ModelPack tar layer whose entry climbs out of the destination.
    const bad = join(work, "bad", "in");
    await mkdir(bad, { recursive: true });
    await writeFile(join(work, "bad", "escaped.txt"), "escaped\n");
    const tar = spawnSync("tar", ["-cPf", "../hostile.tar", "../escaped.txt"], { cwd: bad, encoding: "utf8" });
    if (tar.status !== 0) throw new Error(tar.stderr);
    await reg.oras(["push", `${reg.host}/models/hostile:v1`, "hostile.tar:application/vnd.cncf.model.weight.v1.tar"], join(work, "bad"));
  });

  afterAll(async () => {
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("hydrates a plain ORAS artifact with a directory, accepted by sha256sum -c and verify", async () => {
    const dest = join(work, "out-plain");
    const run = await cli(["hydrate", "--source", `oci://${reg.host}/models/plain:v1`, "--dest", dest, "--progress", "json"], env);
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "model.safetensors"))).equals(weights)).toBe(true);
    expect((await readFile(join(dest, "model-dir", "inner", "nested.bin"))).equals(nested)).toBe(true);
    expect((await readFile(join(dest, "model-dir", "tokenizer.json"))).equals(tokenizer)).toBe(true);
    const sums = sha256sumCheck(dest);
    expect(sums.status, sums.out).toBe(0);
    expect(sums.out).toContain("model-dir/inner/nested.bin: OK");
    const verify = await cli(["verify", dest], {});
    expect(verify.code, verify.out).toBe(0);
  });

  it("hydrates a ModelPack artifact: raw layers at their filepath, tar and tar+zstd layers unpacked", async () => {
    const dest = join(work, "out-tiny");
    const run = await cli(["hydrate", "--source", `oci://${reg.host}/models/tiny:v1`, "--dest", dest], env);
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "weights", "model.safetensors"))).equals(weights)).toBe(true);
    expect((await readFile(join(dest, "tok", "tokenizer.json"))).equals(tokenizer)).toBe(true);
    expect((await readFile(join(dest, "docs", "README.md"))).equals(readme)).toBe(true);
    expect(sha256sumCheck(dest).status).toBe(0);
    expect((await cli(["verify", dest], {})).code).toBe(0);
  });

  it("refuses a layer archive whose entry escapes the destination", async () => {
    const dest = join(work, "deep", "out-hostile");
    const run = await cli(["hydrate", "--source", `oci://${reg.host}/models/hostile:v1`, "--dest", dest], env);
    expect(run.code).toBe(3);
    expect(run.out).toContain('archive entry "../escaped.txt"');
    expect(run.out).toContain("escapes the destination");
    await expect(access(join(work, "deep", "escaped.txt"))).rejects.toThrow();
    const published = await readdir(dest).catch(() => [] as string[]);
    expect(published).not.toContain("escaped.txt");
  });

  it("fails clearly without credentials", async () => {
    const empty = join(work, "empty.json");
    await writeFile(empty, "{}");
    const run = await cli(["hydrate", "--source", `oci://${reg.host}/models/plain:v1`, "--dest", join(work, "out-denied")], {
      REGISTRY_AUTH_FILE: empty,
    });
    expect(run.code).toBe(3);
    expect(run.out).toContain(`no credentials for ${reg.host} were found`);
  });

  it("detects a blob corrupted in the registry's storage", async () => {
    const dir = join(work, "victim");
    await mkdir(dir);
    const body = randomBytes(2 * 1024 * 1024);
    await writeFile(join(dir, "victim.bin"), body);
    await reg.oras(["push", `${reg.host}/models/victim:v1`, "victim.bin"], dir);
    const hex = createHash("sha256").update(body).digest("hex");
    const blob = join(reg.dataDir, "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex, "data");
    const bytes = await readFile(blob);
    bytes[1_000_000] = (bytes[1_000_000] as number) ^ 0x01;
    await writeFile(blob, bytes);
    const dest = join(work, "out-victim");
    const run = await cli(["hydrate", "--source", `oci://${reg.host}/models/victim:v1`, "--dest", dest], env);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain("victim.bin");
    expect(run.out).toMatch(/mismatch/i);
    const published = await readdir(dest).catch(() => [] as string[]);
    expect(published).not.toContain("victim.bin");
  });
});
