// file:// and --inline end to end through the real CLI: a nested directory,
// a Kubernetes ConfigMap volume (the kubelet atomic writer's `..data` and
// `..<timestamp>` symlinks, read through), symlinks that leave the source
// (refused: the run fails naming the link and nothing is published), and
// inline files in utf8 and base64. Each artifact must pass the real
// `sha256sum -c SHA256SUMS` and `function-model-cache verify`.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, sha256sumCheck } from "../support/hydrator.ts";

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fmc-file-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let n = 0;
const fresh = (what: string): string => join(work, `${what}${++n}`);

async function writeTree(root: string, files: Record<string, Buffer | string>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), content);
  }
}

/** Every entry under `root` (directories end in "/"), the hydrator's own `.model-cache/` left out. */
async function listing(root: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(join(root, rel))) {
    const p = rel === "" ? name : `${rel}/${name}`;
    if (p === ".model-cache") continue;
    if ((await stat(join(root, p))).isDirectory()) out.push(`${p}/`, ...(await listing(root, p)));
    else out.push(p);
  }
  return out.sort();
}

/** Hydrated, and checked the two ways a user checks: sha256sum -c and verify. */
async function expectVerified(dest: string, expected: Record<string, Buffer | string>): Promise<void> {
  for (const [p, content] of Object.entries(expected)) {
    expect((await readFile(join(dest, p))).equals(Buffer.from(content)), p).toBe(true);
  }
  const ok = sha256sumCheck(dest).trim().split("\n").sort();
  expect(ok).toEqual(
    Object.keys(expected)
      .map((p) => `${p}: OK`)
      .sort(),
  );
  const v = await runCli(["verify", dest, "--progress", "none"]);
  expect(v.code, v.stderr).toBe(0);
  expect(v.report.phase).toBe("Ready");
}

const uri = (dir: string): string => pathToFileURL(dir).href;

