// A local server speaking the Hugging Face hub's HTTP API: the one stand-in
// the project has (the hub cannot be reached from here). It serves generated
// repositories with the fields the real hub gives and the real clients read:
//   GET  /api/models/{repo}[/revision/{rev}]      {id, sha, siblings, ...}
//   GET  /api/models/{repo}/tree/{rev}[/{path}]    [{type, oid, size, path, lfs?}], paginated (Link: rel="next")
//   HEAD|GET /{repo}/resolve/{rev}/{path}           ETag (LFS: sha256; else git blob id), X-Repo-Commit,
//                                                   X-Linked-Etag/X-Linked-Size, Accept-Ranges, 206 on Range
// Auth: with a token set, requests without `Authorization: Bearer <token>` get
// 401. Faults can be injected per file: a 429 with Retry-After, a connection
// cut after N bytes, a stall, a corrupted byte, a throttle. Every request is
// logged so tests can count them. Its faithfulness is tested by downloading
// from it with the real huggingface_hub client (test/hydrator/hf-standin.test.ts).
import { createHash, randomBytes, type Hash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RepoFile {
  path: string;
  content: Buffer;
  /** Stored in LFS (the hub does so for large and binary files); default: size > 100 KiB or *.safetensors/*.bin. */
  lfs?: boolean;
}

export type Fault =
  | { kind: "status"; status: number; retryAfter?: number; times: number }
  | { kind: "cut"; afterBytes: number; times: number }
  | { kind: "stall"; afterBytes: number; times: number }
  | { kind: "corrupt"; offset: number }
  | { kind: "throttle"; bytesPerSecond: number };

export interface LoggedRequest {
  method: string;
  path: string;
  range?: string;
  authorization?: string;
  at: number;
}

interface StoredFile {
  path: string;
  content: Buffer;
  lfs: boolean;
  sha256: string;
  blobId: string;
}

interface Repo {
  id: string;
  commit: string;
  refs: Map<string, string>;
  files: Map<string, StoredFile>;
}

export interface HubStandin {
  endpoint: string;
  addRepo(id: string, files: RepoFile[], opts?: { branches?: string[]; commit?: string }): { commit: string };
  /** Faults for one file path of one repo, consumed as they fire. */
  fault(repo: string, path: string, f: Fault): void;
  clearFaults(): void;
  requests: LoggedRequest[];
  setToken(token: string | undefined): void;
  /** Tree listing page size (forces pagination in tests). */
  pageSize: number;
  stop(): Promise<void>;
}

/** A hash's update takes at most 2 GiB - 1 at once: larger contents (the benchmarks' hub-scale files) go in pieces. */
function updateAll(h: Hash, content: Buffer): Hash {
  const PIECE = 1 << 30;
  for (let at = 0; at < content.length; at += PIECE) h.update(content.subarray(at, at + PIECE));
  return h;
}

export function gitBlobId(content: Buffer): string {
  return updateAll(createHash("sha1").update(`blob ${content.length}\0`), content).digest("hex");
}

const sha256 = (b: Buffer): string => updateAll(createHash("sha256"), b).digest("hex");

export async function startHubStandin(): Promise<HubStandin> {
  const repos = new Map<string, Repo>();
  const faults = new Map<string, Fault[]>();
  const requests: LoggedRequest[] = [];
  let token: string | undefined;
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
      else res.destroy();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const hub: HubStandin = {
    endpoint,
    requests,
    pageSize: 1000,
    addRepo(id, files, opts = {}) {
      const commit = opts.commit ?? randomBytes(20).toString("hex");
      const stored = new Map<string, StoredFile>();
      for (const f of files) {
        const lfs = f.lfs ?? (f.content.length > 100 * 1024 || /\.(safetensors|bin|gguf)$/.test(f.path));
        stored.set(f.path, { path: f.path, content: f.content, lfs, sha256: sha256(f.content), blobId: gitBlobId(f.content) });
      }
      const refs = new Map<string, string>();
      for (const b of opts.branches ?? ["main"]) refs.set(b, commit);
      repos.set(id, { id, commit, refs, files: stored });
      return { commit };
    },
    fault(repo, path, f) {
      const k = `${repo}\0${path}`;
      faults.set(k, [...(faults.get(k) ?? []), f]);
    },
    clearFaults() {
      faults.clear();
    },
    setToken(t) {
      token = t;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function notFound(res: ServerResponse, code: "RepoNotFound" | "RevisionNotFound" | "EntryNotFound", message: string): void {
    json(res, 404, { error: message }, { "x-error-code": code, "x-error-message": message });
  }

  function resolveRev(repo: Repo, rev: string): string | undefined {
    if (repo.refs.has(rev)) return repo.refs.get(rev);
    return rev === repo.commit ? rev : undefined;
  }

  /** Splits "/{org}/{name}/rest..." where a repo id has one or two segments. */
  function findRepo(segments: string[]): { repo: Repo; rest: string[] } | undefined {
    for (const n of [2, 1]) {
      const id = segments.slice(0, n).join("/");
      const repo = repos.get(id);
      if (repo) return { repo, rest: segments.slice(n) };
    }
    return undefined;
  }

  function info(repo: Repo, commit: string): unknown {
    return {
      _id: createHash("md5").update(repo.id).digest("hex").slice(0, 24),
      id: repo.id,
      modelId: repo.id,
      author: repo.id.includes("/") ? repo.id.split("/")[0] : undefined,
      sha: commit,
      lastModified: "2026-01-01T00:00:00.000Z",
      private: false,
      disabled: false,
      gated: false,
      downloads: 0,
      likes: 0,
      tags: [],
      siblings: [...repo.files.values()].map((f) => ({ rfilename: f.path })),
      createdAt: "2026-01-01T00:00:00.000Z",
    };
  }

  function treeEntries(repo: Repo, prefix: string, recursive: boolean): unknown[] {
    const files = [...repo.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    const out: unknown[] = [];
    const dirs = new Set<string>();
    for (const f of files) {
      if (prefix !== "" && !f.path.startsWith(`${prefix}/`)) continue;
      const rel = prefix === "" ? f.path : f.path.slice(prefix.length + 1);
      const parts = rel.split("/");
      // Directories first as the hub lists them (one entry per directory seen).
      for (let i = 1; i < parts.length; i++) {
        const d = [prefix, ...parts.slice(0, i)].filter((x) => x !== "").join("/");
        if (!dirs.has(d) && (recursive || i === 1)) {
          dirs.add(d);
          out.push({ type: "directory", oid: createHash("sha1").update(d).digest("hex"), size: 0, path: d });
        }
      }
      if (!recursive && parts.length > 1) continue;
      out.push({
        type: "file",
        oid: f.blobId,
        size: f.lfs ? f.content.length : f.content.length,
        path: f.path,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 134 } } : {}),
      });
    }
    return out;
  }

  function takeFault(repo: string, path: string): Fault | undefined {
    const k = `${repo}\0${path}`;
    const list = faults.get(k);
    if (!list || list.length === 0) return undefined;
    const f = list[0] as Fault;
    if (f.kind === "status" || f.kind === "cut" || f.kind === "stall") {
      f.times--;
      if (f.times <= 0) list.shift();
    }
    return f;
  }

  function peekPersistent(repo: string, path: string): Fault[] {
    return (faults.get(`${repo}\0${path}`) ?? []).filter((f) => f.kind === "corrupt" || f.kind === "throttle");
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", endpoint);
    const path = decodeURIComponent(url.pathname);
    requests.push({
      method: req.method ?? "GET",
      path: url.pathname + url.search,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      at: Date.now(),
    });
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      json(res, 401, { error: "Invalid credentials in Authorization header" }, { "x-error-code": "RepoNotFound" });
      return;
    }
    const segs = url.pathname
      .split("/")
      .filter((s) => s !== "")
      .map(decodeURIComponent);

    if (segs[0] === "api" && segs[1] === "models") {
      const found = findRepo(segs.slice(2));
      if (!found) return notFound(res, "RepoNotFound", `Repository not found: ${path}`);
      const { repo, rest } = found;
      if (rest.length === 0) return json(res, 200, info(repo, repo.commit));
      if (rest[0] === "revision" && rest.length >= 2) {
        const commit = resolveRev(repo, rest.slice(1).join("/"));
        if (!commit) return notFound(res, "RevisionNotFound", `Invalid rev id: ${rest.slice(1).join("/")}`);
        return json(res, 200, info(repo, commit));
      }
      if (rest[0] === "tree" && rest.length >= 2) {
        const commit = resolveRev(repo, rest[1] as string);
        if (!commit) return notFound(res, "RevisionNotFound", `Invalid rev id: ${rest[1]}`);
        const recursive = ["true", "True", "1"].includes(url.searchParams.get("recursive") ?? "");
        const all = treeEntries(repo, rest.slice(2).join("/"), recursive);
        const cursor = Number(url.searchParams.get("cursor") ?? "0");
        const page = all.slice(cursor, cursor + hub.pageSize);
        const headers: Record<string, string> = {};
        if (cursor + hub.pageSize < all.length) {
          const next = new URL(url.toString());
          next.searchParams.set("cursor", String(cursor + hub.pageSize));
          headers["link"] = `<${next.toString()}>; rel="next"`;
        }
        return json(res, 200, page, headers);
      }
      return notFound(res, "EntryNotFound", `unknown API path ${path}`);
    }

    const found = findRepo(segs);
    if (!found || found.rest[0] !== "resolve" || found.rest.length < 3) return notFound(res, "RepoNotFound", `not found: ${path}`);
    const { repo, rest } = found;
    const commit = resolveRev(repo, rest[1] as string);
    if (!commit) return notFound(res, "RevisionNotFound", `Invalid rev id: ${rest[1]}`);
    const filePath = rest.slice(2).join("/");
    const file = repo.files.get(filePath);
    if (!file) return notFound(res, "EntryNotFound", `${filePath} does not exist at ${commit}`);

    const fault = req.method === "GET" ? takeFault(repo.id, filePath) : undefined;
    if (fault?.kind === "status") {
      const h: Record<string, string> = {};
      if (fault.retryAfter !== undefined) h["retry-after"] = String(fault.retryAfter);
      return json(res, fault.status, { error: `injected ${fault.status}` }, h);
    }
    const etag = `"${file.lfs ? file.sha256 : file.blobId}"`;
    const size = file.content.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = req.headers.range;
    if (range !== undefined) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      if (m === null) return json(res, 416, { error: "bad range" });
      if (m[1] === "") {
        start = Math.max(0, size - Number(m[2]));
      } else {
        start = Number(m[1]);
        end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
      if (start > end || start >= size) {
        res.writeHead(416, { "content-range": `bytes */${size}` });
        return void res.end();
      }
      status = 206;
    }
    const headers: Record<string, string> = {
      "content-type": "application/octet-stream",
      "content-length": String(end - start + 1),
      "accept-ranges": "bytes",
      etag,
      "x-repo-commit": commit,
      ...(file.lfs ? { "x-linked-etag": etag, "x-linked-size": String(size) } : {}),
      ...(status === 206 ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
    };
    res.writeHead(status, headers);
    if (req.method === "HEAD") return void res.end();

    let body = file.content.subarray(start, end + 1);
    const persistent = peekPersistent(repo.id, filePath);
    const corrupt = persistent.find((f) => f.kind === "corrupt");
    if (corrupt && corrupt.offset >= start && corrupt.offset <= end) {
      body = Buffer.from(body);
      const i = corrupt.offset - start;
      body[i] = (body[i] as number) ^ 0xff;
    }
    const throttle = persistent.find((f) => f.kind === "throttle");
    const cutAt = fault?.kind === "cut" || fault?.kind === "stall" ? fault.afterBytes : undefined;
    const piece = throttle ? Math.max(1024, Math.floor(throttle.bytesPerSecond / 20)) : 64 * 1024;
    let sent = 0;
    while (sent < body.length) {
      if (res.destroyed) return;
      if (cutAt !== undefined && sent >= cutAt) {
        if (fault?.kind === "cut") {
          res.socket?.destroy();
          return;
        }
        // stall: keep the connection open, send nothing more, until the client gives up.
        await new Promise<void>((resolve) => res.on("close", () => resolve()));
        return;
      }
      const n = Math.min(piece, body.length - sent, cutAt !== undefined ? cutAt - sent : Infinity);
      const ok = res.write(body.subarray(sent, sent + n));
      sent += n;
      if (!ok) await new Promise<void>((resolve) => res.once("drain", () => resolve()));
      if (throttle) await new Promise((r) => setTimeout(r, 50));
    }
    res.end();
  }

  return hub;
}
