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
//
// A directory the hydrator published (a bundle carried across an air gap,
// docs/hydrator.md "Air gap") is read as that artifact: its SHA256SUMS and
// .model-cache/ are not content, every file is checked against the digest its
// manifest records, and the artifact keeps the identity it was first resolved
// to (a hub commit, an OCI digest), so it has the same manifest digest on this
// side as on the connected one and --expect-manifest-digest holds end to end.
import { createReadStream } from "node:fs";
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Checked } from "../../common/checked.ts";
import { Manifest, MANIFEST_DIR, MANIFEST_FILE, manifestDigest, SUMS_FILE } from "../manifest.ts";
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
    const bundle = await this.#publishedBundle(rootReal, objects);
    if (bundle !== undefined) return bundle;
    return { identity: { kind: "file", reference: this.#uri, resolved: "" }, objects };
  }

  /** The listing of a directory the hydrator published, as that artifact; undefined for any other directory. */
  async #publishedBundle(rootReal: string, listed: readonly RemoteObject[]): Promise<Listing | undefined> {
    const text = await readFile(join(rootReal, MANIFEST_FILE), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const refuse = (why: string): SourceError =>
      new SourceError(`${this.#uri} is a published bundle (it has ${MANIFEST_FILE}) but ${why}; check it with: function-model-cache verify ${rootReal}`, {
        retryable: false,
      });
    let parsed;
    try {
      parsed = Manifest.safeParse(JSON.parse(text));
    } catch {
      throw refuse("its manifest is not JSON");
    }
    if (!parsed.success) throw refuse("its manifest does not parse");
    const m = parsed.data;
    if (manifestDigest(m.identity, m.files) !== m.digest) throw refuse("its manifest's files and identity do not hash to the digest it records (edited?)");
    if (m.layout !== "Flat") {
      throw refuse(`its layout is ${m.layout}: only a Flat bundle is read as a source (carry a ${m.layout} bundle as it is, rsync -a, and verify it in place)`);
    }
    const content = listed.filter((o) => o.id !== SUMS_FILE && o.id !== MANIFEST_DIR && !o.id.startsWith(`${MANIFEST_DIR}/`));
    const byPath = new Map(m.files.map((f) => [f.path, f]));
    const extra = content.filter((o) => !byPath.has(o.id)).map((o) => o.id);
    const onDisk = new Set(content.map((o) => o.id));
    const missing = m.files.filter((f) => !onDisk.has(f.path)).map((f) => f.path);
    if (extra.length > 0 || missing.length > 0) {
      throw refuse(
        `its files are not the ones its manifest lists (${[...missing.slice(0, 3).map((p) => `${p}: missing`), ...extra.slice(0, 3).map((p) => `${p}: not part of it`)].join(", ")})`,
      );
    }
    const objects = content.map((o) => {
      const f = byPath.get(o.id);
      if (f !== undefined && f.size !== o.size) throw refuse(`${o.id} has ${o.size} bytes, its manifest says ${f.size}`);
      // The bundle vouches for every file: checked as it is read.
      return f === undefined ? o : { ...o, expected: { algorithm: "sha256" as const, hex: f.sha256 } };
    });
    const { kind, resolved, huggingFace } = m.identity;
    return { identity: { kind, reference: this.#uri, resolved, ...(huggingFace ? { huggingFace } : {}) }, objects };
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