describe("file://", () => {
  const tree = {
    "config.json": '{"model_type":"llama"}\n',
    "weights/model-00001.safetensors": randomBytes(700_000),
    "weights/deep/er/shard.bin": randomBytes(12_345),
    "tokenizer/tokenizer.json": '{"vocab":{}}\n',
    "empty.txt": "",
  };

  it("hydrates a nested directory, and a re-run does nothing", async () => {
    const src = fresh("src");
    await writeTree(src, tree);
    const dest = fresh("dest");
    const r = await runCli(["--source", uri(src), "--dest", dest, "--progress", "json", "--chunk-size", "64Ki"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.phase).toBe("Ready");
    expect(r.report.filesDone).toBe(Object.keys(tree).length);
    await expectVerified(dest, tree);
    const again = await runCli(["--source", uri(src), "--dest", dest, "--progress", "none"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.report.message).toMatch(/nothing fetched/);
    expect(again.report.manifestDigest).toBe(r.report.manifestDigest);
  });

  it("reads a Kubernetes ConfigMap volume through its ..data and ..<timestamp> symlinks, and copies none of the writer's internals", async () => {
    // The layout the kubelet's atomic writer makes (pkg/volume/util/atomic_writer.go):
    //   ..2026_12_01_23_00_00.123456789/{config.json,chat_template.jinja,nested/generation.json}
    //   ..data -> ..2026_12_01_23_00_00.123456789
    //   config.json -> ..data/config.json        (one link per top-level key path)
    //   nested -> ..data/nested                   (a key with a '/' makes a directory link)
    const src = fresh("cm");
    const ts = "..2026_12_01_23_00_00.123456789";
    const data = { "config.json": '{"a":1}\n', "chat_template.jinja": "{{ messages }}\n", "nested/generation.json": '{"temperature":0.7}\n' };
    await writeTree(join(src, ts), data);
    await symlink(ts, join(src, "..data"));
    await symlink("..data/config.json", join(src, "config.json"));
    await symlink("..data/chat_template.jinja", join(src, "chat_template.jinja"));
    await symlink("..data/nested", join(src, "nested"));
    const dest = fresh("dest");
    const r = await runCli(["--source", uri(src), "--dest", dest, "--progress", "none"]);
    expect(r.code, r.stderr).toBe(0);
    await expectVerified(dest, data);
    // Plain files under the key names; no ..data, no timestamped directory, no symlink.
    expect(await listing(dest)).toEqual(["SHA256SUMS", "chat_template.jinja", "config.json", "nested/", "nested/generation.json"]);
  });

  it("reads a directory reachable under two names once, under its real name", async () => {
    const src = fresh("alias");
    await writeTree(src, { "real/x.txt": "x\n" });
    // "a-alias" sorts before "real": the real name must still win.
    await symlink("real", join(src, "a-alias"));
    // A loop back to the root adds nothing and does not hang.
    await symlink(".", join(src, "real", "loop"));
    const dest = fresh("dest");
    const r = await runCli(["--source", uri(src), "--dest", dest, "--progress", "none"]);
    expect(r.code, r.stderr).toBe(0);
    await expectVerified(dest, { "real/x.txt": "x\n" });
    expect(await listing(dest)).toEqual(["SHA256SUMS", "real/", "real/x.txt"]);
  });

  // A symlink out of the source is refused, not skipped: skipping would publish a
  // "verified" artifact silently missing a file; following would copy whatever
  // the link points at (a host file, another tenant's volume) into the artifact.
  it.each([
    ["a symlink to a file outside the source", "secret.txt", (outside: string) => join(outside, "secret.txt")],
    ["a symlink to a directory outside the source", "sub/escape", (outside: string) => outside],
    ["a relative symlink climbing out", "up", () => "../"],
    ["a broken symlink", "dangling", () => "no-such-file"],
  ])("refuses %s: exit 3, the link named, nothing published, nothing read from outside", async (_what, linkPath, target) => {
    const outside = fresh("outside");
    const secret = `do-not-copy-${randomBytes(8).toString("hex")}`;
    await writeTree(outside, { "secret.txt": secret });
    const src = fresh("src");
    await writeTree(src, { "config.json": "{}\n", "sub/ok.txt": "ok\n" });
    await symlink(target(outside), join(src, linkPath));
    const dest = fresh("dest");
    const r = await runCli(["--source", uri(src), "--dest", dest, "--progress", "none"]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toContain(`"${linkPath}" is a symlink that leaves the source directory`);
    // Nothing published and nothing left behind: the run created --dest, and removed it again.
    await expect(stat(dest)).rejects.toThrow(/ENOENT/);
    expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it("refuses the HuggingFaceCache layout (a directory has no repo id and commit): exit 2", async () => {
    const src = fresh("src");
    await writeTree(src, { "config.json": "{}\n" });
    const r = await runCli(["--source", uri(src), "--dest", fresh("dest"), "--layout", "HuggingFaceCache", "--progress", "none"]);
    expect(r.code).toBe(2);
    expect(r.report.message).toMatch(/HuggingFaceCache needs an hf:\/\/ source/);
  });

  it("fails permanently (exit 3) naming the source when the directory does not exist", async () => {
    const missing = join(work, "no-such-dir");
    const r = await runCli(["--source", uri(missing), "--dest", fresh("dest"), "--progress", "none"]);
    expect(r.code).toBe(3);
    expect(r.report.message).toContain(uri(missing));
  });
});

describe("--inline", () => {
  const binary = randomBytes(3000);
  const files = {
    "chat_template.jinja": "{% for m in messages %}{{ m.content }}{% endfor %}\nünïcödé ✓\n",
    "generation/config.json": '{"max_new_tokens":256}\n',
    "blob.bin": binary,
  };
  const spec = [
    { path: "chat_template.jinja", content: files["chat_template.jinja"] },
    { path: "generation/config.json", content: files["generation/config.json"], encoding: "utf8" },
    { path: "blob.bin", content: binary.toString("base64"), encoding: "base64" },
  ];

  it("hydrates utf8 and base64 files (nested too); a re-run does nothing", async () => {
    const list = join(work, "inline.json");
    await writeFile(list, JSON.stringify(spec));
    const dest = fresh("dest");
    const r = await runCli(["--inline", list, "--dest", dest, "--progress", "none"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.filesDone).toBe(3);
    await expectVerified(dest, files);
    const again = await runCli(["--inline", list, "--dest", dest, "--progress", "none"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.report.message).toMatch(/nothing fetched/);
  });

  it.each([
    ["../escape.txt", /escapes the destination/],
    ["/etc/passwd", /absolute path/],
    ["SHA256SUMS", /reserves for its own files/],
  ])("refuses the path %j", async (path, why) => {
    const list = join(work, `bad-inline-${++n}.json`);
    await writeFile(list, JSON.stringify([{ path, content: "x" }]));
    const dest = fresh("dest");
    const r = await runCli(["--inline", list, "--dest", dest, "--progress", "none"]).catch((e: unknown) => e as Error);
    // Bad usage is refused before any report (exit 2, usage on stderr); a reserved name after listing (exit 3).
    if (r instanceof Error) {
      expect(r.message).toMatch(why);
      expect(r.message).toMatch(/exit 2/);
    } else {
      expect(r.code).toBe(3);
      expect(r.report.message).toMatch(why);
    }
    await expect(stat(join(dest, ".model-cache", "manifest.json"))).rejects.toThrow();
    await expect(stat(join(dirname(dest), "escape.txt"))).rejects.toThrow();
  });

  it("refuses content marked base64 that is not valid base64 (exit 2)", async () => {
    // Node's base64 decoder skips invalid characters; the hydrator must not publish garbage as a "verified" file.
    const list = join(work, "bad-b64.json");
    await writeFile(list, JSON.stringify([{ path: "x.bin", content: "not base64 at all!", encoding: "base64" }]));
    const r = await runCli(["--inline", list, "--dest", fresh("dest"), "--progress", "none"]).catch((e: unknown) => e as Error);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toMatch(/exit 2[\s\S]*base64/);
  });
});

describe("file:// of a published bundle (docs/hydrator.md, Air gap)", () => {
  /** A bundle published by the hydrator itself from a plain directory. */
  async function bundle(): Promise<{ dir: string; digest: string }> {
    const src = fresh("src");
    await writeTree(src, { "config.json": "{}\n", "model.bin": randomBytes(70_000) });
    const dir = fresh("bundle");
    const r = await runCli(["--source", uri(src), "--dest", dir, "--progress", "none"]);
    expect(r.code, r.stderr).toBe(0);
    return { dir, digest: r.report.manifestDigest ?? "" };
  }

  it("is read as the artifact it holds: its SHA256SUMS and .model-cache/ are not content, and the digest is the same", async () => {
    const b = await bundle();
    const dest = fresh("dest");
    const r = await runCli(["--source", uri(b.dir), "--dest", dest, "--expect-manifest-digest", b.digest, "--progress", "none"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.manifestDigest).toBe(b.digest);
    expect(await listing(dest)).toEqual(["SHA256SUMS", "config.json", "model.bin"]);
  });

  const refusals: { reason: string; spoil: (dir: string) => Promise<void>; says: RegExp }[] = [
    {
      reason: "a file beside the manifest's: not part of it",
      spoil: (dir) => writeFile(join(dir, "notes.txt"), "mine\n"),
      says: /its files are not the ones its manifest lists \(notes\.txt: not part of it\)/,
    },
    {
      reason: "a file of the manifest's gone",
      spoil: (dir) => rm(join(dir, "config.json")),
      says: /its files are not the ones its manifest lists \(config\.json: missing\)/,
    },
    {
      reason: "an edited manifest (another file list under the same digest)",
      spoil: async (dir) => {
        const p = join(dir, ".model-cache", "manifest.json");
        const m = JSON.parse(await readFile(p, "utf8")) as { files: { size: number }[] };
        (m.files[0] as { size: number }).size += 1;
        await writeFile(p, JSON.stringify(m));
      },
      says: /do not hash to the digest it records \(edited\?\)/,
    },
    {
      reason: "a manifest that is not JSON",
      spoil: (dir) => writeFile(join(dir, ".model-cache", "manifest.json"), "{"),
      says: /its manifest is not JSON/,
    },
  ];
  it.each(refusals)("refuses $reason: exit 3, says to verify it, publishes nothing", async ({ spoil, says }) => {
    const b = await bundle();
    await spoil(b.dir);
    const dest = fresh("dest");
    const r = await runCli(["--source", uri(b.dir), "--dest", dest, "--progress", "none"]);
    expect(r.code).toBe(3);
    expect(r.report.message).toMatch(says);
    expect(r.report.message).toContain(`check it with: function-model-cache verify ${b.dir}`);
    await expect(stat(dest)).rejects.toThrow(/ENOENT/);
  });
});
