// Publishing: staged, checked files move into the destination by rename (the
// staging area is on the same volume), then SHA256SUMS, then the manifest.
//
// The destination is usually a volume's mount root, which cannot itself be
// renamed, so the unit of atomicity is the manifest: `.model-cache/manifest.json`
// appears (by an atomic rename) only after every file is in place and checked,
// and when another artifact is replaced, its manifest and SHA256SUMS are
// removed first, before any of its files is touched. A reader that goes by the
// manifest (and the function, which reports Ready only from it) never takes a
// partial artifact for a complete one. A crash at any point leaves either the
// old artifact with its manifest, or no manifest and a state the next run
// completes from staging and from the files already moved (which it re-hashes
// rather than fetching again).
import { lstat, readdir, rename, rmdir, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fsyncDir, mkdirInside, symlinkAtomic, writeAtomic } from "./fsutil.ts";
import { place, type Placement } from "./layout.ts";
import { MANIFEST_DIR, MANIFEST_FILE, manifestText, SUMS_FILE, sumsText, type Manifest } from "./manifest.ts";
import { resolveInside } from "./paths.ts";

export interface StagedFile {
  artifactPath: string;
  /** Where its bytes are now: in staging, or already at the destination path (adopted). */
  stagedPath: string | undefined;
}

/** Removes the old artifact's completion marks before anything of it changes. */
export async function retractManifest(dest: string): Promise<void> {
  await unlink(join(dest, MANIFEST_FILE)).catch(() => undefined);
  await unlink(join(dest, SUMS_FILE)).catch(() => undefined);
  await fsyncDir(join(dest, MANIFEST_DIR));
  await fsyncDir(dest);
}

export async function publish(
  dest: string,
  placement: Placement,
  staged: { get(artifactPath: string): string | undefined },
  manifest: Manifest,
  old: Manifest | undefined,
): Promise<void> {
  await retractManifest(dest);
  const dirs = new Set<string>();
  // Each directory checked and made once per publish, not once per file (40,000 files in a few hundred directories).
  const made = new Set<string>();
  const ensureDir = async (rel: string): Promise<void> => {
    if (made.has(rel)) return;
    await mkdirInside(dest, rel);
    made.add(rel);
  };
  for (const f of placement.files) {
    const from = staged.get(f.artifactPath);
    if (from === undefined) continue; // already in place (adopted after a crash mid-publish)
    await ensureDir(dirname(f.destPath) === "." ? "" : dirname(f.destPath));
    await rename(from, join(dest, f.destPath));
    dirs.add(dirname(join(dest, f.destPath)));
  }
  for (const l of placement.links) {
    await ensureDir(dirname(l.destPath));
    await symlinkAtomic(l.target, join(dest, l.destPath));
    dirs.add(dirname(join(dest, l.destPath)));
  }
  for (const e of placement.extras) {
    await mkdirInside(dest, dirname(e.destPath));
    await writeAtomic(join(dest, e.destPath), e.content);
  }
  for (const d of dirs) await fsyncDir(d);
  if (old !== undefined) await removeStale(dest, old, placement);
  await mkdirInside(dest, MANIFEST_DIR);
  // Both written a piece at a time (the same bytes as one string): 40,000 files never make one text of several MiB.
  await writeAtomic(join(dest, SUMS_FILE), sumsText(placement.sums));
  await writeAtomic(join(dest, MANIFEST_FILE), manifestText(manifest));
}

/** Deletes what the old artifact held and the new one does not, then the directories that became empty. */
async function removeStale(dest: string, old: Manifest, now: Placement): Promise<void> {
  const prev = place(old.layout, old.files, old.identity, old.revision);
  if (!prev.ok) return;
  const keep = new Set([...now.files.map((f) => f.destPath), ...now.links.map((l) => l.destPath), ...now.extras.map((e) => e.destPath)]);
  const gone = [...prev.value.files.map((f) => f.destPath), ...prev.value.links.map((l) => l.destPath), ...prev.value.extras.map((e) => e.destPath)].filter(
    (p) => !keep.has(p),
  );
  for (const p of gone) {
    // The old manifest is a file on the volume: what it names is deleted only inside the destination, never through a link.
    const abs = await resolveInside(dest, p);
    if (!abs.ok) continue;
    await unlink(abs.value).catch(() => undefined);
    await pruneEmptyParents(dest, dirname(p));
  }
}

async function pruneEmptyParents(dest: string, rel: string): Promise<void> {
  let cur = rel;
  while (cur !== "." && cur !== "" && cur !== "/") {
    const abs = join(dest, cur);
    const st = await lstat(abs).catch(() => undefined);
    if (!st?.isDirectory() || (await readdir(abs)).length > 0) return;
    await rmdir(abs).catch(() => undefined);
    cur = dirname(cur);
  }
}
