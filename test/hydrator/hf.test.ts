// The hf:// source end to end through the real CLI against the hub stand-in:
// Flat and HuggingFaceCache layouts (read back offline by the real
// huggingface_hub client), include/exclude, tokens, pagination, the re-run
// that does no network I/O, and the fault tests (cut, 429 + Retry-After,
// stall, corrupted byte, kill -9 and resume).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Manifest } from "../../functions/hydrator/manifest.ts";
import { startHubStandin, type HubStandin } from "../support/hf-hub-standin.ts";
import { durableChunks, runCli, sha256sumCheck, spawnCli } from "../support/hydrator.ts";
import { ensureTool } from "../support/s3-server.ts";

let hub: HubStandin;
let work: string;
let python: string;
let commit: string;
const REPO = "acme/tiny-llm";
const files = {
  "config.json": Buffer.from('{"model_type":"llama","hidden_size":64}\n'),
  "tokenizer.json": Buffer.from(JSON.stringify({ vocab: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`t${i}`, i])) })),
  "model-00001-of-00002.safetensors": randomBytes(3 * 1024 * 1024 + 123),
  "model-00002-of-00002.safetensors": randomBytes(2 * 1024 * 1024 + 7),
  "model.safetensors.index.json": Buffer.from('{"weight_map":{}}\n'),
  "sub/dir/notes.txt": Buffer.from("nested file\n"),
  "README.md": Buffer.from("# tiny\n"),
};

beforeAll(async () => {
  python = ensureTool("ensure-python-hf.sh");
  hub = await startHubStandin();
  ({ commit } = hub.addRepo(
    REPO,
    Object.entries(files).map(([path, content]) => ({ path, content })),
  ));
  work = await mkdtemp(join(tmpdir(), "fmc-hf-"));
});

afterAll(async () => {
  await hub?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

beforeEach(() => {
  hub.clearFaults();
  hub.setToken(undefined);
  hub.pageSize = 1000;
});

let n = 0;
const dest = (): string => join(work, `d${++n}`);
const base = (d: string, extra: string[] = []): string[] => [
  "--source",
  `hf://${REPO}@main`,
  "--dest",
  d,
  "--endpoint",
  hub.endpoint,
  "--progress",
  "json",
  "--chunk-size",
  "256Ki",
  "--concurrency",
  "4",
  ...extra,
];

async function expectFlatContent(d: string, only?: string[]): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    if (only && !only.includes(p)) continue;
    expect((await readFile(join(d, p))).equals(content), p).toBe(true);
  }
}

