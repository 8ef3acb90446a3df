// A deterministic dataset-like file set (many small files in nested directories, some names outside ASCII) and its
// manifest, for tests that compare how a large manifest is computed and written (functions/hydrator/manifest-pieces.test.ts).
import { createHash } from "node:crypto";

export interface ManyFile {
  path: string;
  size: number;
  sha256: string;
}

/** `n` files listed out of path order (as a source may list them), each with its own size and digest. */
export function manyFiles(n: number): ManyFile[] {
  const out: ManyFile[] = [];
  for (let k = 0; k < n; k++) {
    // A stride coprime to n lists the files out of order; a few names hold spaces, quotes and non-ASCII (all a
    // manifest accepts: safeRelativePath refuses backslashes and control characters).
    const i = (k * 7919) % n;
    const odd = ["", " space", '"quote"', "#hash", "é", "日本", "😀"][i % 7] as string;
    out.push({
      path: `data/${String(Math.floor(i / 1000)).padStart(3, "0")}/${String(i).padStart(6, "0")}${odd}.json`,
      size: 1024 + ((i * 7919) % 7168),
      sha256: createHash("sha256").update(`file ${i}`).digest("hex"),
    });
  }
  return out;
}

/** A whole manifest around `files` (already sorted by path), with every optional field set. */
export function manyManifest<I, F>(digest: string, identity: I, files: F) {
  return {
    schema: "modelcache.dev/manifest/v1" as const,
    digest,
    source: 'hf://bench/many@main "quoted"\n',
    identity,
    layout: "Flat" as const,
    revision: "refs/pr/1",
    files,
    totalBytes: 12345,
    request: { source: "hf://bench/many@main", layout: "Flat" as const, include: ["data/**"], exclude: [], pins: "sha256:" + "0".repeat(64) },
    createdAt: "2026-12-03T19:00:00.000Z",
    tool: "function-model-cache 0.0.0-test",
  };
}
