// End to end: `function-model-cache hydrate --source gs://...` from a real
// Cloud Storage emulator (fake-gcs-server) into a directory that the real
// `sha256sum -c` and `function-model-cache verify` accept, compared with what
// the official @google-cloud/storage SDK reads from the emulator; a large
// object in parallel ranges, a resume after kill -9, an object corrupted at
// rest (caught by its crc32c/MD5: the service vouches for no SHA-256), the
// fleet's pin across an overwrite, and a service-account key that never
// shows in any output.
import { spawn, spawnSync } from "node:child_process";
import { createVerify, generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT } from "../support/function-server.ts";
import { mediaGets, startGcsServer, type GcsServer } from "../support/gcs-server.ts";
import { durableChunks, objectStoreModel, runCliIsolated as cli } from "../support/hydrator.ts";

const files = objectStoreModel();

let gcs: GcsServer;
let work: string;

const save = async (server: GcsServer, bucket: string, name: string, body: Buffer | string): Promise<void> => {
  await server.sdk.bucket(bucket).file(name).save(body, { resumable: false });
};

beforeAll(async () => {
  gcs = await startGcsServer("memory");
  work = await mkdtemp(join(tmpdir(), "fmc-gcs-hydrate-"));
  await gcs.sdk.createBucket("models", { versioning: { enabled: true } });
  for (const [path, body] of Object.entries(files)) await save(gcs, "models", `qwen/${path}`, body);
}, 900_000);

