// The hf:// source: a repository on the Hugging Face hub (or a mirror at
// --endpoint / HF_ENDPOINT), through the hub's HTTP API:
//   GET /api/models/{repo}/revision/{rev}        -> the commit SHA a branch/tag resolves to
//   GET /api/models/{repo}/tree/{commit}?recursive=true  (paginated by Link: rel="next")
//                                                 -> every file with size, git blob id, LFS sha256
//   GET /{repo}/resolve/{commit}/{path}           -> the bytes (ranged; LFS redirects to a CDN)
// Everything after resolution names the commit, never the branch, so a
// branch moving mid-download cannot mix two revisions. HF_TOKEN is sent as a
// bearer token; fetch drops it on a cross-origin redirect (the CDN).
import { z } from "zod";
import { HF_REPO_ID } from "../manifest.ts";
import { redactUri, safeRelativePath } from "../paths.ts";
import type { Checked } from "../../common/checked.ts";
import { getJson, httpStream } from "./http-client.ts";
import type { HfTreeInfo } from "../layout.ts";
import { SourceError, type ByteRange, type ByteStream, type Listing, type RemoteObject, type Source, type Unpack } from "./types.ts";

export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

export interface HfLocation {
  repo: string;
  revision: string;
}

/** hf://<org>/<repo>[@revision]; a revision may hold '/' (refs/pr/1). */
export function parseHfUri(uri: string): Checked<HfLocation> {
  const m = /^hf:\/\/([^@]+?)(?:@(.+))?$/.exec(uri);
  if (m === null || m[1] === undefined) return { ok: false, error: `not an hf:// URI: "${uri}" (expected hf://<org>/<repo>[@revision])` };
  const repo = m[1];
  if (!HF_REPO_ID.test(repo) || repo.includes("..")) {
    return { ok: false, error: `invalid Hugging Face repo id "${repo}"` };
  }
  const revision = m[2] ?? "main";
  // The revision names a file under refs/ in the HuggingFaceCache layout: a path, checked like one (and no whitespace, as git refs).
  // eslint-disable-next-line no-control-regex
  if (revision.includes("..") || /[\s\u0000-\u001f]/.test(revision) || !safeRelativePath(revision).ok)
    return { ok: false, error: `invalid revision ${JSON.stringify(revision)}` };
  return { ok: true, value: { repo, revision } };
}

const RevisionInfo = z.looseObject({ sha: z.string().regex(/^[0-9a-f]{40}$/) });

const TreeEntry = z.looseObject({
  type: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative().optional(),
  oid: z.string().optional(),
  lfs: z.looseObject({ oid: z.string(), size: z.number().int().nonnegative() }).nullish(),
});
const TreePage = z.array(TreeEntry);

export interface HfSourceOptions {
  uri: string;
  endpoint?: string;
  env: Record<string, string | undefined>;
}

/**
 * One file of the commit, kept for the whole run as the listing entry the engine reads (RemoteObject) and the
 * tree entry the HuggingFaceCache layout reads (HfTreeInfo): its path, size, blob id and LFS sha256, and nothing
 * else. What the engine reads besides (id, expected, unpack, description) is made when read: 40,000 files used to
 * keep two objects per file (the listing entry and the tree entry), two small objects inside the first and a
 * concatenated description string, for the whole run (docs/benchmarks.md, "Many small files: nearly flat memory").
 */
export class HfFile implements RemoteObject, HfTreeInfo {
  readonly path: string;
  readonly size: number;
  readonly blobId: string;
  readonly lfsSha256: string | undefined;
  /** The repo's reference (hf://org/name@revision), shared by every file of the listing. */
  readonly #reference: string;
  constructor(reference: string, path: string, size: number, blobId: string, lfsSha256: string | undefined) {
    this.#reference = reference;
    this.path = path;
    this.size = size;
    this.blobId = blobId;
    this.lfsSha256 = lfsSha256;
  }
  get id(): string {
    return this.path;
  }
  /** An LFS file: its sha256; a small file: its git blob id, all the hub vouches for. */
  get expected(): NonNullable<RemoteObject["expected"]> {
    return this.lfsSha256 ? { algorithm: "sha256", hex: this.lfsSha256 } : { algorithm: "git-blob-sha1", hex: this.blobId };
  }
  get unpack(): Unpack {
    return { kind: "file", path: this.path };
  }
  get description(): string {
    return `${this.#reference}/${this.path}`;
  }
}

