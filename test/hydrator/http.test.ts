// http(s):// end to end through the real CLI against real nginx (Debian's
// package, started by the test): one file pinned with --sha256, a file list
// (--files), ranged chunks as nginx logs them, kill -9 and resume, the re-run
// that makes no request, and the faults nginx cannot make on demand (a
// connection cut mid-file, a 429 with Retry-After) through a small
// fault-injecting proxy in front of it (test/support/fault-proxy.ts).
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Manifest } from "../../functions/hydrator/manifest.ts";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.ts";
import { durableChunks, runCli, sha256sumCheck, spawnCli } from "../support/hydrator.ts";
import { startNginx, type Nginx } from "../support/nginx.ts";

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

const served: Record<string, Buffer> = {
  "single.bin": randomBytes(3 * 1024 * 1024 + 17),
  "a.json": Buffer.from('{"model_type":"llama"}\n'),
  "weights/w1.bin": randomBytes(2 * 1024 * 1024 + 5),
  "weights/w2.bin": randomBytes(1024 * 1024 + 3),
  "slow.bin": randomBytes(4 * 1024 * 1024),
  "cut.bin": randomBytes(1024 * 1024),
  "r429.bin": randomBytes(200_000),
};
// Served with one byte flipped: what a bad disk, proxy or mirror delivers.
const original = randomBytes(1024 * 1024);
const corrupted = Buffer.from(original);
corrupted[500_000] = (corrupted[500_000] as number) ^ 0x01;

let nginx: Nginx;
let proxy: FaultProxy;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fmc-http-"));
  const root = join(work, "www");
  for (const [p, content] of [...Object.entries(served), ["corrupt.bin", corrupted] as const]) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), content);
  }
  nginx = await startNginx(root, { slowRate: "192k" });
  proxy = await startFaultProxy(nginx.url);
});

