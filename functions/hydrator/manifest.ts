// The manifest and SHA256SUMS: what a published artifact is, and the proof.
//
// `.model-cache/manifest.json` in the destination records the source
// (credentials removed), the immutable identity it resolved to, the layout and
// every file with size and sha256. Its digest, `sha256:<hex>` over a canonical
// JSON form of {schema, identity (without the user's reference), files}, is
// what identifies the artifact across clusters: the same bytes from the same
// resolved revision give the same digest whatever branch name, URL form or
// time they were fetched with. Timestamps, the reference, the layout and the
// request fingerprint are kept beside it, outside the digest.
import { createHash } from "node:crypto";
import { z } from "zod";
import { safeRelativePath } from "./paths.ts";
import type { Checked } from "../common/checked.ts";
import { canonicalJson } from "../common/canonical-json.ts";

export const MANIFEST_DIR = ".model-cache";
export const MANIFEST_FILE = `${MANIFEST_DIR}/manifest.json`;
export const SUMS_FILE = "SHA256SUMS";
export const MANIFEST_SCHEMA = "modelcache.dev/manifest/v1";

export const Layout = z.enum(["Flat", "HuggingFaceCache"]);
export type Layout = z.infer<typeof Layout>;

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A path read back from a manifest is as hostile as one a source lists: an
 * old manifest is a file in the destination that anyone with write access
 * to the volume may have planted, and publishing deletes what it names.
 */
export const SafePath = z.string().superRefine((p, ctx) => {
  const r = safeRelativePath(p);
  if (!r.ok) ctx.addIssue({ code: "custom", message: r.error });
});

/** A Hugging Face repo id, as the hub spells it: it becomes a directory name (models--org--name). */
export const HF_REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
/** A git commit as the hub resolves it: it becomes the snapshot directory's name. */
export const HF_COMMIT = /^[0-9a-f]{40}$/;

export const ManifestFile = z.object({
  /** Artifact-relative path (as the source names it), POSIX. */
  path: SafePath,
  size: z.number().int().nonnegative(),
  sha256: Hex64,
});
export type ManifestFile = z.infer<typeof ManifestFile>;

export const ManifestIdentity = z.object({
  kind: z.string(),
  resolved: z.string(),
  huggingFace: z
    .object({
      repo: z
        .string()
        .regex(HF_REPO_ID)
        .refine((r) => !r.includes(".."), "holds '..'"),
      commit: z.string().regex(HF_COMMIT),
    })
    .optional(),
});
export type ManifestIdentity = z.infer<typeof ManifestIdentity>;

/** The hydrate request that produced the artifact: lets a re-run recognise it has nothing to do. */
export const RequestFingerprint = z.object({
  source: z.string(),
  layout: Layout,
  include: z.array(z.string()),
  exclude: z.array(z.string()),
  /** Digest over the per-file pins given by the user (--sha256, --files), if any. */
  pins: z.string().optional(),
});
export type RequestFingerprint = z.infer<typeof RequestFingerprint>;

export const Manifest = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  source: z.string(),
  identity: ManifestIdentity,
  layout: Layout,
  /** For HuggingFaceCache: the revision name written under refs/ (so a path: refs/pr/1). */
  revision: SafePath.optional(),
  files: z.array(ManifestFile),
  totalBytes: z.number().int().nonnegative(),
  request: RequestFingerprint,
  createdAt: z.string(),
  tool: z.string(),
});
export type Manifest = z.infer<typeof Manifest>;

