// verify: re-check a published destination against its manifest and its
// SHA256SUMS, byte for byte, without any network. Used by `verify <dir>`, by
// `hydrate` to recognise a complete destination (and do nothing), and after
// publishing.
import { mapLimit } from "../common/concurrency.ts";
import { lstat, readdir, readFile, realpath } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join, relative, sep } from "node:path";
import { hashFile } from "./fsutil.ts";
import { hfRepoFolder, place, type Placement } from "./layout.ts";
import { Manifest, MANIFEST_DIR, MANIFEST_FILE, manifestDigest, parseSums, renderSums, SUMS_FILE } from "./manifest.ts";

export type VerifyResult = { ok: true; manifest: Manifest; bytes: number } | { ok: false; manifest?: Manifest; problems: string[] };

export async function readManifest(dir: string): Promise<{ ok: true; value: Manifest } | { ok: false; error: string; missing: boolean }> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), "utf8");
  } catch {
    return { ok: false, missing: true, error: `${MANIFEST_FILE} is missing: not a published artifact (or its publishing did not finish)` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, missing: false, error: `${MANIFEST_FILE} is not JSON` };
  }
  const m = Manifest.safeParse(json);
  if (!m.success) {
    const first = m.error.issues[0];
    return { ok: false, missing: false, error: `${MANIFEST_FILE} is not a manifest (${first ? `${first.path.join(".")}: ${first.message}` : "invalid"})` };
  }
  return { ok: true, value: m.data };
}

export interface VerifyOptions {
  expectDigest?: string;
  onBytes?: (n: number) => void;
  /** Files hashed at once (disks like a few readers). */
  concurrency?: number;
}

export async function verifyDir(dir: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const mr = await readManifest(dir);
  if (!mr.ok) return { ok: false, problems: [mr.error] };
  const manifest = mr.value;
  const problems: string[] = [];
  const digest = manifestDigest(manifest.identity, manifest.files);
  if (digest !== manifest.digest) problems.push(`the manifest's files and identity hash to ${digest}, not the ${manifest.digest} it records (edited?)`);
  if (opts.expectDigest !== undefined && opts.expectDigest !== manifest.digest) {
    problems.push(`the artifact is ${manifest.digest}, expected ${opts.expectDigest}`);
  }
  const placement = place(manifest.layout, manifest.files, manifest.identity, manifest.revision);
  if (!placement.ok) return { ok: false, manifest, problems: [...problems, placement.error] };

  const sumsText = await readFile(join(dir, SUMS_FILE), "utf8").catch(() => undefined);
  if (sumsText === undefined) problems.push(`${SUMS_FILE} is missing`);
  else {
    const parsed = parseSums(sumsText);
    if (!parsed.ok) problems.push(parsed.error);
    else if (renderSums(parsed.value) !== renderSums(placement.value.sums)) problems.push(`${SUMS_FILE} does not list exactly the manifest's files`);
  }

  const rootReal = await realpath(dir);
  let bytes = 0;
  const destToFile = new Map(placement.value.sums.map((s, i) => [s.path, manifest.files[i]]));
  const results = await mapLimit(placement.value.sums, opts.concurrency ?? 4, async (entry) => {
    const full = join(dir, entry.path);
    const real = await realpath(full).catch(() => undefined);
    if (real === undefined) return `${entry.path}: missing`;
    if (real !== rootReal && !real.startsWith(rootReal + sep)) return `${entry.path}: resolves outside the destination`;
    const f = destToFile.get(entry.path);
    const h = await hashFile(real, opts.onBytes).catch((err: Error) => err);
    if (h instanceof Error) return `${entry.path}: ${h.message}`;
    bytes += h.size;
    if (f !== undefined && h.size !== f.size) return `${entry.path}: ${h.size} bytes, the manifest says ${f.size}`;
    if (h.sha256 !== entry.sha256) return `${entry.path}: sha256 ${h.sha256}, the manifest says ${entry.sha256}`;
    return undefined;
  });
  for (const r of results) if (r !== undefined) problems.push(r);
  for (const extra of placement.value.extras) {
    const got = await readFile(join(dir, extra.destPath), "utf8").catch(() => undefined);
    // The tree cache is the hub client's own metadata: present or not, it is not the artifact.
    if (extra.destPath.includes("/trees/")) continue;
    if (got !== extra.content) problems.push(`${extra.destPath}: missing or not ${JSON.stringify(extra.content)}`);
  }
  problems.push(...(await unexpectedEntries(dir, manifest, placement.value)));
  return problems.length === 0 ? { ok: true, manifest, bytes } : { ok: false, manifest, problems };
}

