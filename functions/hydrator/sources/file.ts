// The file:// source: a directory on a mounted volume, removable media, or a
// Kubernetes ConfigMap/Secret volume. Those volumes are written by the
// kubelet's atomic writer: the visible names are symlinks into a hidden
// `..data` directory that is itself a symlink to a timestamped `..<date>`
// directory. So:
// - names starting with ".." are the writer's internals and are skipped (the
//   visible names reach the same files through them);
// - a symlink is followed only when it resolves inside the source directory;
//   one that leaves it (or is broken) fails the whole run (exit 3, naming
//   it) rather than being skipped: a volume that is not what the user thinks
//   it is must not produce a "verified" artifact missing a file, and its
//   target is never read, so nothing outside the source can be copied out;
// - a symlink to a file is a file under the link's name (a ConfigMap key);
// - a directory is read once, under its real name when it has one: symlinks
//   to directories are followed after the real tree, and only to directories
//   not read yet (a ConfigMap key with a '/' is such a link; loops end here).
import { createReadStream } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Checked } from "../../shared/checked.ts";
import { SourceError, type ByteRange, type Listing, type RemoteObject, type Source } from "./types.ts";

export function parseFileUri(uri: string): Checked<string> {
  if (!uri.startsWith("file://")) return { ok: false, error: `not a file:// URI: "${uri}"` };
  try {
    return { ok: true, value: fileURLToPath(uri) };
  } catch (err) {
    return { ok: false, error: `invalid file:// URI "${uri}": ${(err as Error).message}` };
  }
}

export class FileSource implements Source {
  readonly #root: string;
  readonly #uri: string;
  /** object id (relative path) -> real path on disk */
  readonly #paths = new Map<string, string>();
  constructor(root: string, uri: string) {
    this.#root = root;
    this.#uri = uri;
  }

  async list(_signal: AbortSignal): Promise<Listing> {
    let rootReal: string;
    try {
      rootReal = await realpath(this.#root);
      if (!(await stat(rootReal)).isDirectory()) throw new Error("not a directory");
    } catch (err) {
      throw new SourceError(`${this.#uri}: cannot read the source directory: ${(err as Error).message}`, { retryable: false, cause: err });
    }
    const objects: RemoteObject[] = [];
    const visited = new Set<string>([rootReal]);
    const linkedDirs: { real: string; relPath: string }[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      const names = (await readdir(dir)).sort();
      for (const name of names) {
        if (name.startsWith("..")) continue; // the kubelet atomic writer's internals
        const full = join(dir, name);
        const relPath = rel === "" ? name : `${rel}/${name}`;
        let st = await lstat(full);
        let real = full;
        const link = st.isSymbolicLink();
        if (link) {
          real = await realpath(full).catch(() => "");
          // The first segment, not a prefix: the kubelet's "..2026_..." directories start with ".." and are inside.
          const inside = real !== "" && (real === rootReal || real.startsWith(rootReal + sep)) && relative(rootReal, real).split(sep)[0] !== "..";
          if (!inside) {
            throw new SourceError(`${this.#uri}: "${relPath}" is a symlink that leaves the source directory (or is broken): refused`, { retryable: false });
          }
          st = await stat(real);
        }
        if (st.isDirectory()) {
          if (link) {
            linkedDirs.push({ real, relPath });
            continue;
          }
          visited.add(real);
          await walk(real, relPath);
        } else if (st.isFile()) {
          this.#paths.set(relPath, real);
          objects.push({ id: relPath, size: st.size, unpack: { kind: "file", path: relPath }, description: relPath });
        }
        // Sockets, FIFOs and devices are not artifact content: skipped.
      }
    };
    await walk(rootReal, "");
    for (let next = linkedDirs.shift(); next !== undefined; next = linkedDirs.shift()) {
      if (visited.has(next.real)) continue; // a second name for a directory already read, or a loop
      visited.add(next.real);
      await walk(next.real, next.relPath);
    }
    return { identity: { kind: "file", reference: this.#uri, resolved: "" }, objects };
  }

  async read(object: RemoteObject, range: ByteRange | undefined, _signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const path = this.#paths.get(object.id);
    if (path === undefined) throw new SourceError(`${object.id}: not in the listing`, { retryable: false });
    const stream = createReadStream(path, range ? { start: range.start, end: range.end } : {});
    return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
  }

  supportsRanges(_object: RemoteObject): boolean {
    return true;
  }
}

export function createFileSource(uri: string): Checked<FileSource> {
  const p = parseFileUri(uri);
  return p.ok ? { ok: true, value: new FileSource(p.value, uri) } : p;
}