afterAll(async () => {
  await proxy?.stop();
  await nginx?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

let n = 0;
const fresh = (): string => join(work, `dest${++n}`);

/** nginx's access log lines for `uri` since line `from`: "<method> <uri> <status> <range> <OK if sent in full>". */
async function logged(uri: string, from = 0): Promise<{ method: string; status: string; range: string; complete: boolean }[]> {
  return (await nginx.requests())
    .slice(from)
    .map((l) => l.split(" "))
    .filter((f) => f[1] === uri)
    .map((f) => ({ method: f[0] ?? "", status: f[2] ?? "", range: f[3] ?? "", complete: f[4] === "OK" }));
}

const rangeStart = (r: string): number => Number(/^bytes=(\d+)-/.exec(r)?.[1] ?? NaN);

describe("http:// against nginx", () => {
  it("hydrates one file pinned with --sha256; sha256sum -c and verify accept it; a re-run makes no request", async () => {
    const d = fresh();
    const file = served["single.bin"] as Buffer;
    const r = await runCli(["--source", `${nginx.url}/single.bin`, "--sha256", sha(file), "--dest", d, "--progress", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.phase).toBe("Ready");
    expect((await readFile(join(d, "single.bin"))).equals(file)).toBe(true);
    expect(sha256sumCheck(d).trim()).toBe("single.bin: OK");
    const manifest = Manifest.parse(JSON.parse(await readFile(join(d, ".model-cache", "manifest.json"), "utf8")));
    expect(manifest.files).toEqual([{ path: "single.bin", size: file.length, sha256: sha(file) }]);
    const v = await runCli(["verify", d, "--expect-manifest-digest", manifest.digest, "--progress", "none"]);
    expect(v.code, v.stderr).toBe(0);

    const before = (await nginx.requests()).length;
    const again = await runCli(["--source", `${nginx.url}/single.bin`, "--sha256", sha(file), "--dest", d, "--progress", "none"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.report.message).toMatch(/nothing fetched/);
    // Not even a HEAD: the destination's own manifest and bytes answered.
    expect((await nginx.requests()).slice(before)).toEqual([]);
  });

  it("a corrupted byte (the bytes do not match --sha256) fails permanently (exit 3), names the file and the pin, publishes nothing", async () => {
    const d = fresh();
    const from = (await nginx.requests()).length;
    const r = await runCli(["--source", `${nginx.url}/corrupt.bin`, "--sha256", sha(original), "--dest", d, "--progress", "json"]);
    expect(r.code).toBe(3);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toBe(
      `${nginx.url}/corrupt.bin: the file's sha256 is ${sha(corrupted)}, not ${sha(original)} as pinned with --sha256: the pin is wrong or the server holds other bytes`,
    );
    // The user's own pin: fetching again gives the same bytes, so once only (a digest the source vouches for is fetched twice).
    expect(r.events.some((e) => e["event"] === "retry")).toBe(false);
    expect((await logged("/corrupt.bin", from)).filter((l) => l.method === "GET")).toHaveLength(1);
    await expect(stat(d), "nothing published, and the --dest this run created is gone").rejects.toThrow(/ENOENT/);
  });

  it("hydrates a --files list (each with sha256) in ranged chunks nginx logs as 206s; sha256sum -c and verify accept it", async () => {
    const d = fresh();
    const list = join(work, "files.json");
    const w1 = served["weights/w1.bin"] as Buffer;
    await writeFile(
      list,
      JSON.stringify([
        { url: `${nginx.url}/a.json`, path: "config.json", sha256: sha(served["a.json"] as Buffer) },
        { url: `${nginx.url}/weights/w1.bin`, path: "weights/w1.bin", sha256: sha(w1) },
        // No path: the URL's last segment.
        { url: `${nginx.url}/weights/w2.bin`, sha256: sha(served["weights/w2.bin"] as Buffer) },
      ]),
    );
    const from = (await nginx.requests()).length;
    const chunk = 256 * 1024;
    const r = await runCli(["--files", list, "--dest", d, "--chunk-size", "256Ki", "--concurrency", "4", "--progress", "none"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.filesDone).toBe(3);
    expect((await readFile(join(d, "config.json"))).equals(served["a.json"] as Buffer)).toBe(true);
    expect((await readFile(join(d, "weights/w1.bin"))).equals(w1)).toBe(true);
    expect((await readFile(join(d, "w2.bin"))).equals(served["weights/w2.bin"] as Buffer)).toBe(true);
    expect(sha256sumCheck(d).trim().split("\n").sort()).toEqual(["config.json: OK", "w2.bin: OK", "weights/w1.bin: OK"]);
    expect((await runCli(["verify", d, "--progress", "none"])).code).toBe(0);

    // w1.bin came as exactly its 256 KiB chunks, each a 206 from nginx.
    const gets = (await logged("/weights/w1.bin", from)).filter((q) => q.method === "GET");
    const want = Array.from({ length: Math.ceil(w1.length / chunk) }, (_, i) => `bytes=${i * chunk}-${Math.min(w1.length, (i + 1) * chunk) - 1}`);
    expect(gets.map((q) => q.range).sort()).toEqual(want.sort());
    expect(gets.every((q) => q.status === "206" && q.complete)).toBe(true);
  });

  it("resumes after kill -9 fetching only the ranges not yet durable", async () => {
    const d = fresh();
    const file = served["slow.bin"] as Buffer;
    const chunk = 256 * 1024;
    // /slow/ sends 192 KiB of each request at once and paces the rest: each 256 KiB chunk takes ~1/3 s, the file
    // ~5 s one at a time, long enough to kill it mid-way.
    const args = ["--source", `${nginx.url}/slow/slow.bin`, "--sha256", sha(file), "--dest", d, "--chunk-size", "256Ki", "--progress", "json"];
    const run = spawnCli([...args, "--concurrency", "1"]);
    let doneAtKill: number[] = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && doneAtKill.length < 3) {
      await new Promise((res) => setTimeout(res, 100));
      doneAtKill = await durableChunks(d, "slow.bin");
    }
    run.child.kill("SIGKILL");
    expect(await run.exited).toBe(null);
    expect(doneAtKill.length, run.output()).toBeGreaterThanOrEqual(3);
    // What the killed run recorded is at least what we saw (it may have recorded one more before dying).
    const recorded = await durableChunks(d, "slow.bin");
    expect(recorded).toEqual(expect.arrayContaining(doneAtKill));
    await expect(stat(join(d, "slow.bin"))).rejects.toThrow();

    const from = (await nginx.requests()).length;
    const r = await runCli([...args, "--concurrency", "4"]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(d, "slow.bin"))).equals(file)).toBe(true);
    sha256sumCheck(d);
    // Complete responses only: nginx logs the killed run's request in flight when it notices the dead
    // client, which can be after `from`.
    const starts = (await logged("/slow/slow.bin", from)).filter((q) => q.method === "GET" && q.complete).map((q) => rangeStart(q.range));
    // No durable chunk is asked for again; every missing one exactly once.
    const total = Math.ceil(file.length / chunk);
    const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !recorded.includes(i));
    expect(starts.sort((a, b) => a - b)).toEqual(missing.map((i) => i * chunk));
  });
});

describe("http:// faults through a fault-injecting proxy in front of nginx", () => {
  it("a connection cut mid-file resumes from the byte it reached (nginx sees the second Range start there)", async () => {
    const file = served["cut.bin"] as Buffer;
    proxy.fault("/cut.bin", { kind: "cut", afterBytes: 300_000 });
    const from = (await nginx.requests()).length;
    const d = fresh();
    // One chunk for the whole file: the resume shows in that chunk's Range.
    const r = await runCli(["--source", `${proxy.url}/cut.bin`, "--sha256", sha(file), "--dest", d, "--chunk-size", "8Mi", "--progress", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(d, "cut.bin"))).equals(file)).toBe(true);
    sha256sumCheck(d);
    expect(proxy.requests.filter((q) => q.path === "/cut.bin" && q.outcome === "cut")).toHaveLength(1);
    expect(r.events.some((e) => e["event"] === "retry" && e["file"] === "cut.bin")).toBe(true);
    const gets = (await logged("/cut.bin", from)).filter((q) => q.method === "GET");
    expect(gets).toHaveLength(2);
    expect(gets[0]?.range).toBe(`bytes=0-${file.length - 1}`);
    const resumedAt = rangeStart(gets[1]?.range ?? "");
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(300_000);
    expect(gets[1]?.range).toBe(`bytes=${resumedAt}-${file.length - 1}`);
  });

  it("a 429 with Retry-After: 2 is retried no sooner than 2 s later", async () => {
    const file = served["r429.bin"] as Buffer;
    proxy.fault("/r429.bin", { kind: "status", status: 429, retryAfter: "2" });
    const from = (await nginx.requests()).length;
    const d = fresh();
    const r = await runCli(["--source", `${proxy.url}/r429.bin`, "--sha256", sha(file), "--dest", d, "--progress", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(d, "r429.bin"))).equals(file)).toBe(true);
    const gets = proxy.requests.filter((q) => q.path === "/r429.bin" && q.method === "GET");
    expect(gets.map((q) => q.outcome)).toEqual(["status", "forwarded"]);
    expect((gets[1]?.at ?? 0) - (gets[0]?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(r.events.find((e) => e["event"] === "retry")?.["reason"]).toBe("Retry-After 2s");
    // The 429 never reached nginx; the retry did.
    expect((await logged("/r429.bin", from)).filter((q) => q.method === "GET")).toHaveLength(1);
  });

  it("a permanent failure of one file cancels the downloads still in flight instead of waiting for them", async () => {
    const slow = served["slow.bin"] as Buffer;
    const w2 = served["weights/w2.bin"] as Buffer;
    // The listing's HEAD succeeds; the download is refused (403 is not retried), 1.5 s in, while slow.bin streams.
    proxy.fault("/weights/w2.bin", { kind: "status", status: 403, delayMs: 1500 });
    const from = (await nginx.requests()).length;
    const d = fresh();
    const list = join(work, `files-${n}.json`);
    await writeFile(
      list,
      JSON.stringify([
        { url: `${proxy.url}/slow/slow.bin`, path: "slow.bin", sha256: sha(slow) },
        { url: `${proxy.url}/weights/w2.bin`, path: "w2.bin", sha256: sha(w2) },
      ]),
    );
    // One chunk per file, both in flight at once: the throttled one needs ~20 s at 192 KiB/s.
    const r = await runCli(["--files", list, "--dest", d, "--chunk-size", "8Mi", "--concurrency", "2", "--progress", "none"]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.report.message).toMatch(/w2\.bin/);
    expect(r.report.message).toMatch(/403/);
    // nginx logs the throttled GET when its connection ends: cut short, never sent in full.
    let gets: Awaited<ReturnType<typeof logged>> = [];
    for (let i = 0; i < 50 && gets.length === 0; i++) {
      gets = (await logged("/slow/slow.bin", from)).filter((q) => q.method === "GET");
      if (gets.length === 0) await new Promise((res) => setTimeout(res, 200));
    }
    expect(gets).toHaveLength(1);
    expect(gets[0]?.complete).toBe(false);
    expect(await readdir(d).catch(() => [])).not.toContain("slow.bin");
  });

  it("a 404 fails permanently (exit 3) naming the URL, publishing nothing", async () => {
    const d = fresh();
    const r = await runCli(["--source", `${nginx.url}/no-such.bin`, "--dest", d, "--progress", "none"]);
    expect(r.code).toBe(3);
    expect(r.report.message).toContain(`${nginx.url}/no-such.bin`);
    expect(r.report.message).toMatch(/404/);
    expect(r.report.permanent, "the report says the source's, so the function does not retry it").toBe("Source");
    expect(await readdir(d).catch(() => [])).not.toContain("no-such.bin");
  });
});