function encodePath(p: string): string {
  return p.split("/").map(encodeURIComponent).join("/");
}

/** The next page from a Link header (RFC 8288), as the hub paginates its tree listing. */
export function nextLink(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

export function createHfSource(opts: HfSourceOptions): Checked<HfSource> {
  const loc = parseHfUri(opts.uri);
  if (!loc.ok) return loc;
  const endpoint = (opts.endpoint ?? opts.env["HF_ENDPOINT"] ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, "");
  if (!/^https?:\/\//.test(endpoint)) return { ok: false, error: `invalid hub endpoint "${redactUri(endpoint)}"` };
  const token = opts.env["HF_TOKEN"] ?? opts.env["HUGGING_FACE_HUB_TOKEN"];
  return { ok: true, value: new HfSource(loc.value, endpoint, token && token !== "" ? token : undefined) };
}

export class HfSource implements Source {
  readonly location: HfLocation;
  readonly #endpoint: string;
  readonly #token: string | undefined;
  #commit: string | undefined;
  /** Every file of the commit, as the hub listed it (for the HuggingFaceCache layout's tree cache). */

  constructor(location: HfLocation, endpoint: string, token: string | undefined) {
    this.location = location;
    this.#endpoint = endpoint;
    this.#token = token;
  }

  #headers(): Record<string, string> {
    const h: Record<string, string> = { "user-agent": "function-model-cache" };
    if (this.#token) h["authorization"] = `Bearer ${this.#token}`;
    return h;
  }

  reference(): string {
    return `hf://${this.location.repo}@${this.location.revision}`;
  }

  async list(signal: AbortSignal): Promise<Listing> {
    const { repo, revision } = this.location;
    const what = `${this.reference()} (${redactUri(this.#endpoint)})`;
    const { json } = await getJson(
      `${this.#endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`,
      `${what}: resolving the revision`,
      this.#headers(),
      signal,
    );
    const info = RevisionInfo.safeParse(json);
    if (!info.success) throw new SourceError(`${what}: the hub's revision answer has no commit sha`, { retryable: false });
    const commit = info.data.sha;
    this.#commit = commit;

    const files: HfFile[] = [];
    const reference = this.reference();
    let url: string | undefined = `${this.#endpoint}/api/models/${repo}/tree/${commit}?recursive=true&expand=false`;
    for (let page = 0; url !== undefined; page++) {
      if (page > 100_000) throw new SourceError(`${what}: the tree listing does not end`, { retryable: false });
      const { json: pageJson, res } = await getJson(url, `${what}: listing files`, this.#headers(), signal);
      const entries = TreePage.safeParse(pageJson);
      if (!entries.success) throw new SourceError(`${what}: the hub's tree listing has an unexpected shape`, { retryable: false });
      for (const e of entries.data) {
        if (e.type !== "file") continue;
        const safe = safeRelativePath(e.path);
        if (!safe.ok) throw new SourceError(`${what}: the hub lists an unsafe path: ${safe.error}`, { retryable: false });
        const size = e.lfs?.size ?? e.size;
        if (size === undefined || e.oid === undefined) throw new SourceError(`${what}: "${e.path}" is listed without size or blob id`, { retryable: false });
        files.push(new HfFile(reference, e.path, size, e.oid, e.lfs ? e.lfs.oid : undefined));
      }
      const next = nextLink(res.headers.get("link"));
      // The next page must stay on the endpoint: a Link elsewhere would carry the token away.
      url = next === undefined ? undefined : new URL(next, url).toString();
      if (url !== undefined && new URL(url).origin !== new URL(this.#endpoint).origin) {
        throw new SourceError(`${what}: the tree listing's next page points to another host`, { retryable: false });
      }
    }
    // One object per file serves as both the listing and the layout's tree.
    return {
      identity: { kind: "huggingFace", reference, resolved: commit, huggingFace: { repo, commit } },
      objects: files,
      huggingFaceCache: { requestedRevision: revision, tree: files },
    };
  }

  async read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ByteStream> {
    if (this.#commit === undefined) throw new SourceError("read before list", { retryable: false });
    const url = `${this.#endpoint}/${this.location.repo}/resolve/${this.#commit}/${encodePath(object.id)}`;
    const what = `hf://${this.location.repo}@${this.#commit}/${object.id}`;
    return httpStream({ url, what, headers: this.#headers(), signal, ...(range ? { range } : {}) });
  }

  supportsRanges(_object: RemoteObject): boolean {
    return true;
  }
}
