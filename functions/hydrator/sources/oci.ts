// The oci:// source: an OCI artifact (ModelPack or plain ORAS) from any
// registry speaking the OCI distribution API, by hand with fetch.
//
// Identity: a tag resolves to the digest of the manifest (or index) it names,
// computed over the bytes received and checked against the registry's
// Docker-Content-Digest (and against the digest in the reference, when one is
// given). Every layer is a blob whose sha256 digest is its expected digest.
import { parseRetryAfter } from "./retry-after.ts";
import { createHash } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { Readable } from "node:stream";
import { request as undiciRequest } from "undici";
import { networkFailure } from "../network-errors.ts";
import { basicAuthorization, loadCredentials, parseChallenge, parseTokenResponse, type RegistryCredentials } from "./oci-auth.ts";
import type { Checked } from "../../common/checked.ts";
import {
  formatReference,
  isDockerHub,
  layersToObjects,
  MANIFEST_ACCEPT,
  parseManifestDocument,
  parseOciReference,
  pickFromIndex,
  type OciReference,
} from "./oci-manifest.ts";
import { rememberSecret } from "../scrub.ts";
import { followRedirects } from "./http-client.ts";
import { SourceError, type ByteRange, type ByteStream, type Listing, type RemoteObject, type Source } from "./types.ts";

/** A blob's body as undici's `request` gives it: a Node stream (destroyed when not read). */
type NodeBody = Readable;

export interface OciSourceOptions {
  uri: string;
  /** Plain HTTP for this registry (loopback registries use it without asking). */
  plainHttp?: boolean;
  /** Where REGISTRY_AUTH_FILE / DOCKER_CONFIG / HOME are read from. */
  env?: Record<string, string | undefined>;
  /** For tests. */
  fetch?: typeof fetch;
}

