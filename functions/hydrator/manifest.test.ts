// The manifest digest identifies the bytes (and only the bytes and the
// resolved identity), and SHA256SUMS is what `sha256sum -c` accepts.
import { canonicalJson } from "../common/canonical-json.ts";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  fileSetDigest,
  Manifest,
  MANIFEST_SCHEMA,
  manifestDigest,
  parseSums,
  renderSums,
  sortFiles,
  type ManifestFile,
  type ManifestIdentity,
} from "./manifest.ts";
import { safeRelativePath } from "./paths.ts";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
const identity: ManifestIdentity = {
  kind: "huggingFace",
  resolved: "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4",
  huggingFace: { repo: "Qwen/Qwen3-8B", commit: "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4" },
};
const files: ManifestFile[] = [
  { path: "config.json", size: 2, sha256: sha("{}") },
  { path: "model-00001-of-00002.safetensors", size: 5, sha256: sha("hello") },
  { path: "tokenizer/tokenizer.json", size: 5, sha256: sha("world") },
];

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops undefined, so one value has one byte string", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: null, y: "x" }], c: undefined } })).toBe('{"a":{"d":[1,{"y":"x","z":null}]},"b":1}');
  });
});

describe("manifestDigest", () => {
  const base = manifestDigest(identity, files);

  it("is sha256:<64 hex>", () => {
    expect(base).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("does not depend on the order the source listed the files in", () => {
    expect(manifestDigest(identity, [...files].reverse())).toBe(base);
    expect(manifestDigest(identity, [files[1] as ManifestFile, files[2] as ManifestFile, files[0] as ManifestFile])).toBe(base);
  });

  it("does not depend on the key order of the objects it is given", () => {
    const reordered = files.map((f) => ({ sha256: f.sha256, size: f.size, path: f.path }));
    expect(manifestDigest({ resolved: identity.resolved, kind: identity.kind, huggingFace: identity.huggingFace }, reordered)).toBe(base);
  });

  const [first, ...rest] = files as [ManifestFile, ...ManifestFile[]];
  const changes: [what: string, identity: ManifestIdentity, files: ManifestFile[]][] = [
    ["one byte of one file (its sha256)", identity, [{ ...first, sha256: sha("{ ") }, ...rest]],
    ["the size of one file", identity, [{ ...first, size: first.size + 1 }, ...rest]],
    ["the path of one file", identity, [{ ...first, path: "Config.json" }, ...rest]],
    ["a file moved to another directory", identity, [{ ...first, path: "sub/config.json" }, ...rest]],
    ["a file dropped", identity, rest],
    ["a file added", identity, [...files, { path: "extra.txt", size: 0, sha256: sha("") }]],
    ["the resolved revision", { ...identity, resolved: "0".repeat(40) }, files],
    ["the source kind", { ...identity, kind: "s3" }, files],
    ["the Hugging Face repo", { ...identity, huggingFace: { repo: "Qwen/Qwen3-4B", commit: identity.resolved } }, files],
  ];
  it.each(changes)("changes with %s", (_what, id, fs) => {
    expect(manifestDigest(id, fs)).not.toBe(base);
  });

  it("cannot be forged by moving bytes between path and size fields (fields are delimited)", () => {
    const a = manifestDigest(identity, [{ path: "a1", size: 23, sha256: sha("x") }]);
    const b = manifestDigest(identity, [{ path: "a", size: 123, sha256: sha("x") }]);
    expect(a).not.toBe(b);
  });

  it("ignores fields outside {kind, resolved, huggingFace}: the same bytes fetched by branch name or commit are one artifact", () => {
    const withExtra = { ...identity, reference: "hf://Qwen/Qwen3-8B@main" } as ManifestIdentity;
    expect(manifestDigest(withExtra, files)).toBe(base);
  });

  it("is what an independent computation over the documented canonical form gives", () => {
    const canonical = canonicalJson({ schema: MANIFEST_SCHEMA, identity, files: sortFiles(files) });
    expect(base).toBe(`sha256:${sha(canonical)}`);
  });
});

describe("fileSetDigest", () => {
  it("is order independent and changes with any byte, size or path", () => {
    const d = fileSetDigest(files);
    expect(fileSetDigest([...files].reverse())).toBe(d);
    const [first, ...rest] = files as [ManifestFile, ...ManifestFile[]];
    expect(fileSetDigest([{ ...first, sha256: sha("[]") }, ...rest])).not.toBe(d);
    expect(fileSetDigest([{ ...first, size: 3 }, ...rest])).not.toBe(d);
    expect(fileSetDigest([{ ...first, path: "c.json" }, ...rest])).not.toBe(d);
  });
});

describe("Manifest schema", () => {
  it("accepts a complete manifest and refuses a digest that is not sha256:<hex>", () => {
    const m = {
      schema: MANIFEST_SCHEMA,
      digest: manifestDigest(identity, files),
      source: "hf://Qwen/Qwen3-8B@main",
      identity,
      layout: "Flat",
      files,
      totalBytes: 12,
      request: { source: "hf://Qwen/Qwen3-8B@main", layout: "Flat", include: [], exclude: [] },
      createdAt: "2026-01-01T00:00:00Z",
      tool: "function-model-cache test",
    };
    expect(Manifest.safeParse(m).success).toBe(true);
    expect(Manifest.safeParse({ ...m, digest: "md5:abc" }).success).toBe(false);
    expect(Manifest.safeParse({ ...m, files: [{ path: "a", size: 1, sha256: "ABC" }] }).success).toBe(false);
  });
});

describe("SHA256SUMS", () => {
  it("renders one '<hex>  <path>' line per file, sorted by path, newline-terminated", () => {
    const text = renderSums([
      { sha256: sha("b"), path: "b.bin" },
      { sha256: sha("a"), path: "a.bin" },
    ]);
    expect(text).toBe(`${sha("a")}  a.bin\n${sha("b")}  b.bin\n`);
  });

  it("renders nothing for no files (sha256sum -c then reports nothing to check)", () => {
    expect(renderSums([])).toBe("");
  });

  const names: [name: string, reason: string][] = [
    ["plain.bin", "a plain name"],
    ["with space.bin", "a space inside"],
    [" leading space.bin", "a leading space: the two-space separator keeps it"],
    ["trailing space.bin ", "a trailing space"],
    ["*star.bin", "a leading star, where sha256sum's binary-mode marker would go"],
    ["dir with space/nested file.json", "spaces in directory names"],
    ["ünïcødé/模型.bin", "non-ASCII (UTF-8) names"],
    ["a  two  spaces", "runs of spaces inside the name"],
  ];

  it.each(names)("round-trips %j through parseSums (%s)", (name, _reason) => {
    const entries = [{ sha256: sha(name), path: name }];
    expect(parseSums(renderSums(entries))).toEqual({ ok: true, value: entries });
  });

  const dir = mkdtempSync(join(tmpdir(), "sums-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is accepted by the real `sha256sum -c` for every supported name, and caught on a changed byte", () => {
    const entries = names.map(([name]) => {
      const content = `content of ${name}`;
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content);
      return { sha256: sha(content), path: name };
    });
    writeFileSync(join(dir, "SHA256SUMS"), renderSums(entries));
    const out = execFileSync("sha256sum", ["-c", "--strict", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
    expect(out.trim().split("\n")).toHaveLength(names.length);
    expect(out).not.toMatch(/FAILED/);
    writeFileSync(join(dir, "with space.bin"), "tampered");
    const tampered = spawnSync("sha256sum", ["-c", "--strict", "--quiet", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
    expect(tampered.status).toBe(1);
    expect(tampered.stdout.trim()).toBe("with space.bin: FAILED");
  });

  it("needs no escaping because names with a newline, a backslash or a control character never reach it (paths.ts refuses them)", () => {
    // GNU sha256sum escapes such names with a leading '\'; renderSums does not, so the refusal upstream is what keeps it correct.
    for (const name of ["a\nb", "a\\b", "a\rb"]) expect(safeRelativePath(name).ok).toBe(false);
  });

  const bad: [text: string, reason: string][] = [
    [`${sha("a")} a.bin\n`, "one space and no mode marker"],
    [`${sha("a").toUpperCase()}  a.bin\n`, "upper-case hex (we never write it)"],
    [`${sha("a").slice(1)}  a.bin\n`, "63 hex digits"],
    [`${sha("a")}  \n`, "no file name"],
    ["garbage\n", "not a sums line at all"],
  ];
  it.each(bad)("parseSums refuses %j (%s), naming the line", (text, _reason) => {
    const r = parseSums(`${sha("ok")}  ok.bin\n${text}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("line 2");
  });

  it("parseSums accepts the binary-mode marker and skips blank lines, as sha256sum does", () => {
    expect(parseSums(`${sha("a")} *a.bin\n\n${sha("b")}  b.bin\n`)).toEqual({
      ok: true,
      value: [
        { sha256: sha("a"), path: "a.bin" },
        { sha256: sha("b"), path: "b.bin" },
      ],
    });
  });
});