afterAll(async () => {
  await gcs?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const report = (out: string): Record<string, unknown> => {
  const last = out
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .at(-1);
  return JSON.parse(last ?? "{}") as Record<string, unknown>;
};

describe("hydrate from Cloud Storage end to end", () => {
  it("hydrates a multi-file prefix byte for byte as the SDK reads it, which sha256sum -c and verify accept", async () => {
    const dest = join(work, "qwen");
    const run = await cli(["hydrate", "--source", "gs://models/qwen", "--endpoint", gcs.endpoint, "--dest", dest, "--progress", "json"], {});
    expect(run.code, run.out).toBe(0);
    expect(report(run.out)["resolvedRevision"]).toMatch(/^generations:[0-9]+:sha256:[0-9a-f]{64}$/);
    for (const path of Object.keys(files)) {
      const [sdk] = await gcs.sdk.bucket("models").file(`qwen/${path}`).download();
      expect((await readFile(join(dest, path))).equals(sdk), path).toBe(true);
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
  });

  it("reads a large object in parallel byte ranges, one request per chunk", async () => {
    const big = randomBytes(24 * 1024 * 1024);
    await save(gcs, "models", "large/big.bin", big);
    const before = mediaGets(gcs, "models", "large/big.bin");
    const dest = join(work, "large");
    const args = ["hydrate", "--source", "gs://models/large/big.bin", "--endpoint", gcs.endpoint, "--dest", dest];
    const run = await cli([...args, "--chunk-size", "1Mi", "--concurrency", "8"], {});
    expect(run.code, run.out).toBe(0);
    // 24 requests of 1 MiB, each a 206 (partial content): the emulator's access log says so.
    expect(mediaGets(gcs, "models", "large/big.bin") - before).toBe(24);
    const ranged = gcs
      .output()
      .split("\n")
      .filter((l) => l.includes("GET /storage/v1/b/models/o/large%2Fbig.bin?alt=media") && l.includes('" 206 '));
    expect(ranged).toHaveLength(24);
    const [sdk] = await gcs.sdk.bucket("models").file("large/big.bin").download();
    expect((await readFile(join(dest, "big.bin"))).equals(sdk)).toBe(true);
  });

  /** Starts a hydrate, kills it with SIGKILL once `minChunks` chunks of `name` are durable; returns them. */
  async function killMidway(args: string[], dest: string, name: string, minChunks: number): Promise<number[]> {
    const child = spawn(process.execPath, [BIN, ...args, "--concurrency", "1"], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp" },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let done: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      done = await durableChunks(dest, `${name}#`);
      if (done.length >= minChunks) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    expect(await exited, "the first run finished before it could be killed").toBe(null);
    expect(done.length).toBeGreaterThanOrEqual(minChunks);
    return done;
  }

  it("resumes after kill -9 from the chunks already on disk, asking only for the rest", async () => {
    const big = randomBytes(24 * 1024 * 1024);
    await save(gcs, "models", "resume/big.bin", big);
    const dest = join(work, "resume");
    const args = ["hydrate", "--source", "gs://models/resume", "--endpoint", gcs.endpoint, "--dest", dest, "--chunk-size", "64Ki"];
    const done = await killMidway(args, dest, "resume/big.bin", 4);
    const before = mediaGets(gcs, "models", "resume/big.bin");
    const run = await cli(args, {});
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(big)).toBe(true);
    const gets = mediaGets(gcs, "models", "resume/big.bin") - before;
    expect(gets).toBeGreaterThan(0);
    expect(gets).toBeLessThanOrEqual(Math.ceil(big.length / (64 * 1024)) - done.length);
  });

  it("never splices two generations of an object overwritten between a kill and the resume", async () => {
    const dest = join(work, "regen");
    const args = ["hydrate", "--source", "gs://models/regen", "--endpoint", gcs.endpoint, "--dest", dest, "--chunk-size", "64Ki"];
    await save(gcs, "models", "regen/big.bin", randomBytes(24 * 1024 * 1024));
    await killMidway(args, dest, "regen/big.bin", 4);
    const second = randomBytes(24 * 1024 * 1024);
    await save(gcs, "models", "regen/big.bin", second);
    const run = await cli(args, {});
    expect(run.code, run.out).toBe(0);
    expect((await readFile(join(dest, "big.bin"))).equals(second)).toBe(true);
    expect(spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: dest }).status).toBe(0);
  });

  it("keeps the fleet's pin: a second cluster reads the generations the first verified after the prefix changed", async () => {
    await save(gcs, "models", "fleet/config.json", '{"v":1}\n');
    await save(gcs, "models", "fleet/weights.bin", randomBytes(300_000));
    const first = await cli(["hydrate", "--source", "gs://models/fleet", "--endpoint", gcs.endpoint, "--dest", join(work, "cluster-a")], {});
    expect(first.code, first.out).toBe(0);
    const { resolvedRevision: pin, manifestDigest } = report(first.out) as { resolvedRevision: string; manifestDigest: string };

    // The prefix changes under the fleet: an object overwritten, one added.
    await save(gcs, "models", "fleet/config.json", '{"v":2}\n');
    await save(gcs, "models", "fleet/extra.bin", "added later\n");

    // The second cluster's Job, as the function composes it from the fleet's pin.
    const dest = join(work, "cluster-b");
    const second = await cli(
      [
        "hydrate",
        "--source",
        "gs://models/fleet",
        "--endpoint",
        gcs.endpoint,
        "--gcs-generations",
        pin,
        "--expect-manifest-digest",
        manifestDigest,
        "--dest",
        dest,
      ],
      {},
    );
    expect(second.code, second.out).toBe(0);
    expect(report(second.out)).toMatchObject({ resolvedRevision: pin, manifestDigest });
    expect(await readFile(join(dest, "config.json"), "utf8")).toBe('{"v":1}\n');
    expect((await readdir(dest)).sort()).toEqual([".model-cache", "SHA256SUMS", "config.json", "weights.bin"]);

    // Unpinned, the same prefix is other bytes now.
    const fresh = await cli(["hydrate", "--source", "gs://models/fleet", "--endpoint", gcs.endpoint, "--dest", join(work, "cluster-c")], {});
    expect(fresh.code, fresh.out).toBe(0);
    expect(report(fresh.out)["manifestDigest"]).not.toBe(manifestDigest);
  });

  it("refuses a kind's flag with another kind's source, naming it", async () => {
    const run = await cli(
      ["hydrate", "--source", "s3://models/x", "--gcs-generations", "generations:1:sha256:" + "0".repeat(64), "--dest", join(work, "x")],
      {},
    );
    expect(run.code).toBe(2);
    expect(run.out).toContain("--gcs-generations applies to gs:// sources only");
  });
});

describe("Cloud Storage without versioning (the emulator's filesystem backend)", () => {
  let fs: GcsServer;
  beforeAll(async () => {
    fs = await startGcsServer("filesystem");
    await fs.sdk.createBucket("plain");
  }, 900_000);
  afterAll(async () => {
    await fs?.stop();
  });

  it("refuses an object whose bytes no longer match its crc32c and MD5, publishing nothing", async () => {
    const body = randomBytes(2 * 1024 * 1024);
    await save(fs, "plain", "victim/weights.bin", body);
    await save(fs, "plain", "victim/config.json", "{}\n");
    // Corrupted at rest: the stored object's metadata (its crc32c and MD5) still describes the original bytes.
    const backing = join(fs.root as string, "plain", "victim", "weights.bin");
    const bytes = await readFile(backing);
    bytes[4242] = (bytes[4242] as number) ^ 0x80;
    await writeFile(backing, bytes);
    const [meta] = await fs.sdk.bucket("plain").file("victim/weights.bin").getMetadata();
    expect(meta.crc32c).toBeDefined();
    const dest = join(work, "victim");
    const run = await cli(["hydrate", "--source", "gs://plain/victim", "--endpoint", fs.endpoint, "--dest", dest], {});
    expect(run.code, run.out).toBe(3);
    expect(run.out).toContain("weights.bin");
    expect(run.out).toMatch(/crc32c/i);
    expect(run.out).toMatch(/mismatch|does not match/i);
    const published = await readdir(dest).catch(() => [] as string[]);
    expect(published).not.toContain("weights.bin");
  });

  it("fails clearly when the pinned generation was overwritten and the bucket keeps no old generations", async () => {
    await save(fs, "plain", "gone/a.bin", "first\n");
    const first = await cli(["hydrate", "--source", "gs://plain/gone", "--endpoint", fs.endpoint, "--dest", join(work, "gone-a")], {});
    expect(first.code, first.out).toBe(0);
    const pin = report(first.out)["resolvedRevision"] as string;
    await save(fs, "plain", "gone/a.bin", "second\n");
    const dest = join(work, "gone-b");
    const run = await cli(["hydrate", "--source", "gs://plain/gone", "--endpoint", fs.endpoint, "--gcs-generations", pin, "--dest", dest], {});
    expect(run.code, run.out).toBe(3);
    expect(run.out).toContain(`the generations pinned for this cache (${pin}) are no longer all in the bucket`);
    expect(run.out).toContain("Enable Object Versioning");
    expect(await readdir(dest).catch(() => [] as string[])).not.toContain("a.bin");
  });
});

describe("a service-account key", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const TOKEN = "ya29.fmc-test-access-token-0123456789";
  let tokenServer: Server;
  let proxy: Server;
  let tokenUri: string;
  let proxyUrl: string;
  const exchanges: { assertion: string }[] = [];
  const authorizations: (string | undefined)[] = [];
  let refuse = false;

  const body = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve) => {
      let b = "";
      req.on("data", (d: Buffer) => (b += d.toString()));
      req.on("end", () => resolve(b));
    });

  beforeAll(async () => {
    // Google's token endpoint stands in here: it checks the assertion's signature with the key's public half.
    tokenServer = createServer((req, res) => {
      void body(req).then((b) => {
        const form = new URLSearchParams(b);
        const assertion = form.get("assertion") ?? "";
        exchanges.push({ assertion });
        const [h, c, sig] = assertion.split(".");
        const ok = createVerify("RSA-SHA256")
          .update(`${h}.${c}`)
          .verify(publicKey, sig ?? "", "base64url");
        res.setHeader("content-type", "application/json");
        if (refuse || !ok || form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
          res.statusCode = 400;
          res.end(JSON.stringify({ error: "invalid_grant", error_description: "Invalid JWT Signature." }));
          return;
        }
        res.end(JSON.stringify({ access_token: TOKEN, expires_in: 3599, token_type: "Bearer" }));
      });
    });
    // In front of the emulator (which accepts any request): records the Authorization each request carries.
    const up = new URL(gcs.endpoint);
    proxy = createServer((req, res) => {
      authorizations.push(req.headers.authorization);
      const fwd = request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(fwd);
    });
    for (const s of [tokenServer, proxy]) await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    tokenUri = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of [tokenServer, proxy]) await new Promise((resolve) => s?.close(resolve));
  });

  async function keyFile(name: string): Promise<string> {
    const path = join(work, name);
    const key = {
      type: "service_account",
      client_email: "hydrator@fmc-test.iam.gserviceaccount.com",
      private_key_id: "k1",
      private_key: pem,
      token_uri: tokenUri,
    };
    await writeFile(path, JSON.stringify(key));
    return path;
  }

  it("is exchanged once for a read-only token, sent with every request and never printed", async () => {
    const env = { GOOGLE_APPLICATION_CREDENTIALS: await keyFile("key.json") };
    exchanges.length = 0;
    authorizations.length = 0;
    const run = await cli(["hydrate", "--source", "gs://models/qwen", "--endpoint", proxyUrl, "--dest", join(work, "keyed"), "--progress", "json"], env);
    expect(run.code, run.out).toBe(0);
    expect(exchanges).toHaveLength(1);
    const claims = JSON.parse(Buffer.from(exchanges[0]?.assertion.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: "hydrator@fmc-test.iam.gserviceaccount.com",
      scope: "https://www.googleapis.com/auth/devstorage.read_only",
      aud: tokenUri,
    });
    expect(authorizations.length).toBeGreaterThan(Object.keys(files).length);
    expect(new Set(authorizations)).toEqual(new Set([`Bearer ${TOKEN}`]));
    for (const secret of [TOKEN, pem.split("\n")[1] as string, exchanges[0]?.assertion as string]) expect(run.out).not.toContain(secret);
  });

  it("refused by the token endpoint: a permanent failure naming the account and the reason, never the key", async () => {
    const env = { GOOGLE_APPLICATION_CREDENTIALS: await keyFile("refused.json") };
    refuse = true;
    try {
      const run = await cli(["hydrate", "--source", "gs://models/qwen", "--endpoint", proxyUrl, "--dest", join(work, "refused")], env);
      expect(run.code, run.out).toBe(3);
      expect(run.out).toContain("service account hydrator@fmc-test.iam.gserviceaccount.com");
      expect(run.out).toContain("HTTP 400 invalid_grant: Invalid JWT Signature.");
      expect(run.out).not.toContain(pem.split("\n")[1] as string);
    } finally {
      refuse = false;
    }
  });

  it("a file that is not a service-account key is a permanent failure naming the variable, never its content", async () => {
    const path = join(work, "user.json");
    await writeFile(path, JSON.stringify({ type: "authorized_user", client_id: "x", client_secret: "s3cr3t-value", refresh_token: "r" }));
    const run = await cli(["hydrate", "--source", "gs://models/qwen", "--endpoint", proxyUrl, "--dest", join(work, "user")], {
      GOOGLE_APPLICATION_CREDENTIALS: path,
    });
    expect(run.code, run.out).toBe(3);
    expect(run.out).toContain(`GOOGLE_APPLICATION_CREDENTIALS ${path}: a "authorized_user" credential; the gs:// source takes a service-account JSON key`);
    expect(run.out).not.toContain("s3cr3t-value");
  });
});