/**
 * What the destination may hold beside the artifact, and nothing more: the
 * hydrator's own manifest and staging area; an empty lost+found at the root
 * (a fresh ext4 volume has one); for HuggingFaceCache only, the hub client's
 * bookkeeping for this repository (regular files: its lock files, its
 * version.txt, its empty .no_exist markers for this commit, its tree-listing
 * cache). Anything else, a symlink or a file of another shape included, is
 * "not part of the artifact".
 */
/** What `allowedBeside` reads of an artifact: its layout and, for HuggingFaceCache, the repo and commit. */
export type ArtifactShape = Pick<Manifest, "layout"> & { identity: Pick<Manifest["identity"], "huggingFace"> };

function allowedBeside(manifest: ArtifactShape, rel: string, st: Stats): "yes" | "descend" | "no" {
  const dir = st.isDirectory() && !st.isSymbolicLink();
  const file = st.isFile();
  if (rel === MANIFEST_DIR || rel === "lost+found") return dir ? "descend" : "no";
  if (rel === MANIFEST_FILE) return file ? "yes" : "no";
  // The hydrator's resumable state: kept after a failed run beside the old, still valid artifact.
  if (rel === `${MANIFEST_DIR}/staging`) return dir ? "yes" : "no";
  const hf = manifest.layout === "HuggingFaceCache" ? manifest.identity.huggingFace : undefined;
  if (hf === undefined) return "no";
  const repo = hfRepoFolder(hf.repo);
  if (rel === "hub/version.txt") return file ? "yes" : "no";
  if (dir && [`hub/.locks`, `hub/.locks/${repo}`, `hub/${repo}/.no_exist`, `hub/${repo}/.no_exist/${hf.commit}`, `hub/${repo}/trees`].includes(rel))
    return "descend";
  if (rel.startsWith(`hub/.locks/${repo}/`) && rel.endsWith(".lock")) return file ? "yes" : "no";
  if (rel.startsWith(`hub/${repo}/.no_exist/${hf.commit}/`)) return dir ? "descend" : file && st.size === 0 ? "yes" : "no";
  const trees = `hub/${repo}/trees/`;
  if (rel.startsWith(trees) && /^[^/]+\.json$/.test(rel.slice(trees.length))) return file ? "yes" : "no";
  return "no";
}

/** Every path a placement puts in the destination, SHA256SUMS included. */
export function placedPaths(p: Placement): string[] {
  return [SUMS_FILE, ...p.files.map((f) => f.destPath), ...p.links.map((l) => l.destPath), ...p.extras.map((e) => e.destPath)];
}

/** Files in the destination that the artifact does not hold: another artifact's bytes are drift, not success. */
async function unexpectedEntries(dir: string, manifest: Manifest, p: Placement): Promise<string[]> {
  return (await foreignEntries(dir, [manifest], new Set(placedPaths(p)))).map((rel) => `${rel}: not part of the artifact`);
}

/**
 * The first `limit` files under `dir` that are neither in `known` nor allowed
 * beside one of `shapes` (see allowedBeside): what `verify` would call "not
 * part of the artifact". `hydrate` asks the same question before it publishes,
 * so the two always agree.
 */
export async function foreignEntries(dir: string, shapes: readonly ArtifactShape[], known: ReadonlySet<string>, limit = 20): Promise<string[]> {
  const out: string[] = [];
  const rank = { no: 0, descend: 1, yes: 2 } as const;
  const walk = async (abs: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort()) {
      const full = join(abs, name);
      const rel = relative(dir, full).split(sep).join("/");
      const st = await lstat(full);
      let beside: "yes" | "descend" | "no" = "no";
      for (const shape of shapes) {
        const b = allowedBeside(shape, rel, st);
        if (rank[b] > rank[beside]) beside = b;
      }
      if (beside === "descend") await walk(full);
      else if (beside === "no") {
        if (st.isDirectory()) await walk(full);
        else if (!known.has(rel)) out.push(rel);
      }
      if (out.length >= limit) return;
    }
  };
  await walk(dir);
  return out.slice(0, limit);
}