// Registries cap manifests at 4 MiB; a larger body is not a manifest.
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function isLoopbackHost(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A SourceError for a non-success HTTP status. */
function statusError(res: Response, what: string, hint = ""): SourceError {
  const status = res.status;
  const retryable = status === 429 || status >= 500;
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  return new SourceError(`${what}: HTTP ${status}${res.statusText ? ` ${res.statusText}` : ""}${hint}`, {
    status,
    retryable,
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}

function networkError(err: unknown, what: string, signal: AbortSignal, url: string | URL): Error {
  if (signal.aborted) return err instanceof Error ? err : new Error(String(err));
  // Failures without an HTTP answer, in words (../network-errors.ts): retried unless TLS trust or a refused address.
  const f = networkFailure(err, String(url));
  if (f !== undefined) return new SourceError(`${what}: ${f.text}`, { retryable: f.retryable, cause: err });
  const cause = (err as { cause?: { message?: string } }).cause;
  return new SourceError(`${what}: network error: ${cause?.message ?? (err as Error).message}`, { retryable: true, cause: err });
}

/** Streams `[start, end]` of a whole-object body: the fallback when a registry ignores Range. */
export function sliceStream(body: ReadableStream<Uint8Array>, start: number, end: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        if (pos > end) {
          controller.close();
          await reader.cancel();
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          controller.error(new SourceError(`the body ended at byte ${pos}, before byte ${end}`, { retryable: true }));
          return;
        }
        const chunkStart = pos;
        pos += value.length;
        if (pos <= start) continue;
        const from = Math.max(0, start - chunkStart);
        const to = Math.min(value.length, end + 1 - chunkStart);
        controller.enqueue(value.subarray(from, to));
        return;
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}

export class OciSource implements Source {
  readonly #ref: OciReference;
  readonly #base: string; // scheme://api-host
  readonly #env: Record<string, string | undefined>;
  readonly #fetch: typeof fetch;
  #authorization: string | undefined;
  #credentials: RegistryCredentials | undefined | null = null; // null: not loaded yet
  #ranges = false;

  constructor(ref: OciReference, opts: { plainHttp: boolean; env: Record<string, string | undefined>; fetch: typeof fetch }) {
    this.#ref = ref;
    const apiHost = isDockerHub(ref.registry) ? "registry-1.docker.io" : ref.registry;
    this.#base = `${opts.plainHttp ? "http" : "https"}://${apiHost}`;
    this.#env = opts.env;
    this.#fetch = opts.fetch;
  }

  get #where(): string {
    return formatReference(this.#ref);
  }

  async #creds(): Promise<RegistryCredentials | undefined> {
    if (this.#credentials === null) {
      const loaded = await loadCredentials(this.#ref.registry, this.#env);
      if (!loaded.ok) throw new SourceError(loaded.error, { retryable: false });
      this.#credentials = loaded.value;
      // Never echoed back by a registry's error page into the report.
      rememberSecret(loaded.value?.password);
      if (loaded.value) rememberSecret(basicAuthorization(loaded.value));
    }
    return this.#credentials;
  }

  /** One GET against the registry API, answering an auth challenge once. */
  async #get(path: string, headers: Record<string, string>, signal: AbortSignal, what: string): Promise<Response> {
    return (await this.#request(path, headers, signal, what, false)).res;
  }

  /**
   * A GET of `path`, authorized as the registry asks. With `stream`, sent with undici's `request` (the same global
   * dispatcher as fetch, so the address guard applies): the answer's headers come as a body-less Response and the
   * body as `body`, a Node stream of the socket's buffers, without fetch's web-stream layer (blob reads; see
   * http-client.ts's httpStream).
   */
  async #request(
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    what: string,
    stream: boolean,
  ): Promise<{ res: Response; body?: NodeBody }> {
    const url = `${this.#base}/v2/${this.#ref.repository}/${path}`;
    let body: NodeBody | undefined;
    const sendOnce = async (u: string, init: { method: string; headers: Record<string, string>; redirect: "manual" }): Promise<Response> => {
      if (!stream) return this.#fetch(u, { ...init, signal });
      body?.destroy();
      const r = await undiciRequest(u, { method: init.method as "GET", headers: init.headers, signal });
      body = r.body;
      const h = new Headers();
      for (const [k, v] of Object.entries(r.headers)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, x);
      return new Response(null, { status: r.statusCode, statusText: STATUS_CODES[r.statusCode] ?? "", headers: h });
    };
    // Blobs are often served by a redirect to storage: followed by the hydrator's one redirect rule
    // (http(s) only, a bad target is permanent, the Authorization stays with the registry's origin).
    const send = async (): Promise<Response> =>
      followRedirects(url, "GET", { ...headers, ...(this.#authorization ? { authorization: this.#authorization } : {}) }, what, async (u, init) => {
        try {
          return await sendOnce(u, init);
        } catch (err) {
          throw networkError(err, what, signal, u);
        }
      });
    let res = await send();
    if (res.status !== 401) return { res, ...(body ? { body } : {}) };
    body?.destroy();
    await res.body?.cancel();
    const hadAuth = this.#authorization !== undefined;
    this.#authorization = await this.#authorize(res.headers.get("www-authenticate"), signal);
    res = await send();
    if (res.status === 401) {
      body?.destroy();
      await res.body?.cancel();
      const creds = await this.#creds();
      throw new SourceError(
        creds
          ? `${what}: the registry rejected the credentials for ${this.#ref.registry} from ${creds.from} (HTTP 401)`
          : `${what}: the registry requires authentication and no credentials for ${this.#ref.registry} were found (set REGISTRY_AUTH_FILE or DOCKER_CONFIG to a docker config with an "auths" entry for it)`,
        { status: 401, retryable: hadAuth }, // an expired token is worth one more try
      );
    }
    return { res, ...(body ? { body } : {}) };
  }

  /** The Authorization value that answers a 401's challenge. */
  async #authorize(header: string | null, signal: AbortSignal): Promise<string> {
    const challenge = parseChallenge(header);
    const creds = await this.#creds();
    const noCreds = `${this.#where}: the registry requires authentication and no credentials for ${this.#ref.registry} were found (set REGISTRY_AUTH_FILE or DOCKER_CONFIG to a docker config with an "auths" entry for it)`;
    if (challenge === undefined || challenge.scheme === "basic") {
      if (creds === undefined) throw new SourceError(noCreds, { status: 401, retryable: false });
      return basicAuthorization(creds);
    }
    if (challenge.scheme !== "bearer") {
      throw new SourceError(`${this.#where}: unsupported authentication scheme "${challenge.scheme}"`, {
        status: 401,
        retryable: false,
      });
    }
    const realm = challenge.params["realm"];
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm ?? "");
      if (tokenUrl.protocol !== "https:" && tokenUrl.protocol !== "http:") throw new Error("scheme");
    } catch {
      throw new SourceError(`${this.#where}: the registry's Bearer challenge has no usable realm`, {
        status: 401,
        retryable: false,
      });
    }
    if (challenge.params["service"]) tokenUrl.searchParams.set("service", challenge.params["service"]);
    tokenUrl.searchParams.set("scope", challenge.params["scope"] ?? `repository:${this.#ref.repository}:pull`);
    const what = `${this.#where}: token service ${tokenUrl.origin}`;
    let res: Response;
    try {
      res = await this.#fetch(tokenUrl, {
        headers: creds ? { authorization: basicAuthorization(creds) } : {},
        signal,
      });
    } catch (err) {
      throw networkError(err, what, signal, tokenUrl);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new SourceError(creds ? `${what} rejected the credentials from ${creds.from} (HTTP ${res.status})` : noCreds, {
        status: res.status,
        retryable: false,
      });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw statusError(res, what);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      throw new SourceError(`${what} answered with something other than JSON`, { retryable: false });
    }
    const token = parseTokenResponse(json);
    if (!token.ok) throw new SourceError(`${what}: ${token.error}`, { retryable: false });
    rememberSecret(token.value);
    return `Bearer ${token.value}`;
  }

  /** Fetches a manifest or index and checks its digest; returns the text and the digest it has. */
  async #manifest(
    reference: string,
    expectDigest: string | undefined,
    signal: AbortSignal,
  ): Promise<{ text: string; digest: string; contentType: string | null }> {
    const what = `${formatReference({ ...this.#ref, ...(reference.startsWith("sha256:") ? { tag: undefined, digest: reference } : { tag: reference, digest: undefined }) })}`;
    const res = await this.#get(`manifests/${reference}`, { accept: MANIFEST_ACCEPT }, signal, what);
    if (!res.ok) {
      await res.body?.cancel();
      throw statusError(res, what, res.status === 404 ? " (no such manifest: check the repository and tag)" : res.status === 403 ? " (access denied)" : "");
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new SourceError(`${what}: the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, { retryable: false });
    }
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (expectDigest !== undefined && digest !== expectDigest) {
      throw new SourceError(`${what}: the registry sent a manifest whose digest is ${digest}, not ${expectDigest}`, {
        retryable: false,
      });
    }
    const claimed = res.headers.get("docker-content-digest");
    if (claimed !== null && claimed.startsWith("sha256:") && claimed !== digest) {
      throw new SourceError(`${what}: the manifest's digest is ${digest} but the registry says ${claimed}`, {
        retryable: false,
      });
    }
    return { text: new TextDecoder().decode(bytes), digest, contentType: res.headers.get("content-type") };
  }

  async list(signal: AbortSignal): Promise<Listing> {
    const top = await this.#manifest(this.#ref.digest ?? (this.#ref.tag as string), this.#ref.digest, signal);
    const doc = parseManifestDocument(top.text, top.contentType);
    if (!doc.ok) throw new SourceError(`${this.#where}: ${doc.error}`, { retryable: false });
    let manifest;
    let where = `${this.#where}`;
    if (doc.value.kind === "index") {
      const picked = pickFromIndex(doc.value.index);
      if (!picked.ok) throw new SourceError(`${this.#where}: ${picked.error}`, { retryable: false });
      const child = await this.#manifest(picked.value.digest, picked.value.digest, signal);
      const childDoc = parseManifestDocument(child.text, child.contentType);
      if (!childDoc.ok || childDoc.value.kind !== "manifest") {
        throw new SourceError(
          `${this.#where}: the index entry ${picked.value.digest} is not an image manifest${childDoc.ok ? " (nested indexes are not supported)" : `: ${childDoc.error}`}`,
          { retryable: false },
        );
      }
      manifest = childDoc.value.manifest;
      where = `${this.#where} (manifest ${picked.value.digest})`;
    } else {
      manifest = doc.value.manifest;
    }
    const objects = layersToObjects(manifest, where);
    if (!objects.ok) throw new SourceError(objects.error, { retryable: false });
    if (objects.value.length === 0) throw new SourceError(`${where}: the artifact has no layers`, { retryable: false });
    this.#ranges = await this.#probeRanges(objects.value, signal);
    return {
      identity: { kind: "oci", reference: formatReference(this.#ref), resolved: top.digest },
      objects: objects.value,
    };
  }

  /**
   * Whether blob GETs honour Range: one single-byte request on the largest
   * blob. Registries that redirect to storage that ignores it, or proxies
   * that strip it, are read whole instead.
   */
  async #probeRanges(objects: RemoteObject[], signal: AbortSignal): Promise<boolean> {
    const largest = objects.reduce((a, b) => (b.size > a.size ? b : a));
    if (largest.size < 2 || largest.expected === undefined) return false;
    const digest = `sha256:${largest.expected.hex}`;
    const res = await this.#get(`blobs/${digest}`, { range: "bytes=0-0" }, signal, `${this.#where}: blob ${digest}`);
    await res.body?.cancel();
    if (res.status === 206) return (res.headers.get("content-range") ?? "").startsWith("bytes 0-0/");
    if (res.ok) return false;
    throw statusError(res, `${this.#where}: blob ${digest}`);
  }

  async read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ByteStream> {
    if (object.expected === undefined) {
      throw new SourceError(`${this.#where}: object ${object.id} has no blob digest`, { retryable: false });
    }
    const digest = `sha256:${object.expected.hex}`;
    const what = `${this.#where}: blob ${digest}${object.unpack.kind === "file" ? ` (${object.unpack.path})` : ""}`;
    // The default fetch: the blob's body read as a Node stream (cheaper per byte); an injected fetch (tests): its body.
    const stream = this.#fetch === fetch;
    const { res, body: nodeBody } = await this.#request(
      `blobs/${digest}`,
      // identity: a transparently decompressed body would not match the blob digest.
      { "accept-encoding": "identity", ...(range === undefined ? {} : { range: `bytes=${range.start}-${range.end}` }) },
      signal,
      what,
      stream,
    );
    const drop = async (): Promise<void> => {
      nodeBody?.destroy();
      await res.body?.cancel();
    };
    if (!res.ok) {
      await drop();
      throw statusError(res, what, res.status === 404 ? " (blob unknown to the registry)" : "");
    }
    const body: ByteStream | null = nodeBody ?? res.body;
    if (body === null) throw new SourceError(`${what}: the response had no body`, { retryable: true });
    if (range === undefined) {
      const length = res.headers.get("content-length");
      if (res.status !== 200 || (length !== null && Number(length) !== object.size)) {
        await drop();
        throw new SourceError(`${what}: expected ${object.size} bytes, the registry sent ${length ?? "?"} (HTTP ${res.status})`, {
          retryable: false,
        });
      }
      return body;
    }
    if (res.status === 206) {
      const cr = res.headers.get("content-range") ?? "";
      if (!cr.startsWith(`bytes ${range.start}-${range.end}/`)) {
        await drop();
        throw new SourceError(`${what}: asked for bytes ${range.start}-${range.end}, got "${cr}"`, { retryable: false });
      }
      return body;
    }
    // 200: the whole blob came back; keep only the asked-for bytes.
    return sliceStream(nodeBody ? (Readable.toWeb(nodeBody) as ReadableStream<Uint8Array>) : (res.body as ReadableStream<Uint8Array>), range.start, range.end);
  }

  supportsRanges(_object: RemoteObject): boolean {
    return this.#ranges;
  }
}

/** Builds an OCI source; errors are values (a malformed reference). */
export function createOciSource(opts: OciSourceOptions): Checked<OciSource> {
  const ref = parseOciReference(opts.uri);
  if (!ref.ok) return ref;
  return {
    ok: true,
    value: new OciSource(ref.value, {
      plainHttp: opts.plainHttp ?? isLoopbackHost(ref.value.registry),
      env: opts.env ?? process.env,
      fetch: opts.fetch ?? fetch,
    }),
  };
}
