// End to end: `function-model-cache hydrate --source s3://...` from a real
// S3 server (versitygw) into a directory that the real `sha256sum -c` and
// `function-model-cache verify` accept; a corrupted object and a wrong key fail.
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT } from "../support/function-server.ts";
import { startS3Server, type S3Server } from "../support/s3-server.ts";
import { durableChunks, objectStoreModel, runCliIsolated as cli } from "../support/hydrator.ts";

const files = objectStoreModel();

let server: S3Server;
let work: string;

beforeAll(async () => {
  server = await startS3Server();
  work = await mkdtemp(join(tmpdir(), "fmc-s3-hydrate-"));
  const admin = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  await admin.send(new CreateBucketCommand({ Bucket: "models" }));
  await admin.send(new PutBucketVersioningCommand({ Bucket: "models", VersioningConfiguration: { Status: "Enabled" } }));
  for (const [path, body] of Object.entries(files)) {
    for (const prefix of ["qwen", "victim"]) {
      await admin.send(
        new PutObjectCommand({
          Bucket: "models",
          Key: `${prefix}/${path}`,
          Body: body,
          ChecksumSHA256: createHash("sha256").update(body).digest("base64"),
        }),
      );
    }
  }
  admin.destroy();
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function getObjectCount(log: string, key: string): Promise<number> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text.split("\n").filter((l) => l.includes(` s3_GetObject ${key} `)).length;
}

describe("hydrate from S3 end to end", () => {
  it("hydrates a multi-file prefix that sha256sum -c and verify accept", async () => {
    const dest = join(work, "qwen");
    const run = await cli(["hydrate", "--source", "s3://models/qwen", "--endpoint", server.endpoint, "--dest", dest, "--progress", "json"], server.env());
    expect(run.out).not.toContain(server.secretAccessKey);
    expect(run.code, run.out).toBe(0);
    for (const [path, body] of Object.entries(files)) expect((await readFile(join(dest, path))).equals(body)).toBe(true);
    const sums = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dest, encoding: "utf8" });
    expect(sums.status, sums.stdout + sums.stderr).toBe(0);
    expect(sums.stdout.trim().split("\n").sort()).toEqual(
      Object.keys(files)
        .map((p) => `${p}: OK`)
        .sort(),
    );
    const verify = await cli(["verify", dest], {});
    expect(verify.code, verify.out).toBe(0);
  });

  it("refuses an object whose bytes no longer match its S3 SHA256 checksum", async () => {
    const backing = join(server.dataDir, "models", "victim", "model-00002-of-00002.safetensors");
    const bytes = await readFile(backing);
    bytes[4242] = (bytes[4242] as number) ^ 0x80;
    await writeFile(backing, bytes);
    const dest = join(work, "victim");
    const run = await cli(["hydrate", "--source", "s3://models/victim", "--endpoint", server.endpoint, "--dest", dest], server.env());
    expect(run.code).not.toBe(0);
    expect(run.out).toContain("model-00002-of-00002.safetensors");
    expect(run.out).toMatch(/mismatch/i);
    // Nothing half-verified is published.
    const published = await readdir(dest).catch(() => [] as string[]);
    expect(published).not.toContain("model-00002-of-00002.safetensors");
  });

  /** Starts a hydrate, kills it with SIGKILL once `minChunks` chunks of `key` are durable; returns them. */
  async function killMidway(args: string[], dest: string, key: string, minChunks: number): Promise<number[]> {
    const child = spawn(process.execPath, [BIN, ...args, "--concurrency", "1"], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...server.env() },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let done: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      done = await durableChunks(dest, `${key}@`);
      if (done.length >= minChunks) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    expect(await exited, "the first run finished before it could be killed").toBe(null);
    expect(done.length).toBeGreaterThanOrEqual(minChunks);
    return done;
  }

  async function putPlain(key: string, body: Buffer): Promise<void> {
    const admin = new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    });
    await admin.send(new PutObjectCommand({ Bucket: "models", Key: key, Body: body }));
    admin.destroy();
  }

  it("resumes after kill -9 from the chunks already on disk", async () => {
    const big = randomBytes(24 * 1024 * 1024);
    await putPlain("resume/big.bin", big);
    const dest = join(work, "resume");
    const args = ["hydrate", "--source", "s3://models/resume", "--endpoint", server.endpoint, "--dest", dest, "--chunk-size", "64Ki"];
    const done = await killMidway(args, dest, "resume/big.bin", 4);
    const before = await getObjectCount(server.accessLog, "resume/big.bin");
    const run = await cli(args, server.env());
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(big)).toBe(true);
    const gets = (await getObjectCount(server.accessLog, "resume/big.bin")) - before;
    expect(gets).toBeGreaterThan(0);
    expect(gets).toBeLessThanOrEqual(Math.ceil(big.length / (64 * 1024)) - done.length);
  });

  it("never splices two generations of an object overwritten between a kill and the resume", async () => {
    const dest = join(work, "regen");
    const args = ["hydrate", "--source", "s3://models/regen", "--endpoint", server.endpoint, "--dest", dest, "--chunk-size", "64Ki"];
    await putPlain("regen/big.bin", randomBytes(24 * 1024 * 1024));
    await killMidway(args, dest, "regen/big.bin", 4);
    const second = randomBytes(24 * 1024 * 1024);
    await putPlain("regen/big.bin", second);
    const run = await cli(args, server.env());
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(second)).toBe(true);
    expect(spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dest }).status).toBe(0);
  });

  it("fails with a permanent error naming the cause, never the secret, when the key is wrong", async () => {
    const env = { ...server.env(), AWS_SECRET_ACCESS_KEY: "wrong-secret-value-123" };
    const run = await cli(["hydrate", "--source", "s3://models/qwen", "--endpoint", server.endpoint, "--dest", join(work, "denied")], env);
    expect(run.code).toBe(3);
    expect(run.out).toContain("SignatureDoesNotMatch");
    expect(run.out).toContain("s3://models/");
    expect(run.out).not.toContain("wrong-secret-value-123");
  });
});
