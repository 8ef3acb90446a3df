// Where files land per layout. HuggingFaceCache must be exactly what the hub
// client reads offline: hub/models--org--name/{blobs,snapshots/<commit>,refs/main}.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hfRepoFolder, place, type Placement } from "./layout.ts";
import { renderSums, type ManifestFile, type ManifestIdentity } from "./manifest.ts";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
const COMMIT = "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
const hfId: ManifestIdentity = { kind: "huggingFace", resolved: COMMIT, huggingFace: { repo: "Qwen/Qwen3-8B", commit: COMMIT } };
const contents: Record<string, string> = {
  "config.json": "{}",
  "model.safetensors": "weights",
  "original/params.json": "{}", // same bytes as config.json: one blob, two links
  "tokenizer/deep/vocab.txt": "a b c",
};
const files: ManifestFile[] = Object.entries(contents).map(([path, c]) => ({ path, size: Buffer.byteLength(c), sha256: sha(c) }));

function placed(...args: Parameters<typeof place>): Placement {
  const r = place(...args);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe("hfRepoFolder", () => {
  const cases: [repo: string, want: string, reason: string][] = [
    ["Qwen/Qwen3-8B", "models--Qwen--Qwen3-8B", "org and name joined by --, case kept"],
    ["meta-llama/Llama-3.1-8B", "models--meta-llama--Llama-3.1-8B", "dashes and dots inside names stay"],
    ["gpt2", "models--gpt2", "a legacy repo without an org"],
  ];
  it.each(cases)("%s -> %s (%s)", (repo, want, _reason) => {
    expect(hfRepoFolder(repo)).toBe(want);
  });
});

describe("Flat", () => {
  it("puts each file at its own path, no links, no extras, and lists each in SHA256SUMS", () => {
    const p = placed("Flat", files, { kind: "s3", resolved: "sha256:x" });
    expect(p.files).toEqual(files.map((f) => ({ artifactPath: f.path, destPath: f.path })));
    expect(p.links).toEqual([]);
    expect(p.extras).toEqual([]);
    expect(p.sums).toEqual(files.map((f) => ({ sha256: f.sha256, path: f.path })));
  });
});

describe("HuggingFaceCache", () => {
  const root = "hub/models--Qwen--Qwen3-8B";

  it("refuses a source without a Hugging Face repo and commit, saying why", () => {
    const r = place("HuggingFaceCache", files, { kind: "s3", resolved: "sha256:x" });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/HuggingFaceCache.*hf:\/\//);
  });

  it("stores each distinct content once under blobs/<sha256>", () => {
    const p = placed("HuggingFaceCache", files, hfId, "main");
    expect(p.files.map((f) => f.destPath).sort()).toEqual([...new Set(files.map((f) => `${root}/blobs/${f.sha256}`))].sort());
    expect(p.files).toHaveLength(3);
  });

  it("links every file under snapshots/<commit>/<path> with a relative target into blobs/", () => {
    const p = placed("HuggingFaceCache", files, hfId, "main");
    expect(p.links).toEqual([
      { destPath: `${root}/snapshots/${COMMIT}/config.json`, target: `../../blobs/${sha("{}")}` },
      { destPath: `${root}/snapshots/${COMMIT}/model.safetensors`, target: `../../blobs/${sha("weights")}` },
      { destPath: `${root}/snapshots/${COMMIT}/original/params.json`, target: `../../../blobs/${sha("{}")}` },
      { destPath: `${root}/snapshots/${COMMIT}/tokenizer/deep/vocab.txt`, target: `../../../../blobs/${sha("a b c")}` },
    ]);
  });

  it("lists the snapshot paths (not the blobs) in SHA256SUMS, one per file", () => {
    const p = placed("HuggingFaceCache", files, hfId, "main");
    expect(p.sums).toEqual(files.map((f) => ({ sha256: f.sha256, path: `${root}/snapshots/${COMMIT}/${f.path}` })));
  });

  const refs: [revision: string | undefined, want: string[], reason: string][] = [
    ["main", ["refs/main"], "the default branch"],
    [undefined, ["refs/main"], "no revision given"],
    [COMMIT, ["refs/main"], "a commit asked for directly (the fleet's pinned clusters): --model=<repo> must still resolve offline"],
    ["v1.0", ["refs/main", "refs/v1.0"], "a tag: refs/main too, so the first cluster (hydrated by tag) serves like the pinned ones"],
    ["refs/pr/1", ["refs/main", "refs/refs/pr/1"], "a pull-request ref is stored under refs/ as the hub client does"],
  ];
  it.each(refs)("revision %s writes %j holding the commit (%s)", (revision, want, _reason) => {
    const p = placed("HuggingFaceCache", files, hfId, revision);
    const refExtras = p.extras.filter((e) => e.destPath.startsWith(`${root}/refs/`));
    expect(refExtras.map((e) => e.destPath.slice(root.length + 1)).sort()).toEqual(want);
    for (const e of refExtras) expect(e.content).toBe(COMMIT);
  });

  it("writes the hub client's tree cache only when given the full listing", () => {
    expect(placed("HuggingFaceCache", files, hfId, "main").extras.some((e) => e.destPath.includes("/trees/"))).toBe(false);
    const tree = [
      { path: "config.json", size: 2, blobId: "0".repeat(40) },
      { path: "model.safetensors", size: 7, blobId: "1".repeat(40), lfsSha256: sha("weights") },
    ];
    const p = placed("HuggingFaceCache", files, hfId, "main", tree);
    const t = p.extras.find((e) => e.destPath === `${root}/trees/${COMMIT}.json`);
    expect(t).toBeDefined();
    expect(JSON.parse(t?.content ?? "null")).toEqual({
      format_version: 1,
      files: {
        "config.json": { size: 2, blob_id: "0".repeat(40) },
        "model.safetensors": { size: 7, blob_id: "1".repeat(40), lfs_sha256: sha("weights"), lfs_size: 7 },
      },
    });
  });

  const dir = mkdtempSync(join(tmpdir(), "layout-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("materializes to a tree where every snapshot link resolves to its bytes and `sha256sum -c` passes", () => {
    const p = placed("HuggingFaceCache", files, hfId, "v1.0");
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const f of p.files) {
      mkdirSync(dirname(join(dir, f.destPath)), { recursive: true });
      writeFileSync(join(dir, f.destPath), contents[f.artifactPath] ?? "");
    }
    for (const l of p.links) {
      mkdirSync(dirname(join(dir, l.destPath)), { recursive: true });
      symlinkSync(l.target, join(dir, l.destPath));
    }
    for (const e of p.extras) {
      mkdirSync(dirname(join(dir, e.destPath)), { recursive: true });
      writeFileSync(join(dir, e.destPath), e.content);
    }
    writeFileSync(join(dir, "SHA256SUMS"), renderSums(p.sums));
    for (const [path, content] of Object.entries(contents)) {
      const link = join(dir, root, "snapshots", COMMIT, path);
      expect(readlinkSync(link).startsWith("../"), `${path} links relatively (the volume is mounted elsewhere)`).toBe(true);
      expect(realpathSync(link).startsWith(realpathSync(join(dir, root, "blobs"))), path).toBe(true);
      expect(readFileSync(link, "utf8")).toBe(content);
      expect(byPath.get(path)?.sha256).toBe(sha(content));
    }
    // What the hub client does offline: refs/<revision> -> commit -> snapshots/<commit>/<file>.
    const commit = readFileSync(join(dir, root, "refs", "main"), "utf8");
    expect(readFileSync(join(dir, root, "snapshots", commit, "model.safetensors"), "utf8")).toBe("weights");
    execFileSync("sha256sum", ["-c", "--strict", "--quiet", "SHA256SUMS"], { cwd: dir });
  });
});
