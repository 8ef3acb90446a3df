// Issue 9, item 8: every path the hydrator touches is checked, whatever file
// it came from. Each case drives the real CLI (`hydrate` / `verify`) against a
// destination an attacker with write access to the volume has prepared, and
// checks that nothing outside --dest is deleted, that a hostile glob cannot
// park the Job, and that `verify` does not call a directory holding foreign
// files verified.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_SCHEMA, manifestDigest, type Manifest, type ManifestIdentity } from "../../functions/hydrator/manifest.ts";
import { runCli, runCliIsolated } from "../support/hydrator.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fmc-sec-paths-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let n = 0;
const fresh = (what: string): string => join(work, `${what}${++n}`);

async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), content);
  }
}

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/**
 * A manifest as the hydrator would have written it, with a recomputed digest
 * so it parses and verifies as well as a planted file can, naming `files`
 * (and, for HuggingFaceCache, the revision and commit given).
 */
async function plantManifest(dest: string, files: string[], extra: Partial<Manifest> = {}, identity?: ManifestIdentity): Promise<void> {
  const entries = files.map((path) => ({ path, size: 6, sha256: sha("victim") }));
  const id: ManifestIdentity = identity ?? { kind: "file", resolved: "sha256:planted" };
  const m: Manifest = {
    schema: MANIFEST_SCHEMA,
    digest: manifestDigest(id, entries),
    source: "file:///planted",
    identity: id,
    layout: "Flat",
    files: entries,
    totalBytes: 6 * files.length,
    request: { source: "file:///planted", layout: "Flat", include: [], exclude: [] },
    createdAt: "2024-01-01T00:00:00Z",
    tool: "function-model-cache 0.0.0",
    ...extra,
  };
  await writeTree(dest, { ".model-cache/manifest.json": JSON.stringify(m) });
}

const exists = (p: string): Promise<boolean> =>
  stat(p).then(
    () => true,
    () => false,
  );

describe("a planted old manifest cannot make the stale-file cleanup delete outside --dest", () => {
  const hfId: ManifestIdentity = { kind: "huggingFace", resolved: COMMIT, huggingFace: { repo: "org/model", commit: COMMIT } };
  // foreign: a file the planted manifest does not account for, which hydrate refuses (exit 3) as verify would fail it.
  const cases: { name: string; reason: string; foreign?: string; plant: (dest: string, outside: string) => Promise<void> }[] = [
    {
      name: "../victim.txt",
      reason: "a .. path in the old file list climbs out of the destination",
      plant: (dest) => plantManifest(dest, ["../victim.txt"]),
    },
    {
      name: "link/victim.txt through a planted symlink",
      reason: "a clean relative path whose parent is a symlink planted in the destination",
      foreign: "link",
      plant: async (dest, outside) => {
        await symlink(outside, join(dest, "link"));
        await plantManifest(dest, ["link/victim.txt"]);
      },
    },
    {
      name: "a HuggingFaceCache revision ../../../../victim.txt",
      reason: "the revision names refs/<revision>: a path component, unchecked before",
      plant: (dest) => plantManifest(dest, ["config.json"], { layout: "HuggingFaceCache", revision: "../../../../victim.txt" }, hfId),
    },
    {
      name: "a HuggingFaceCache commit ../../../..",
      reason: "the commit names snapshots/<commit>/: a path component, unchecked before",
      plant: (dest) =>
        plantManifest(
          dest,
          ["victim.txt"],
          { layout: "HuggingFaceCache" },
          { kind: "huggingFace", resolved: "x", huggingFace: { repo: "org/model", commit: "../../../.." } },
        ),
    },
  ];

  it.each(cases)("$name: $reason", async ({ plant, foreign }) => {
    const box = fresh("box");
    const dest = join(box, "dest");
    const outside = join(box, "outside");
    await writeTree(box, { "victim.txt": "victim", "outside/victim.txt": "victim" });
    await mkdir(dest, { recursive: true });
    await plant(dest, outside);
    const src = fresh("src");
    await writeTree(src, { "weights.bin": "new artifact" });

    const run = await runCli(["--source", pathToFileURL(src).href, "--dest", dest, "--progress", "none"]);

    expect(await exists(join(box, "victim.txt")), "the file beside --dest").toBe(true);
    expect(await exists(join(outside, "victim.txt")), "the file behind the planted link").toBe(true);
    if (foreign !== undefined) {
      // A planted link is not part of any artifact: refused before anything is fetched or deleted.
      expect(run.code, run.stderr).toBe(3);
      expect(run.report.message).toContain(`already holds files that are not part of this artifact (${foreign})`);
      return;
    }
    // The new artifact is still published: a hostile leftover is ignored, not obeyed.
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(dest, "weights.bin"), "utf8")).toBe("new artifact");
  });
});

describe("an include glob cannot park the Job", () => {
  it("eight stars against a long name answer at once (a backtracking regex ran until the Job deadline)", async () => {
    const src = fresh("src");
    await writeTree(src, { ["a".repeat(200)]: "x" });
    // Isolated and bounded: on a backtracking matcher this is killed, and the test fails on the missing exit code.
    const run = await runCliIsolated(
      ["hydrate", "--source", pathToFileURL(src).href, "--dest", fresh("dest"), "--include", "*a*a*a*a*a*a*a*ab", "--progress", "none"],
      {},
    );
    expect(run.code, run.out).toBe(3);
    expect(run.out).toContain("nothing matches --include/--exclude");
  }, 150_000);
});

