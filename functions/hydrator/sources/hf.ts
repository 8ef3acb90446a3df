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
import { SourceError, type ByteRange, type ByteStream, type Listing, type RemoteObject, type Source } from "./types.ts";

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

export interface HfFileInfo {
  path: string;
  size: number;
  /** git blob id (SHA-1) */
  blobId: string;
  lfsSha256?: string;
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

    const files: HfFileInfo[] = [];
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
        files.push({ path: e.path, size, blobId: e.oid, ...(e.lfs ? { lfsSha256: e.lfs.oid } : {}) });
      }
      const next = nextLink(res.headers.get("link"));
      // The next page must stay on the endpoint: a Link elsewhere would carry the token away.
      url = next === undefined ? undefined : new URL(next, url).toString();
      if (url !== undefined && new URL(url).origin !== new URL(this.#endpoint).origin) {
        throw new SourceError(`${what}: the tree listing's next page points to another host`, { retryable: false });
      }
    }
    const objects: RemoteObject[] = files.map((f) => ({
      id: f.path,
      size: f.size,
      expected: f.lfsSha256 ? { algorithm: "sha256", hex: f.lfsSha256 } : { algorithm: "git-blob-sha1", hex: f.blobId },
      unpack: { kind: "file", path: f.path },
      description: `${this.reference()}/${f.path}`,
    }));
    return {
      identity: { kind: "huggingFace", reference: this.reference(), resolved: commit, huggingFace: { repo, commit } },
      objects,
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
