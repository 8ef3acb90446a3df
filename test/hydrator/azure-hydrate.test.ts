// End to end: `function-model-cache hydrate --source azure://...` from a real
// Azure Storage emulator (Azurite) into a directory that the real
// `sha256sum -c` and `function-model-cache verify` accept, compared with what
// the official @azure/storage-blob client downloads; a large blob in parallel
// ranges, resumed after kill -9 and after a cut connection; a Content-MD5
// mismatch and bytes corrupted at rest caught; a blob changed after another
// cluster pinned it refused; the key never printed. Requests go through a
// small proxy (test/support/fault-proxy.ts) that logs each one and cuts a
// connection on demand; the bytes come from Azurite.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT } from "../support/function-server.ts";
import { startAzurite, type Azurite } from "../support/azurite.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { durableChunks, objectStoreModel, runCliIsolated as cli } from "../support/hydrator.ts";

const files = objectStoreModel();

let az: Azurite;
let proxy: FaultProxy;
let models: ContainerClient;
let work: string;
let endpoint: string;
let n = 0;

/** Single-shot (Put Blob: Content-MD5 computed by the service) or a block list with the MD5 the uploader sets. */
async function put(name: string, body: Buffer, blocks?: { md5?: Buffer }): Promise<void> {
  const blob = models.getBlockBlobClient(name);
  if (blocks === undefined) await blob.upload(body, body.length);
  else
    await blob.uploadData(body, {
      blockSize: 4 * 1024 * 1024,
      maxSingleShotSize: 0,
      ...(blocks.md5 ? { blobHTTPHeaders: { blobContentMD5: blocks.md5 } } : {}),
    });
}

const env = (): Record<string, string> => ({ AZURE_STORAGE_KEY: az.key });

function hydrateArgs(prefix: string, dest: string, ...more: string[]): string[] {
  return ["hydrate", "--source", `azure://fmcmodels/models/${prefix}`, "--endpoint", endpoint, "--dest", dest, "--progress", "json", ...more];
}

/** The proxied GETs of one blob (its path in Azurite's path-style URL), with their ranges. */
const getsOf = (name: string): { range?: string }[] =>
  proxy.requests.filter((r) => r.method === "GET" && decodeURIComponent(r.path.split("?")[0] ?? "") === `/fmcmodels/models/${name}`);

beforeAll(async () => {
  az = await startAzurite();
  proxy = await startFaultProxy(az.endpoint.replace(/\/fmcmodels$/, ""));
  endpoint = `${proxy.url}/fmcmodels`;
  work = await mkdtemp(join(tmpdir(), "fmc-azure-hydrate-"));
  models = az.admin().getContainerClient("models");
  await models.create();
  for (const [path, body] of Object.entries(files)) {
    // The large shard as a block list with its MD5 (as azcopy --put-md5 writes it), the rest single-shot.
    await put(`qwen/${path}`, body, path.startsWith("model-00001") ? { md5: createHash("md5").update(body).digest() } : undefined);
  }
});

