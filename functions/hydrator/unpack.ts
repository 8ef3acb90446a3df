// Safe tar extraction (the OCI source's layers, any tar artifact). The
// archive is hostile until proven otherwise: every entry name must be a safe
// relative path; directories are created without following symlinks;
// symlinks and hard links are accepted only when they point at a regular file
// the archive already placed inside the destination, and are materialized as
// copies, so the result is a plain tree of regular files that SHA256SUMS and
// the manifest describe completely; devices, FIFOs and directory links are
// refused. tar-stream parses (ustar, pax, GNU long names); this module
// decides what reaches the disk.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, lstat } from "node:fs/promises";
import { join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";
import tar from "tar-stream";
import { mkdirInside } from "./fsutil.ts";
import { safeRelativePath } from "./paths.ts";

export interface ExtractedFile {
  path: string;
  size: number;
  sha256: string;
}

export class HostileArchive extends Error {
  readonly entry: string;
  constructor(entry: string, why: string) {
    super(`archive entry ${JSON.stringify(entry)}: ${why}`);
    this.name = "HostileArchive";
    this.entry = entry;
  }
}

/** Entry name -> safe relative path ("./a/b/" -> "a/b"), or a HostileArchive. */
export function entryPath(name: string): string {
  let n = name;
  while (n.startsWith("./")) n = n.slice(2);
  n = n.replace(/\/+$/, "");
  const safe = safeRelativePath(n);
  if (!safe.ok) throw new HostileArchive(name, safe.error);
  return n;
}

/**
 * mkdir -p inside the destination for an entry. A path component that is
 * already a file (an earlier entry) is the archive's doing, not the disk's:
 * reported as a HostileArchive so the run fails permanently instead of
 * retrying the same archive forever.
 */
async function mkdirFor(entryName: string, destDir: string, rel: string): Promise<void> {
  try {
    await mkdirInside(destDir, rel);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === "string") throw err; // a real I/O error (ENOSPC, EACCES, ...)
    throw new HostileArchive(entryName, (err as Error).message.replace(destDir, "<dest>"));
  }
}

export type Compression = "none" | "gzip" | "zstd";

/** Extracts the tar at `archive` into `destDir` (which must exist) and returns its regular files. */
export async function extractTar(archive: string, destDir: string, compression: Compression): Promise<ExtractedFile[]> {
  return extractTarStream(createReadStream(archive, { highWaterMark: 1 << 20 }), destDir, compression);
}

export async function extractTarStream(input: Readable, destDir: string, compression: Compression): Promise<ExtractedFile[]> {
  const files = new Map<string, ExtractedFile>();
  const extract = tar.extract();
  const decompress = compression === "gzip" ? createGunzip() : compression === "zstd" ? createZstdDecompress() : undefined;
  const consume = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      // tar-stream gives null for a typeflag it does not know (GNU sparse 'S', volume 'V', ...): refused below,
      // never taken for a regular file whose body would be written as the file.
      const type = h.type ?? "unknown";
      if (type === "pax-header" || type === "pax-global-header" || type === "gnu-long-path" || type === "gnu-long-link-path") {
        entry.resume();
        continue;
      }
      // `tar -C dir -cf x.tar .` starts with a "./" entry: the destination itself, already there.
      if (type === "directory" && /^(\.\/*)+$/.test(h.name)) {
        entry.resume();
        continue;
      }
      const rel = entryPath(h.name);
      if (type === "directory") {
        await mkdirFor(h.name, destDir, rel);
        entry.resume();
        continue;
      }
      if (type === "file" || type === "contiguous-file") {
        await mkdirFor(h.name, destDir, posix.dirname(rel) === "." ? "" : posix.dirname(rel));
        const target = join(destDir, rel);
        const existing = await lstat(target).catch(() => undefined);
        if (existing !== undefined && !existing.isFile()) throw new HostileArchive(h.name, "would replace a directory or link");
        const sha = createHash("sha256");
        let size = 0;
        const tap = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sha.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        });
        await pipeline(entry, tap, createWriteStream(target, { mode: 0o644 }));
        files.set(rel, { path: rel, size, sha256: sha.digest("hex") });
        continue;
      }
      if (type === "symlink" || type === "link") {
        const linkname = h.linkname ?? "";
        // A symlink's target is relative to its own directory; a hard link's to the archive root.
        const resolved =
          type === "symlink"
            ? linkname.startsWith("/")
              ? linkname
              : posix.normalize(posix.join(posix.dirname(rel), linkname))
            : posix.normalize(linkname.replace(/^(\.\/)+/, ""));
        const safe = safeRelativePath(resolved);
        if (!safe.ok || linkname.startsWith("/")) throw new HostileArchive(h.name, `${type} to ${JSON.stringify(linkname)} leaves the destination`);
        const source = files.get(resolved);
        if (source === undefined)
          throw new HostileArchive(h.name, `${type} to ${JSON.stringify(linkname)} does not name a regular file earlier in the archive`);
        await mkdirFor(h.name, destDir, posix.dirname(rel) === "." ? "" : posix.dirname(rel));
        await copyFile(join(destDir, resolved), join(destDir, rel));
        files.set(rel, { ...source, path: rel });
        entry.resume();
        continue;
      }
      throw new HostileArchive(h.name, `entries of type ${type} are not artifact content`);
    }
  })().catch((err: unknown) => {
    // Stop the feed too, so a refused entry cannot leave the pipeline waiting on backpressure.
    extract.destroy(err as Error);
    input.destroy();
    throw err;
  });
  const feed = decompress ? pipeline(input, decompress, extract) : pipeline(input, extract);
  // If the consumer refuses an entry, stop feeding; if feeding fails, the consumer ends too.
  const results = await Promise.allSettled([consume, feed]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    const first = results[0].status === "rejected" ? results[0].reason : (failed as PromiseRejectedResult).reason;
    input.destroy();
    throw first;
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}