export function sortFiles(files: readonly ManifestFile[]): ManifestFile[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `files` in path order: itself when it already is (no copy of 40,000 entries), else a sorted copy. */
export function inPathOrder<T extends { path: string }>(files: readonly T[]): readonly T[] {
  for (let i = 1; i < files.length; i++) {
    if ((files[i - 1] as T).path > (files[i] as T).path) return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  return files;
}

/** Text is hashed or written in pieces of about this many characters: never one string of every file. */
const PIECE = 1 << 16;

/**
 * The artifact's identity: sha256 over the canonical {schema, identity, files}, that is
 * `canonicalJson({schema, identity, files: [{path, size, sha256}, …] sorted by path})`. The same bytes are fed to
 * the hash a piece at a time (keys sorted: files, identity, schema; each file's keys: path, sha256, size), so
 * 40,000 files never make one string of several MiB (manifest.test.ts checks it equals the one-string form).
 */
export function manifestDigest(identity: ManifestIdentity, files: readonly ManifestFile[]): string {
  const id: ManifestIdentity = { kind: identity.kind, resolved: identity.resolved, ...(identity.huggingFace ? { huggingFace: identity.huggingFace } : {}) };
  const h = createHash("sha256");
  let piece = '{"files":[';
  let first = true;
  for (const f of inPathOrder(files)) {
    piece += `${first ? "" : ","}{"path":${JSON.stringify(f.path)},"sha256":${JSON.stringify(f.sha256)},"size":${JSON.stringify(f.size)}}`;
    first = false;
    if (piece.length >= PIECE) {
      h.update(piece);
      piece = "";
    }
  }
  h.update(`${piece}],"identity":${canonicalJson(id)},"schema":${JSON.stringify(MANIFEST_SCHEMA)}}`);
  return `sha256:${h.digest("hex")}`;
}

/** The digest of a file set alone: the resolved identity of sources that have no other (file://). */
export function fileSetDigest(files: readonly ManifestFile[]): string {
  const h = createHash("sha256");
  for (const f of inPathOrder(files)) h.update(`${f.path}\0${f.size}\0${f.sha256}\n`);
  return `sha256:${h.digest("hex")}`;
}

/**
 * The manifest file's text, `JSON.stringify(manifest, null, 2) + "\n"`, in pieces: the files one after another
 * (each as JSON.stringify prints it at that depth) instead of one string of every file, written as made
 * (fsutil.writeAtomic). A top-level key is the only line starting with two spaces and a quote (JSON escapes every
 * newline inside a string), so the files' place in the text is found exactly.
 */
export function* manifestText(manifest: Manifest): Generator<string> {
  if (manifest.files.length === 0) {
    yield `${JSON.stringify(manifest, null, 2)}\n`;
    return;
  }
  const empty = '\n  "files": []';
  const head = JSON.stringify({ ...manifest, files: [] }, null, 2);
  const at = head.indexOf(empty);
  let piece = `${head.slice(0, at)}\n  "files": [\n`;
  let first = true;
  for (const f of manifest.files) {
    piece += `${first ? "" : ",\n"}    ${JSON.stringify(f, null, 2).replaceAll("\n", "\n    ")}`;
    first = false;
    if (piece.length >= PIECE) {
      yield piece;
      piece = "";
    }
  }
  yield `${piece}\n  ]${head.slice(at + empty.length)}\n`;
}

export interface SumsEntry {
  sha256: string;
  /** Destination-relative path. */
  path: string;
}

/** `sha256sum` format: "<hex>  <path>\n" per file (text mode), sorted by path. */
export function renderSums(entries: readonly SumsEntry[]): string {
  return [...sumsText(entries)].join("");
}

/** renderSums in pieces, written as made: never one string of every file. */
export function* sumsText(entries: readonly SumsEntry[]): Generator<string> {
  let piece = "";
  for (const e of inPathOrder(entries)) {
    piece += `${e.sha256}  ${e.path}\n`;
    if (piece.length >= PIECE) {
      yield piece;
      piece = "";
    }
  }
  if (piece !== "") yield piece;
}

export function parseSums(text: string): Checked<SumsEntry[]> {
  const out: SumsEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === "") continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) return { ok: false, error: `${SUMS_FILE} line ${i + 1} is not "<sha256>  <path>"` };
    out.push({ sha256: m[1], path: m[2] });
  }
  return { ok: true, value: out };
}