afterAll(async () => {
  await proxy?.stop();
  await az?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("hydrate from Azure Blob Storage (Azurite) end to end", () => {
  it("hydrates a prefix to the bytes the official SDK reads, which sha256sum -c and verify accept, and never prints the key", async () => {
    const dest = join(work, "qwen");
    const log = join(work, "termination-qwen");
    const run = await cli(hydrateArgs("qwen", dest, "--termination-log", log), env());
    expect(run.code, run.out).toBe(0);
    for (const [path, body] of Object.entries(files)) {
      const got = await readFile(join(dest, path));
      expect(got.equals(body), path).toBe(true);
      // The client-side check: what Azurite holds, read by the official SDK, is what the hydrator published.
      expect(got.equals(await models.getBlobClient(`qwen/${path}`).downloadToBuffer()), path).toBe(true);
    }
    const sums = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dest, encoding: "utf8" });
    expect(sums.status, sums.stdout + sums.stderr).toBe(0);
    expect(sums.stdout.trim().split("\n").sort()).toEqual(
      Object.keys(files)
        .map((p) => `${p}: OK`)
        .sort(),
    );
    const verify = await cli(["verify", dest], {});
    expect(verify.code, verify.out).toBe(0);
    const manifest = await readFile(join(dest, ".model-cache", "manifest.json"), "utf8");
    expect(manifest).toMatch(/"kind":\s*"azure"/);
    expect(manifest).toMatch(/"resolved":\s*"etags:sha256:[0-9a-f]{64}"/);
    for (const text of [run.out, manifest, await readFile(log, "utf8").catch(() => "")]) expect(text).not.toContain(az.key);
  });

  it("reads a large blob in parallel ranges, and resumes a cut connection from the byte it reached", async () => {
    const big = randomBytes(12 * 1024 * 1024);
    await put("ranged/big.bin", big, { md5: createHash("md5").update(big).digest() });
    proxy.fault("/fmcmodels/models/ranged/big.bin", { kind: "cut", afterBytes: 300_000 });
    const dest = join(work, "ranged");
    const run = await cli(hydrateArgs("ranged", dest, "--chunk-size", "1Mi", "--concurrency", "4"), env());
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(big)).toBe(true);
    const gets = getsOf("ranged/big.bin");
    const ranges = new Set(gets.map((g) => g.range));
    // Twelve 1 MiB chunks, each its own ranged GET, plus the rest of the one that was cut.
    expect(ranges.size).toBe(13);
    expect(gets.every((g) => /^bytes=\d+-\d+$/.test(g.range ?? ""))).toBe(true);
    const retried = gets.find(
      (g) => /^bytes=(\d+)-/.exec(g.range ?? "")?.[1] !== undefined && Number(/^bytes=(\d+)-/.exec(g.range ?? "")?.[1]) % (1024 * 1024) !== 0,
    );
    expect(retried, "the cut chunk is asked again from where it stopped, not from its start").toBeDefined();
    expect(run.out).toMatch(/"event":"retry"/);
  });

  it("a 503 with Retry-After (the service busy) is retried no sooner than it asks", async () => {
    const body = randomBytes(300_000);
    await put("busy/model.bin", body);
    proxy.fault("/fmcmodels/models/busy/model.bin", { kind: "status", status: 503, retryAfter: "2" });
    const dest = join(work, "busy");
    const run = await cli(hydrateArgs("busy", dest), env());
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "model.bin"))).equals(body)).toBe(true);
    const gets = proxy.requests.filter((r) => r.method === "GET" && r.path === "/fmcmodels/models/busy/model.bin");
    expect(gets.map((g) => g.outcome)).toEqual(["status", "forwarded"]);
    expect((gets[1]?.at ?? 0) - (gets[0]?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(run.out).toMatch(/"event":"retry"[^\n]*"reason":"Retry-After 2s"/);
  });

  /** Starts a hydrate, kills it with SIGKILL once `minChunks` chunks of `name` are durable; returns them. */
  async function killMidway(args: string[], dest: string, name: string, minChunks: number): Promise<number[]> {
    const child = spawn(process.execPath, [BIN, ...args, "--concurrency", "1"], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...env() },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let done: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      done = await durableChunks(dest, `${name}@`);
      if (done.length >= minChunks) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    expect(await exited, "the first run finished before it could be killed").toBe(null);
    expect(done.length).toBeGreaterThanOrEqual(minChunks);
    return done;
  }

  it("resumes after kill -9 from the chunks already on disk", async () => {
    const big = randomBytes(16 * 1024 * 1024);
    await put("resume/big.bin", big, {});
    const dest = join(work, "resume");
    const args = hydrateArgs("resume", dest, "--chunk-size", "64Ki");
    const done = await killMidway(args, dest, "resume/big.bin", 4);
    const before = getsOf("resume/big.bin").length;
    const run = await cli(args, env());
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(big)).toBe(true);
    const gets = getsOf("resume/big.bin").length - before;
    expect(gets).toBeGreaterThan(0);
    expect(gets).toBeLessThanOrEqual(Math.ceil(big.length / (64 * 1024)) - done.length);
  });

  it("never splices two generations of a blob overwritten between a kill and the resume", async () => {
    const dest = join(work, "regen");
    const args = hydrateArgs("regen", dest, "--chunk-size", "64Ki");
    await put("regen/big.bin", randomBytes(16 * 1024 * 1024), {});
    await killMidway(args, dest, "regen/big.bin", 4);
    const second = randomBytes(16 * 1024 * 1024);
    await put("regen/big.bin", second, {});
    const run = await cli(args, env());
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(second)).toBe(true);
    expect(spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dest }).status).toBe(0);
  });

  it("refuses a blob whose bytes do not match its Content-MD5, and publishes nothing", async () => {
    const body = randomBytes(2 * 1024 * 1024);
    // A block list keeps the Content-MD5 its uploader gave, as Azure does: here the MD5 of other bytes.
    await put("md5/model.bin", body, { md5: createHash("md5").update("other bytes").digest() });
    await put("md5/config.json", Buffer.from("{}\n"));
    const dest = join(work, "md5");
    const run = await cli(hydrateArgs("md5", dest), env());
    expect(run.code, run.out).toBe(3);
    expect(run.out).toContain("model.bin");
    expect(run.out).toMatch(/md5 mismatch/i);
    expect(existsSync(join(dest, "model.bin"))).toBe(false);
    expect(existsSync(join(dest, "config.json")), "nothing half-verified is published").toBe(false);
  });

  it("catches bytes corrupted on the service's disk: the Content-MD5 it computed at upload no longer matches", async () => {
    const marker = randomBytes(32);
    const body = Buffer.concat([marker, randomBytes(256 * 1024)]);
    await put("rot/model.bin", body);
    // Flip one byte in Azurite's extent file behind its back (the blob's stored Content-MD5 stays).
    const extents = join(az.dataDir, "__blobstorage__");
    let flipped = false;
    for (const f of await readdir(extents, { recursive: true })) {
      const path = join(extents, f);
      const bytes = await readFile(path).catch(() => undefined);
      const at = bytes?.indexOf(marker) ?? -1;
      if (bytes === undefined || at < 0) continue;
      bytes[at + 1000] = (bytes[at + 1000] as number) ^ 0xff;
      await writeFile(path, bytes);
      flipped = true;
    }
    expect(flipped, "the blob's bytes were found in Azurite's extents").toBe(true);
    const dest = join(work, "rot");
    const run = await cli(hydrateArgs("rot", dest), env());
    expect(run.code, run.out).toBe(3);
    expect(run.out).toMatch(/md5 mismatch/i);
    expect(existsSync(join(dest, "model.bin"))).toBe(false);
  });

  it("a blob changed after another cluster pinned the prefix: the pinned manifest is refused, clearly, before anything is published", async () => {
    await put("pinned/model.bin", Buffer.from("the bytes the first cluster verified\n"));
    const first = join(work, `pinned-${++n}`);
    const a = await cli(hydrateArgs("pinned", first), env());
    expect(a.code, a.out).toBe(0);
    const pinned = /"manifestDigest":"(sha256:[0-9a-f]{64})"/.exec(a.out)?.[1] as string;
    expect(pinned).toBeDefined();

    await put("pinned/model.bin", Buffer.from("new bytes, written after the pin\n"));
    const second = join(work, `pinned-${++n}`);
    const b = await cli(hydrateArgs("pinned", second, "--expect-manifest-digest", pinned), env());
    expect(b.code, b.out).toBe(3);
    expect(b.out).toContain(`expected ${pinned}`);
    expect(existsSync(join(second, "model.bin")), "the new bytes are not published").toBe(false);
    expect((await readFile(join(first, "model.bin"), "utf8")).startsWith("the bytes the first cluster verified")).toBe(true);
  });

  it("fails with a permanent error naming the cause, never the key, when the key is wrong", async () => {
    const wrong = randomBytes(64).toString("base64");
    const run = await cli(hydrateArgs("qwen", join(work, "denied")), { AZURE_STORAGE_KEY: wrong });
    expect(run.code).toBe(3);
    expect(run.out).toMatch(/(AuthenticationFailed|AuthorizationFailure) \(403\)/);
    expect(run.out).toContain("azure://fmcmodels/models/");
    expect(run.out).not.toContain(wrong);
  });
});
