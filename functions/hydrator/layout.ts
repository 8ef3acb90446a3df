// Where an artifact's files go in the destination, per layout.
//
// Flat: each file at its own path: a materialized directory, as the
// workstation seeding flow wants (plain files plus SHA256SUMS, no symlinks).
//
// HuggingFaceCache: the hub client's cache under `hub/` so HF_HUB_CACHE=<dest>/hub
// (or HF_HOME=<dest>) lets an engine resolve `--model=<org>/<repo>` offline:
//   hub/models--<org>--<name>/blobs/<sha256>             the bytes, one per distinct content
//   hub/models--<org>--<name>/snapshots/<commit>/<path>  relative symlinks to the blobs
//   hub/models--<org>--<name>/refs/main                  the commit, always
//   hub/models--<org>--<name>/refs/<revision>            the commit, when another branch/tag was asked for
//   hub/models--<org>--<name>/trees/<commit>.json        the client's (>= 1.x) tree listing cache, so it
//                                                          can tell offline that the snapshot is complete
// Blobs are named by sha256 for every file; the client only follows the
// snapshot symlinks and never interprets blob names.
import { posix } from "node:path";
import { HF_COMMIT, HF_REPO_ID, type Layout, type ManifestFile, type ManifestIdentity, type SumsEntry } from "./manifest.ts";
import { safeRelativePath } from "./paths.ts";
import type { Checked } from "../common/checked.ts";

export interface PlacedFile {
  artifactPath: string;
  /** Destination-relative path of the real file. */
  destPath: string;
}

export interface Placement {
  /** Real files, one per distinct destination path. */
  files: PlacedFile[];
  /** Relative symlinks: destPath -> target. */
  links: { destPath: string; target: string }[];
  /** Small metadata files the layout needs. */
  extras: { destPath: string; content: string }[];
  /** What SHA256SUMS lists (destination-relative, followed through symlinks by sha256sum). */
  sums: SumsEntry[];
}

export function hfRepoFolder(repo: string): string {
  return `models--${repo.split("/").join("--")}`;
}

export interface HfTreeInfo {
  path: string;
  size: number;
  blobId: string;
  lfsSha256?: string;
}

/**
 * Placement of `files` for `layout`. `revision` is the branch/tag asked for
 * (HuggingFaceCache); `tree` the hub's full listing for the client's tree
 * cache. Give it only when every file was fetched: the client trusts that
 * cache forever, so a filtered listing would hide files from it later, and a
 * full listing over a filtered snapshot would make it call the snapshot
 * incomplete.
 */
export function place(
  layout: Layout,
  files: readonly ManifestFile[],
  identity: ManifestIdentity,
  revision?: string,
  tree?: readonly HfTreeInfo[],
): Checked<Placement> {
  // Every name that becomes a path is checked here, where the paths are made,
  // whoever supplied it (a source, or an old manifest read back from disk).
  for (const f of files) {
    const safe = safeRelativePath(f.path);
    if (!safe.ok) return safe;
  }
  if (layout === "Flat") {
    return {
      ok: true,
      value: {
        files: files.map((f) => ({ artifactPath: f.path, destPath: f.path })),
        links: [],
        extras: [],
        sums: files.map((f) => ({ sha256: f.sha256, path: f.path })),
      },
    };
  }
  const hf = identity.huggingFace;
  if (hf === undefined)
    return { ok: false, error: "the HuggingFaceCache layout needs a Hugging Face source (hf://): other sources have no repo id and commit" };
  if (!HF_REPO_ID.test(hf.repo) || hf.repo.includes("..")) return { ok: false, error: `invalid Hugging Face repo id ${JSON.stringify(hf.repo)}` };
  if (!HF_COMMIT.test(hf.commit)) return { ok: false, error: `invalid commit ${JSON.stringify(hf.commit)}: expected 40 hex digits` };
  if (revision !== undefined) {
    const safe = safeRelativePath(revision);
    if (!safe.ok) return { ok: false, error: `invalid revision: ${safe.error}` };
  }
  const root = `hub/${hfRepoFolder(hf.repo)}`;
  const seenBlobs = new Set<string>();
  const placed: PlacedFile[] = [];
  const links: Placement["links"] = [];
  const sums: SumsEntry[] = [];
  for (const f of files) {
    const blob = `${root}/blobs/${f.sha256}`;
    if (!seenBlobs.has(blob)) {
      seenBlobs.add(blob);
      placed.push({ artifactPath: f.path, destPath: blob });
    }
    const link = `${root}/snapshots/${hf.commit}/${f.path}`;
    links.push({ destPath: link, target: posix.relative(posix.dirname(link), blob) });
    sums.push({ sha256: f.sha256, path: link });
  }
  const extras: Placement["extras"] = [];
  // refs/main always, whatever branch, tag or commit was asked for: the cache
  // holds exactly this one snapshot, and `--model=<repo>` (revision main) must
  // find it offline. (The fleet hydrates its first cluster by the name it was
  // given and the others by the pinned commit; both must serve the same way.)
  // A branch or tag asked for by name gets its own ref beside it.
  extras.push({ destPath: `${root}/refs/main`, content: hf.commit });
  if (revision !== undefined && revision !== hf.commit && revision !== "main") extras.push({ destPath: `${root}/refs/${revision}`, content: hf.commit });
  if (tree !== undefined) {
    const entries: Record<string, Record<string, string | number>> = {};
    for (const t of tree) {
      entries[t.path] = { size: t.size, blob_id: t.blobId, ...(t.lfsSha256 ? { lfs_sha256: t.lfsSha256, lfs_size: t.size } : {}) };
    }
    extras.push({ destPath: `${root}/trees/${hf.commit}.json`, content: `${JSON.stringify({ format_version: 1, files: entries }, null, 2)}\n` });
  }
  return { ok: true, value: { files: placed, links, extras, sums } };
}
