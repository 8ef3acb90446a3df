// The manifest, its digest and SHA256SUMS made a piece at a time (no string of every file) give exactly the bytes
// the one-string forms gave: the digest identifies artifacts across clusters and versions, so not one byte may move.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../common/canonical-json.ts";
import { manyFiles, manyManifest } from "../../test/support/many-files.ts";
import {
  fileSetDigest,
  inPathOrder,
  Manifest,
  manifestDigest,
  manifestText,
  sortFiles,
  sumsText,
  type ManifestFile,
  type ManifestIdentity,
} from "./manifest.ts";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
const hf: ManifestIdentity = { kind: "huggingFace", resolved: "b".repeat(40), huggingFace: { repo: "bench/many", commit: "b".repeat(40) } };

/** What the digest was before it was fed in pieces (main at 218e97a): one canonical string of everything. */
function oneStringDigest(identity: ManifestIdentity, files: readonly ManifestFile[]): string {
  const id = { kind: identity.kind, resolved: identity.resolved, ...(identity.huggingFace ? { huggingFace: identity.huggingFace } : {}) };
  const canonical = canonicalJson({
    schema: "modelcache.dev/manifest/v1",
    identity: id,
    files: sortFiles(files).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
  });
  return `sha256:${sha(canonical)}`;
}
/** What SHA256SUMS was before: sorted, one string. */
function oneStringSums(entries: readonly { sha256: string; path: string }[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join("");
}

describe("inPathOrder", () => {
  const a = { path: "a" };
  const b = { path: "b" };
  const b2 = { path: "b" };
  const c = { path: "c" };
  const cases: [reason: string, input: { path: string }[], want: { path: string }[], same: boolean][] = [
    ["no files: nothing to sort, the same array", [], [], true],
    ["one file is in order: the same array", [a], [a], true],
    ["already sorted: the same array, no copy of 40,000 entries", [a, b, c], [a, b, c], true],
    ["out of order: a sorted copy", [c, a, b], [a, b, c], false],
    ["equal paths already in order keep their order (as a stable sort would)", [a, b, b2], [a, b, b2], true],
    ["equal paths out of order: sorted stably, as sortFiles does", [b, c, b2, a], [a, b, b2, c], false],
    ['sorted by UTF-16 code units, as sortFiles ("B" before "a")', [a, { path: "B" }], [{ path: "B" }, a], false],
  ];
  it.each(cases)("%s", (_reason, input, want, same) => {
    const before = [...input];
    const got = inPathOrder(input);
    expect(got).toEqual(want);
    expect(got === input).toBe(same);
    expect(input).toEqual(before); // never sorted in place
  });
});

describe("manifestDigest fed in pieces equals the one-string canonical form", () => {
  const cases: [reason: string, identity: ManifestIdentity, files: ManifestFile[]][] = [
    ["no files: only the brackets", hf, []],
    ["one file", hf, [{ path: "config.json", size: 2, sha256: sha("{}") }]],
    [
      "an empty file and a size past 4 GiB print as JSON numbers",
      { kind: "s3", resolved: "sha256:" + "1".repeat(64) },
      [
        { path: "empty", size: 0, sha256: sha("") },
        { path: "huge.bin", size: 2 ** 40 + 7, sha256: sha("huge") },
      ],
    ],
    [
      "quotes, backslashes, control characters and non-ASCII in paths are escaped as JSON.stringify escapes them",
      hf,
      [
        { path: 'a "quoted" name', size: 1, sha256: sha("1") },
        { path: "back\\slash\ttab", size: 1, sha256: sha("2") },
        { path: "日本/é.json", size: 1, sha256: sha("3") },
      ],
    ],
    ["files given out of order are sorted first", hf, manyFiles(50)],
    ["more files than one piece holds (64 Ki characters): pieces joined without a seam", hf, manyFiles(2000)],
    ["an identity without huggingFace", { kind: "file", resolved: "" }, manyFiles(3)],
  ];
  it.each(cases)("%s", (_reason, identity, files) => {
    expect(manifestDigest(identity, files)).toBe(oneStringDigest(identity, files));
  });
});

describe("manifestText equals JSON.stringify(manifest, null, 2) + newline", () => {
  const one: ManifestFile[] = [{ path: "a", size: 1, sha256: sha("a") }];
  const cases: [reason: string, manifest: Manifest][] = [
    ['no files: the one-string form, "files": []', manyManifest("sha256:" + "2".repeat(64), hf, [])],
    ["one file", manyManifest("sha256:" + "2".repeat(64), hf, one)],
    ["2,000 files: several pieces", manyManifest("sha256:" + "2".repeat(64), hf, sortFiles(manyFiles(2000)))],
    [
      "a string value that holds the text of the files key is escaped, so only the real key is found",
      { ...manyManifest("sha256:" + "2".repeat(64), hf, one), source: '\n  "files": []', tool: '"files": [],' },
    ],
    [
      "no optional revision, another key order of the identity",
      (() => {
        const { revision: _r, ...m } = manyManifest("sha256:" + "2".repeat(64), { resolved: "r", kind: "http" }, sortFiles(manyFiles(5)));
        return m;
      })(),
    ],
  ];
  it.each(cases)("%s", (_reason, manifest) => {
    const pieces = [...manifestText(manifest)];
    expect(pieces.join("")).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
    // And it parses back to the same manifest.
    expect(Manifest.parse(JSON.parse(pieces.join("")))).toEqual(Manifest.parse(manifest));
  });

  it("never makes one string of every file: pieces of about 64 Ki characters", () => {
    const pieces = [...manifestText(manyManifest("sha256:" + "2".repeat(64), hf, sortFiles(manyFiles(5000))))];
    expect(pieces.length).toBeGreaterThan(5);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(70_000);
  });
});

describe("sumsText equals the one-string SHA256SUMS", () => {
  const cases: [reason: string, entries: { sha256: string; path: string }[]][] = [
    ["no files: an empty file, no piece", []],
    [
      "out of order: sorted by path",
      [
        { sha256: sha("b"), path: "b" },
        { sha256: sha("a"), path: "a" },
      ],
    ],
    ["2,000 files: several pieces", manyFiles(2000).map((f) => ({ sha256: f.sha256, path: f.path }))],
  ];
  it.each(cases)("%s", (_reason, entries) => {
    expect([...sumsText(entries)].join("")).toBe(oneStringSums(entries));
  });
});

describe("a 40,000-file manifest, byte for byte what main (218e97a) wrote", () => {
  // Pinned from main's manifest.ts at 218e97a on this same file set (before the manifest was made in pieces):
  // the digest, fileSetDigest, and the sha256 of the manifest's and SHA256SUMS's text.
  it("has the same digest, file-set digest, manifest text and SHA256SUMS", () => {
    const files = manyFiles(40_000);
    const identity: ManifestIdentity = {
      kind: "huggingFace",
      resolved: "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4",
      huggingFace: { repo: "bench/many", commit: "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4" },
    };
    const digest = manifestDigest(identity, files);
    expect(digest).toBe("sha256:e86349e580158a6766252cb7c3579c2a1b2fc393a81ec2954359b5b0efb8fab8");
    expect(fileSetDigest(files)).toBe("sha256:bb12ea73277f961255bbe8204a3b7608a97cb43377f59eba723f156178628af6");
    expect(sha([...manifestText(manyManifest(digest, identity, sortFiles(files)))].join(""))).toBe(
      "bfa48eac1c2b3af6f7d8c1d489ed8a6236ea4b938b98639dc8bbca229d2589c2",
    );
    expect(sha([...sumsText(files.map((f) => ({ sha256: f.sha256, path: f.path })))].join(""))).toBe(
      "da3b8ae879885c627c98c8959b836c921a97381c3aef9ef855933c6dad6972fa",
    );
  });
});
