// The hub stand-in is only worth its tests if the real client accepts it:
// huggingface_hub from PyPI (scripts/ensure-python-hf.sh) downloads a repo
// from it with HF_ENDPOINT pointed at it, by branch and by commit, with a
// token, with patterns, and gets the exact bytes.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHubStandin, type HubStandin } from "../support/hf-hub-standin.ts";
import { ensureTool } from "../support/s3-server.ts";

let hub: HubStandin;
let python: string;
let work: string;
let commit: string;
const REPO = "acme/standin-check";
const files: Record<string, Buffer> = {
  "config.json": Buffer.from('{"a":1}\n'),
  "weights/model.safetensors": randomBytes(1024 * 1024 + 5),
  "tokenizer/vocab.txt": Buffer.from("a\nb\nc\n"),
};

beforeAll(async () => {
  python = ensureTool("ensure-python-hf.sh");
  hub = await startHubStandin();
  ({ commit } = hub.addRepo(
    REPO,
    Object.entries(files).map(([path, content]) => ({ path, content })),
    { branches: ["main", "v1"] },
  ));
  work = await mkdtemp(join(tmpdir(), "fmc-standin-"));
});

afterAll(async () => {
  await hub?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/**
 * Runs Python asynchronously: the stand-in serves from this very process, so a
 * spawnSync would block the event loop it answers on and the client would time out.
 */
function py(code: string, env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-c", code], {
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_HUB_DISABLE_TELEMETRY: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, out: out.trim(), err });
    });
  });
}

describe("the real huggingface_hub client against the hub stand-in", () => {
  it("snapshot_download by branch fetches every file, writes refs/<branch> = the commit", async () => {
    const cache = join(work, "c1");
    const r = await py(`from huggingface_hub import snapshot_download\nprint(snapshot_download("${REPO}", revision="v1", cache_dir="${cache}"))`);
    expect(r.status, r.err).toBe(0);
    expect(r.out).toBe(join(cache, "models--acme--standin-check", "snapshots", commit));
    for (const [p, content] of Object.entries(files)) expect((await readFile(join(r.out, p))).equals(content), p).toBe(true);
    expect(await readFile(join(cache, "models--acme--standin-check", "refs", "v1"), "utf8")).toBe(commit);
  });

  it("hf_hub_download by commit with a token (refused without one) gets the exact bytes", async () => {
    const token = `hf_${randomBytes(8).toString("hex")}`;
    hub.setToken(token);
    try {
      const cache = join(work, "c2");
      const denied = await py(`from huggingface_hub import hf_hub_download\nhf_hub_download("${REPO}", "config.json", cache_dir="${cache}")`);
      expect(denied.status).not.toBe(0);
      // Refused by the stand-in's auth (401), not by some other failure.
      expect(denied.err).toMatch(/401/);
      const r = await py(
        `from huggingface_hub import hf_hub_download\nprint(hf_hub_download("${REPO}", "weights/model.safetensors", revision="${commit}", cache_dir="${cache}"))`,
        { HF_TOKEN: token },
      );
      expect(r.status, r.err).toBe(0);
      expect((await readFile(r.out)).equals(files["weights/model.safetensors"] as Buffer)).toBe(true);
    } finally {
      hub.setToken(undefined);
    }
  });

  it("list_repo_tree and allow_patterns see the same files and LFS sha256 the hydrator reads", async () => {
    const r = await py(
      [
        "import json",
        "from huggingface_hub import HfApi, snapshot_download",
        `t = [dict(path=f.path, size=f.size, lfs=(f.lfs.sha256 if f.lfs else None)) for f in HfApi().list_repo_tree("${REPO}", recursive=True) if hasattr(f, "blob_id")]`,
        `p = snapshot_download("${REPO}", allow_patterns=["tokenizer/*"], cache_dir="${join(work, "c3")}")`,
        "import os",
        "got = sorted(os.path.relpath(os.path.join(a, f), p) for a, _, fs in os.walk(p) for f in fs)",
        "print(json.dumps({'tree': sorted(t, key=lambda x: x['path']), 'got': got}))",
      ].join("\n"),
    );
    expect(r.status, r.err).toBe(0);
    const res = JSON.parse(r.out) as { tree: { path: string; size: number; lfs: string | null }[]; got: string[] };
    expect(res.tree.map((t) => t.path)).toEqual(Object.keys(files).sort());
    const lfs = res.tree.find((t) => t.path === "weights/model.safetensors");
    expect(lfs?.lfs).toMatch(/^[0-9a-f]{64}$/);
    expect(res.got).toEqual(["tokenizer/vocab.txt"]);
  });
});
