// Small file-system helpers with the guarantees publishing needs: atomic
// replacement, durable renames, and directory creation that never follows a
// symlink out of the destination.
import { createReadStream } from "node:fs";
import { lstat, mkdir, open, rename, rm, symlink, unlink } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";

/** Writes `content` to `path` via a temp file, fsync and rename: readers see old or new, never a part. */
export async function writeAtomic(path: string, content: string | Uint8Array | Iterable<string>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fh = await open(tmp, "w", 0o644);
  try {
    if (typeof content === "string" || content instanceof Uint8Array) await fh.writeFile(content);
    // Pieces written as they are made (a manifest of 40,000 files): never the whole text at once.
    else for (const piece of content) await fh.writeFile(piece);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r").catch(() => undefined);
  if (fh === undefined) return;
  try {
    await fh.sync();
  } catch {
    // Some file systems (and tmpfs on old kernels) refuse fsync on directories; nothing to do.
  } finally {
    await fh.close();
  }
}

/**
 * mkdir -p of `rel` under `root`, refusing any existing component that is
 * not a real directory (a symlink planted in the destination must not
 * redirect writes outside it).
 */
export async function mkdirInside(root: string, rel: string): Promise<void> {
  if (rel === "" || rel === ".") return;
  let cur = root;
  for (const seg of rel.split("/")) {
    cur = join(cur, seg);
    const st = await lstat(cur).catch(() => undefined);
    if (st === undefined) {
      await mkdir(cur).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
      const again = await lstat(cur);
      if (!again.isDirectory()) throw new Error(`"${cur}" is not a directory`);
    } else if (st.isSymbolicLink()) {
      throw new Error(`"${cur}" is a symlink inside the destination: refusing to write through it`);
    } else if (!st.isDirectory()) {
      throw new Error(`"${cur}" exists and is not a directory`);
    }
  }
}

/** Atomically makes `path` a symlink to `target` (created beside it, renamed over). */
export async function symlinkAtomic(target: string, path: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await symlink(target, tmp);
  await rename(tmp, path).catch(async (err: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw err;
  });
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

export interface FileHashes {
  sha256: string;
  size: number;
}

/** sha256 of a file, streamed in 1 MiB reads (memory stays flat whatever the size). */
export async function hashFile(path: string, onBytes?: (n: number) => void): Promise<FileHashes> {
  const h = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    h.update(b);
    size += b.length;
    onBytes?.(b.length);
  }
  return { sha256: h.digest("hex"), size };
}