function py(code: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync(python, ["-c", code], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

describe("hf:// Flat", () => {
  it("hydrates a multi-file repo at the resolved commit, passing sha256sum -c and verify", async () => {
    const d = dest();
    const r = await runCli(base(d));
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.phase).toBe("Ready");
    expect(r.report.resolvedRevision).toBe(commit);
    expect(r.report.filesDone).toBe(Object.keys(files).length);
    await expectFlatContent(d);
    expect(sha256sumCheck(d).trim().split("\n")).toHaveLength(Object.keys(files).length);
    const manifest = Manifest.parse(JSON.parse(await readFile(join(d, ".model-cache/manifest.json"), "utf8")));
    expect(manifest.identity).toEqual({ kind: "huggingFace", resolved: commit, huggingFace: { repo: REPO, commit } });
    expect(manifest.digest).toBe(r.report.manifestDigest);
    // Every download named the commit, never the branch.
    const downloads = hub.requests.filter((q) => q.path.includes("/resolve/"));
    expect(downloads.every((q) => q.path.includes(`/resolve/${commit}/`))).toBe(true);
    // The large files came in ranged chunks.
    expect(downloads.filter((q) => q.path.endsWith("model-00001-of-00002.safetensors")).length).toBeGreaterThan(1);
    const verify = await runVerify(d, manifest.digest);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it("a re-run on the complete destination makes no request at all", async () => {
    const d = dest();
    expect((await runCli(base(d))).code).toBe(0);
    const before = hub.requests.length;
    const again = await runCli(base(d));
    expect(again.code, again.stderr).toBe(0);
    expect(again.report.message).toMatch(/nothing fetched/);
    expect(hub.requests.length).toBe(before);
  });

  it("a pinned re-run with the expected digest (another cluster) also makes no request", async () => {
    const d = dest();
    const first = await runCli(base(d));
    const before = hub.requests.length;
    const pinned = await runCli([
      "--source",
      `hf://${REPO}@${commit}`,
      "--dest",
      d,
      "--endpoint",
      hub.endpoint,
      "--progress",
      "none",
      "--expect-manifest-digest",
      first.report.manifestDigest as string,
    ]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(hub.requests.length).toBe(before);
  });

  it("the same commit by branch or by SHA gives the same manifest digest", async () => {
    const a = await runCli(base(dest()));
    const b = await runCli(["--source", `hf://${REPO}@${commit}`, "--dest", dest(), "--endpoint", hub.endpoint, "--progress", "none"]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.report.manifestDigest).toBe(a.report.manifestDigest);
  });

  it("selects files with --include/--exclude (fnmatch rules, as huggingface_hub)", async () => {
    const d = dest();
    const r = await runCli(base(d, ["--include", "*.json", "--include", "sub/", "--exclude", "tokenizer*"]));
    expect(r.code, r.stderr).toBe(0);
    const listed = sha256sumCheck(d)
      .trim()
      .split("\n")
      .map((l) => l.replace(/: OK$/, ""))
      .sort();
    expect(listed).toEqual(["config.json", "model.safetensors.index.json", "sub/dir/notes.txt"]);
  });

  it("follows the paginated tree listing", async () => {
    hub.pageSize = 2;
    const d = dest();
    const r = await runCli(base(d));
    expect(r.code, r.stderr).toBe(0);
    await expectFlatContent(d);
    expect(hub.requests.filter((q) => q.path.includes("/tree/") && q.path.includes("cursor=")).length).toBeGreaterThan(2);
  });

  it("sends HF_TOKEN from the environment and never prints or records it", async () => {
    const token = `hf_${randomBytes(12).toString("hex")}`;
    hub.setToken(token);
    const denied = await runCli(base(dest()));
    expect(denied.code).toBe(3);
    expect(denied.report.phase).toBe("Failed");
    expect(denied.report.message).toMatch(/401/);
    expect(denied.report.permanent, "a refused credential is the source's, not retried by the function").toBe("Source");
    const d = dest();
    const ok = await runCli(base(d), { HF_TOKEN: token });
    expect(ok.code, ok.stderr).toBe(0);
    const manifest = await readFile(join(d, ".model-cache/manifest.json"), "utf8");
    for (const text of [ok.stdout, ok.stderr, denied.stdout, denied.stderr, manifest]) expect(text).not.toContain(token);
  });

  it("names the repo and revision when the revision does not exist (permanent: exit 3)", async () => {
    const r = await runCli(["--source", `hf://${REPO}@no-such-branch`, "--dest", dest(), "--endpoint", hub.endpoint, "--progress", "none"]);
    expect(r.code).toBe(3);
    expect(r.report.message).toContain(`hf://${REPO}@no-such-branch`);
    expect(r.report.message).toMatch(/404/);
  });
});

async function runVerify(d: string, digest?: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const r = spawnSync(
    process.execPath,
    [join(import.meta.dirname, "..", "..", "functions", "cli.ts"), "verify", d, "--progress", "none", ...(digest ? ["--expect-manifest-digest", digest] : [])],
    { encoding: "utf8" },
  );
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe("hf:// HuggingFaceCache layout", () => {
  it("is read offline by the real huggingface_hub client, and passes sha256sum -c and verify", async () => {
    const d = dest();
    const r = await runCli(base(d, ["--layout", "HuggingFaceCache"]));
    expect(r.code, r.stderr).toBe(0);
    const repoDir = join(d, "hub", "models--acme--tiny-llm");
    expect((await readFile(join(repoDir, "refs", "main"), "utf8")).trim()).toBe(commit);
    expect(await readdir(join(repoDir, "snapshots"))).toEqual([commit]);
    sha256sumCheck(d);
    expect((await runVerify(d, r.report.manifestDigest)).code).toBe(0);
    // The real client, offline, from the cache alone.
    const out = py(
      [
        "import json, os",
        "from huggingface_hub import snapshot_download, hf_hub_download",
        `p = snapshot_download("${REPO}", local_files_only=True, cache_dir=os.environ["CACHE"])`,
        `q = hf_hub_download("${REPO}", "model-00002-of-00002.safetensors", local_files_only=True, cache_dir=os.environ["CACHE"])`,
        "files = sorted(os.path.relpath(os.path.join(r, f), p) for r, _, fs in os.walk(p) for f in fs)",
        "print(json.dumps({'snapshot': p, 'file': q, 'files': files}))",
      ].join("\n"),
      { CACHE: join(d, "hub"), HF_HUB_OFFLINE: "1", HF_ENDPOINT: "http://127.0.0.1:9" },
    );
    const res = JSON.parse(out) as { snapshot: string; file: string; files: string[] };
    expect(res.snapshot).toBe(join(repoDir, "snapshots", commit));
    expect((await readFile(res.file)).equals(files["model-00002-of-00002.safetensors"])).toBe(true);
    expect(res.files).toEqual(Object.keys(files).sort());
    // HF_HOME=<dest> works as well (hub/ is where the client looks).
    const viaHome = py(`from huggingface_hub import snapshot_download\nprint(snapshot_download("${REPO}", local_files_only=True))`, {
      HF_HOME: d,
      HF_HUB_OFFLINE: "1",
    });
    expect(viaHome).toBe(join(repoDir, "snapshots", commit));
  });
});

describe("hf:// faults", () => {
  const BIG = "model-00001-of-00002.safetensors";

  it("resumes a file whose connection is cut mid-way, asking only for the rest", async () => {
    hub.fault(REPO, BIG, { kind: "cut", afterBytes: 100_000, times: 1 });
    const start = hub.requests.length;
    const d = dest();
    // One chunk for the whole file (chunk size above its size) makes the resume visible in the Range.
    const r = await runCli(base(d, ["--chunk-size", "8Mi"]));
    expect(r.code, r.stderr).toBe(0);
    await expectFlatContent(d);
    const gets = hub.requests.slice(start).filter((q) => q.method === "GET" && q.path.endsWith(BIG));
    expect(gets.length).toBe(2);
    const resumedFrom = Number(/^bytes=(\d+)-/.exec(gets[1]?.range ?? "")?.[1]);
    expect(resumedFrom).toBeGreaterThan(0);
    expect(r.events.some((e) => e["event"] === "retry" && e["file"] === BIG)).toBe(true);
  });

  it("waits as long as a 429's Retry-After says", async () => {
    hub.fault(REPO, "config.json", { kind: "status", status: 429, retryAfter: 2, times: 1 });
    const start = hub.requests.length;
    const r = await runCli(base(dest()));
    expect(r.code, r.stderr).toBe(0);
    const gets = hub.requests.slice(start).filter((q) => q.method === "GET" && q.path.endsWith("/config.json"));
    expect(gets).toHaveLength(2);
    // A lower bound only: the retry came no sooner than the server asked.
    expect((gets[1]?.at ?? 0) - (gets[0]?.at ?? 0)).toBeGreaterThanOrEqual(2000);
    expect(r.events.find((e) => e["event"] === "retry")?.["reason"]).toBe("Retry-After 2s");
  });

  it("gives up on a stalled connection after --stall-timeout and retries", async () => {
    hub.fault(REPO, BIG, { kind: "stall", afterBytes: 50_000, times: 1 });
    const d = dest();
    const r = await runCli(base(d, ["--stall-timeout", "1"]));
    expect(r.code, r.stderr).toBe(0);
    await expectFlatContent(d);
    expect(r.events.some((e) => e["event"] === "retry" && String(e["message"]).includes("stalled"))).toBe(true);
  });

  it("detects a corrupted byte, names the file, and publishes nothing", async () => {
    hub.fault(REPO, BIG, { kind: "corrupt", offset: 1_000_000 });
    const d = dest();
    const r = await runCli(base(d));
    expect(r.code).toBe(3);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toContain(BIG);
    expect(r.report.message).toMatch(/sha256 mismatch/);
    await expect(stat(join(d, ".model-cache/manifest.json"))).rejects.toThrow();
    await expect(stat(join(d, BIG))).rejects.toThrow();
  });

  it("resumes from disk after kill -9, fetching only the chunks not yet durable", async () => {
    hub.fault(REPO, BIG, { kind: "throttle", bytesPerSecond: 400_000 });
    const d = dest();
    const args = base(d, ["--concurrency", "1"]);
    const run = spawnCli(args);
    // Wait until the state file of the big file records at least two durable chunks.
    const deadline = Date.now() + 60_000;
    let doneAtKill: number[] = [];
    while (Date.now() < deadline) {
      doneAtKill = await durableChunks(d, BIG);
      if (doneAtKill.length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(doneAtKill.length, run.output()).toBeGreaterThanOrEqual(2);
    run.child.kill("SIGKILL");
    expect(await run.exited).toBe(null);
    hub.clearFaults();
    const start = hub.requests.length;
    const r = await runCli(base(d));
    expect(r.code, r.stderr).toBe(0);
    await expectFlatContent(d);
    sha256sumCheck(d);
    const starts = hub.requests
      .slice(start)
      .filter((q) => q.method === "GET" && q.path.endsWith(BIG))
      .map((q) => Number(/^bytes=(\d+)-/.exec(q.range ?? "")?.[1]));
    const chunk = 256 * 1024;
    for (const i of doneAtKill) expect(starts).not.toContain(i * chunk);
    expect(starts.length).toBeLessThanOrEqual(Math.ceil(files[BIG].length / chunk) - doneAtKill.length);
  });
});

describe("hf:// --refresh", () => {
  it("re-resolves a moved branch, fetching only the files that changed; without it, a re-run keeps what it has", async () => {
    const repo = "acme/moving";
    const weights = randomBytes(600 * 1024);
    const v1 = hub.addRepo(repo, [
      { path: "config.json", content: Buffer.from('{"v":1}\n') },
      { path: "w.safetensors", content: weights },
    ]);
    const d = dest();
    const args = ["--source", `hf://${repo}@main`, "--dest", d, "--endpoint", hub.endpoint, "--progress", "none"];
    expect((await runCli(args)).report.resolvedRevision).toBe(v1.commit);
    const v2 = hub.addRepo(repo, [
      { path: "config.json", content: Buffer.from('{"v":2}\n') },
      { path: "w.safetensors", content: weights },
    ]);

    const before = hub.requests.length;
    const kept = await runCli(args);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.report.resolvedRevision).toBe(v1.commit);
    expect(hub.requests.length).toBe(before);

    const refreshed = await runCli([...args, "--refresh"]);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.report.resolvedRevision).toBe(v2.commit);
    expect(await readFile(join(d, "config.json"), "utf8")).toBe('{"v":2}\n');
    const downloads = hub.requests.slice(before).filter((q) => q.method === "GET" && q.path.includes("/resolve/"));
    expect(downloads.map((q) => q.path.split("/").at(-1))).toEqual(["config.json"]);
    sha256sumCheck(d);
  });
});
