// A hub listing entry keeps its path, size, blob id and LFS sha256 only; what the engine and the layout read of it
// is derived, and must be exactly what the plain objects it replaced held.
import { describe, expect, it } from "vitest";
import type { RemoteObject } from "./types.ts";
import { HfFile } from "./hf.ts";

const REF = "hf://org/model@main";
const BLOB = "a".repeat(40);
const LFS = "b".repeat(64);

describe("HfFile reads as the listing entry it replaced", () => {
  const cases: [reason: string, file: HfFile, want: Required<Pick<RemoteObject, "id" | "size" | "expected" | "unpack" | "description">>][] = [
    [
      "a small file: the hub vouches for it by its git blob id only",
      new HfFile(REF, "config.json", 2, BLOB, undefined),
      {
        id: "config.json",
        size: 2,
        expected: { algorithm: "git-blob-sha1", hex: BLOB },
        unpack: { kind: "file", path: "config.json" },
        description: `${REF}/config.json`,
      },
    ],
    [
      "an LFS file: its sha256 is what is checked, not the pointer's blob id",
      new HfFile(REF, "model.safetensors", 5 * 2 ** 30, BLOB, LFS),
      {
        id: "model.safetensors",
        size: 5 * 2 ** 30,
        expected: { algorithm: "sha256", hex: LFS },
        unpack: { kind: "file", path: "model.safetensors" },
        description: `${REF}/model.safetensors`,
      },
    ],
    [
      "an empty LFS sha256 counts as none, as the plain object's truthiness check did",
      new HfFile(REF, "a/b.txt", 0, BLOB, ""),
      { id: "a/b.txt", size: 0, expected: { algorithm: "git-blob-sha1", hex: BLOB }, unpack: { kind: "file", path: "a/b.txt" }, description: `${REF}/a/b.txt` },
    ],
    [
      "a path in a subdirectory with non-ASCII: the id, the unpack path and the description all name it",
      new HfFile("hf://org/model@refs/pr/1", "data/日本/é.json", 7, BLOB, undefined),
      {
        id: "data/日本/é.json",
        size: 7,
        expected: { algorithm: "git-blob-sha1", hex: BLOB },
        unpack: { kind: "file", path: "data/日本/é.json" },
        description: "hf://org/model@refs/pr/1/data/日本/é.json",
      },
    ],
  ];
  it.each(cases)("%s", (_reason, file, want) => {
    expect({ id: file.id, size: file.size, expected: file.expected, unpack: file.unpack, description: file.description }).toEqual(want);
    // And as the layout's tree entry.
    expect({ path: file.path, size: file.size, blobId: file.blobId, lfsSha256: file.lfsSha256 }).toEqual({
      path: want.id,
      size: want.size,
      blobId: BLOB,
      lfsSha256: file.lfsSha256,
    });
  });

  it("keeps no per-file object or string beyond its own fields (the reference is shared, not copied)", () => {
    const f = new HfFile(REF, "x", 1, BLOB, undefined);
    expect(Object.keys(f).sort()).toEqual(["blobId", "lfsSha256", "path", "size"]);
  });
});