describe("verify refuses files that are not the artifact, wherever they hide", () => {
  const hf = "hub/models--org--model";
  const cases: { planted: string; layout: "Flat" | "HuggingFaceCache"; reason: string }[] = [
    { planted: "hub/.locks/models--org--model/x.lock", layout: "Flat", reason: "hub client bookkeeping in a Flat artifact is foreign content" },
    { planted: "hub/version.txt", layout: "Flat", reason: "so is its version file" },
    { planted: "sub/.no_exist/c/f", layout: "Flat", reason: "a .no_exist marker anywhere in a Flat artifact" },
    { planted: "hub/models--org--model/trees/x.json", layout: "Flat", reason: "the hub client's tree cache in a Flat artifact" },
    { planted: "lost+found/#12345", layout: "Flat", reason: "lost+found may exist, empty; a file in it is not the artifact" },
    { planted: ".model-cache/extra.bin", layout: "Flat", reason: "the hydrator's own directory holds its manifest and staging only" },
    { planted: "hub/.locks/models--other--repo/x.lock", layout: "HuggingFaceCache", reason: "another repository's locks" },
    { planted: `${hf}/.no_exist/${COMMIT}/weights.bin`, layout: "HuggingFaceCache", reason: "a .no_exist marker is empty; this one holds bytes" },
    { planted: `${hf}/.no_exist/${"f".repeat(40)}/x`, layout: "HuggingFaceCache", reason: "a .no_exist marker for another commit" },
    { planted: `${hf}/trees/${COMMIT}/weights.bin`, layout: "HuggingFaceCache", reason: "trees/ holds <name>.json listings only" },
  ];

  it.each(cases)("$planted ($layout): $reason", async ({ planted, layout }) => {
    const dest = fresh("dest");
    await writeTree(dest, { "weights.bin": "weights" });
    const args = layout === "Flat" ? [] : ["--layout", "HuggingFaceCache"];
    if (layout === "HuggingFaceCache") {
      // A HuggingFaceCache artifact needs an hf:// source: publish one by hand, as the hydrator lays it out.
      const files = [{ path: "weights.bin", size: 7, sha256: sha("weights") }];
      const id: ManifestIdentity = { kind: "huggingFace", resolved: COMMIT, huggingFace: { repo: "org/model", commit: COMMIT } };
      await rm(join(dest, "weights.bin"));
      await writeTree(dest, {
        [`${hf}/blobs/${sha("weights")}`]: "weights",
        [`${hf}/refs/main`]: COMMIT,
        SHA256SUMS: `${sha("weights")}  ${hf}/snapshots/${COMMIT}/weights.bin\n`,
      });
      await mkdir(join(dest, hf, "snapshots", COMMIT), { recursive: true });
      await symlink(`../../blobs/${sha("weights")}`, join(dest, hf, "snapshots", COMMIT, "weights.bin"));
      await plantManifest(dest, [], { layout: "HuggingFaceCache", files, totalBytes: 7, digest: manifestDigest(id, files) }, id);
    } else {
      const run = await runCli(["--source", pathToFileURL(await srcWith({ "weights.bin": "weights" })).href, "--dest", dest, "--progress", "none", ...args]);
      expect(run.code, run.stderr).toBe(0);
    }
    const clean = await runCli(["verify", dest, "--progress", "none"]);
    expect(clean.code, `the artifact verifies before anything is planted: ${clean.report.message ?? ""}`).toBe(0);

    await writeTree(dest, { [planted]: "planted" });
    const v = await runCli(["verify", dest, "--progress", "none"]);
    expect(v.code).toBe(3);
    expect(v.report.message).toContain(`${planted}: not part of the artifact`);
  });

  it("what the hub client itself writes beside a HuggingFaceCache artifact is still accepted", async () => {
    // Guards the refusals above from being a blanket "refuse everything".
    const dest = fresh("dest");
    const files = [{ path: "weights.bin", size: 7, sha256: sha("weights") }];
    const id: ManifestIdentity = { kind: "huggingFace", resolved: COMMIT, huggingFace: { repo: "org/model", commit: COMMIT } };
    await writeTree(dest, {
      [`${hf}/blobs/${sha("weights")}`]: "weights",
      [`${hf}/refs/main`]: COMMIT,
      SHA256SUMS: `${sha("weights")}  ${hf}/snapshots/${COMMIT}/weights.bin\n`,
      "hub/version.txt": "1",
      "hub/.locks/models--org--model/abc.lock": "",
      [`${hf}/.no_exist/${COMMIT}/generation_config.json`]: "",
      [`${hf}/trees/${COMMIT}.json`]: "{}",
    });
    await mkdir(join(dest, "lost+found"));
    await mkdir(join(dest, hf, "snapshots", COMMIT), { recursive: true });
    await symlink(`../../blobs/${sha("weights")}`, join(dest, hf, "snapshots", COMMIT, "weights.bin"));
    await plantManifest(dest, [], { layout: "HuggingFaceCache", files, totalBytes: 7, digest: manifestDigest(id, files) }, id);
    const v = await runCli(["verify", dest, "--progress", "none"]);
    expect(v.code, v.report.message).toBe(0);
  });
});

async function srcWith(files: Record<string, string>): Promise<string> {
  const src = fresh("src");
  await writeTree(src, files);
  return src;
}
