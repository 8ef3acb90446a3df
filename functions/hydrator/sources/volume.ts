// The pvc:// source: a volume the hydrator published earlier, mounted
// read-only into the Job (a pvcClone source copied rather than cloned,
// functions/sources/pvc-clone.ts). It is the file:// reader with one rule
// more: the directory must be a published artifact (its .model-cache
// manifest), because only then is there something to verify the copy
// against. A volume without one is refused, naming how to make one, instead
// of being copied as an unverified tree.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Checked } from "../../common/checked.ts";
import { MANIFEST_FILE } from "../manifest.ts";
import { createFileSource, type FileSource } from "./file.ts";
import { SourceError, type ByteRange, type Listing, type RemoteObject, type Source } from "./types.ts";

export const VOLUME_SCHEME = "pvc";

/** The message a volume without a manifest fails with: the same words in the report, the Job and the docs. */
export function noManifestMessage(root: string): string {
  return (
    `the source volume holds no ${MANIFEST_FILE}: it was not published by the hydrator, so there is nothing to verify a copy against; ` +
    `publish it first (function-model-cache hydrate into it, or a ModelCache with storage.backend ExistingPVC and hydrate: true), ` +
    `or check it with: function-model-cache verify ${root}`
  );
}

class VolumeSource implements Source {
  readonly #root: string;
  readonly #files: FileSource;
  constructor(root: string, files: FileSource) {
    this.#root = root;
    this.#files = files;
  }
  async list(signal: AbortSignal): Promise<Listing> {
    const text = await readFile(join(this.#root, MANIFEST_FILE), "utf8").catch(() => undefined);
    if (text === undefined) throw new SourceError(noManifestMessage(this.#root), { retryable: false });
    // The file reader checks the manifest against its files and keeps the artifact's identity (file.ts).
    return this.#files.list(signal);
  }
  read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    return this.#files.read(object, range, signal);
  }
  supportsRanges(object: RemoteObject): boolean {
    return this.#files.supportsRanges(object);
  }
}

/** `pvc:///path` (the mount point in the Job) as a source. */
export function createVolumeSource(uri: string): Checked<Source> {
  const m = /^pvc:\/\/(\/.*)$/.exec(uri);
  if (m?.[1] === undefined) return { ok: false, error: `not a pvc:// URI with an absolute path: "${uri}"` };
  const root = m[1];
  const files = createFileSource(`file://${root}`);
  return files.ok ? { ok: true, value: new VolumeSource(root, files.value) } : files;
}
