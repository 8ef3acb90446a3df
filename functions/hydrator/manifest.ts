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

/** The artifact's identity: sha256 over the canonical {schema, identity, files}. */
export function manifestDigest(identity: ManifestIdentity, files: readonly ManifestFile[]): string {
  const id: ManifestIdentity = { kind: identity.kind, resolved: identity.resolved, ...(identity.huggingFace ? { huggingFace: identity.huggingFace } : {}) };
  const canonical = canonicalJson({
    schema: MANIFEST_SCHEMA,
    identity: id,
    files: sortFiles(files).map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
  });
  return `sha256:${createHash("sha256").update(canonical).digest("hex")}`;
}

/** The digest of a file set alone: the resolved identity of sources that have no other (file://). */
export function fileSetDigest(files: readonly ManifestFile[]): string {
  const h = createHash("sha256");
  for (const f of sortFiles(files)) h.update(`${f.path}\0${f.size}\0${f.sha256}\n`);
  return `sha256:${h.digest("hex")}`;
}

export interface SumsEntry {
  sha256: string;
  /** Destination-relative path. */
  path: string;
}

/** `sha256sum` format: "<hex>  <path>\n" per file (text mode), sorted by path. */
export function renderSums(entries: readonly SumsEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => `${e.sha256}  ${e.path}\n`)
    .join("");
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
