// The azure:// source: every blob under azure://<account>/<container>/<prefix>
// in Azure Blob Storage (the public cloud, a sovereign cloud, a private
// endpoint, Azurite), through the official @azure/storage-blob client.
//
// Identity: the mutable prefix resolves to the exact blobs it held when listed:
// their version ids where the account keeps versions (immutable: a later
// overwrite leaves the listed version readable), else their ETags (a later
// overwrite makes the read fail with 412, never mixes generations). The
// resolved identity is a digest over the sorted (name, size, version-or-ETag)
// list (with the newest version id in front where there are versions), and
// every read is pinned the same way. Pinned (--azure-versions, the fleet's
// pin): the listing asks for every version and takes, per blob, the newest no
// newer than the pin's newest, which must give the pin's digest; so on a
// versioned account a second cluster reads the very versions the first
// verified, even after an overwrite.
// Integrity: a blob's Content-MD5, where it has one (the service computes it
// for a single-shot upload; a block-list upload carries it only if the
// uploader set it, as azcopy --put-md5 does), is checked on the same bytes as
// SHA-256 (RemoteObject.checks).
// Credentials: only AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_KEY (Shared Key;
// the SAS token when a Secret holds both); without either, anonymous (a
// public container). No connection string (it
// names its own endpoint, which the tenancy checks would not see) and no Entra
// ID chain (it would reach the metadata service and login hosts: docs/security.md).
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { AnonymousCredential, ContainerClient, StorageSharedKeyCredential, type BlobItem, type StoragePipelineOptions } from "@azure/storage-blob";
import type { AddressClass } from "../../api/address-classes.ts";
import type { Checked } from "../../common/checked.ts";
import { guardedLookup, literalRefusal } from "../address-guard.ts";
import { safeRelativePath } from "../paths.ts";
import { rememberSecret, rememberUrl } from "../scrub.ts";
import { azureSourceError } from "./azure-errors.ts";
import { SourceError, type ByteRange, type Listing, type RemoteObject, type ServiceDigest, type Source } from "./types.ts";

export interface AzureLocation {
  account: string;
  container: string;
  /** The blob name prefix as given (may be empty, may name a single blob). */
  prefix: string;
}

// Azure's naming rules: accounts 3-24 lowercase letters and digits; containers 3-63 lowercase letters, digits and
// single hyphens, starting and ending with a letter or digit.
export const ACCOUNT_RE = /^[a-z0-9]{3,24}$/;
export const CONTAINER_RE = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

export function parseAzureUri(uri: string): Checked<AzureLocation> {
  const m = /^azure:\/\/([^/?#]+)\/([^/?#]+)(?:\/([^?#]*))?$/.exec(uri);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    return { ok: false, error: `not an azure:// URI: "${uri}" (expected azure://<account>/<container>/<prefix>)` };
  }
  if (!ACCOUNT_RE.test(m[1])) return { ok: false, error: `invalid storage account name "${m[1]}" in "${uri}" (3-24 lowercase letters and digits)` };
  if (!CONTAINER_RE.test(m[2])) {
    return { ok: false, error: `invalid container name "${m[2]}" in "${uri}" (3-63 lowercase letters, digits and single hyphens)` };
  }
  return { ok: true, value: { account: m[1], container: m[2], prefix: m[3] ?? "" } };
}

/** The account's blob service URL in Azure's public cloud. */
export function defaultEndpoint(account: string): string {
  return `https://${account}.blob.core.windows.net`;
}

export interface AzureSourceOptions {
  uri: string;
  /** The account's blob service URL (a sovereign cloud, a private endpoint, Azurite's http://host:port/<account>). */
  endpoint?: string;
  /** Where credentials are read from: AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN. */
  env?: Record<string, string | undefined>;
  /** Blobs per listing page; the service's default (5,000) unless set. */
  listPageSize?: number;
  /** Address classes its connections may not reach (--refuse-addresses). */
  refusedAddresses?: readonly AddressClass[];
  /** How long a listing page or a blob's properties may take to arrive (default 60 s); then retried. */
  requestTimeoutMs?: number;
  /** The fleet's pin (--azure-versions): read the versions it names, or fail. */
  pinnedVersions?: string;
}

/** The environment variables the Job sets from the cache's Secret (functions/sources/azure.ts). */
export const AZURE_ENV = {
  key: "AZURE_STORAGE_KEY",
  sas: "AZURE_STORAGE_SAS_TOKEN",
  /** The Secret's name, set by the Job when one is named, so a Secret with neither key fails by name, not as anonymous. */
  secretName: "AZURE_STORAGE_CREDENTIALS_SECRET",
} as const;

type Credential = { kind: "key"; key: string } | { kind: "sas"; query: string } | { kind: "anonymous" };

export function credentialFromEnv(env: Record<string, string | undefined>): Checked<Credential> {
  const key = env[AZURE_ENV.key] ?? "";
  const sas = (env[AZURE_ENV.sas] ?? "").trim().replace(/^\?/, "");
  const secret = env[AZURE_ENV.secretName];
  // A Secret holding both: the SAS token, the narrower credential (the account key can do anything in the account).
  if (sas !== "") {
    const params = new URLSearchParams(sas);
    if (!params.has("sig")) return { ok: false, error: `${AZURE_ENV.sas} is not a SAS token (it has no sig= parameter)` };
    return { ok: true, value: { kind: "sas", query: sas } };
  }
  if (key !== "") {
    // StorageSharedKeyCredential decodes whatever it is given: a key that is not base64 would fail as a signature mismatch.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key.trim()) || key.trim().length % 4 !== 0) {
      return { ok: false, error: `${AZURE_ENV.key} is not an account key (base64, as the portal's "Access keys" shows it)` };
    }
    return { ok: true, value: { kind: "key", key: key.trim() } };
  }
  if (secret !== undefined && secret !== "") {
    return { ok: false, error: `the Secret ${secret} holds neither ${AZURE_ENV.key} nor ${AZURE_ENV.sas}` };
  }
  return { ok: true, value: { kind: "anonymous" } };
}

/** What a listed blob is pinned to; kept inside the source, keyed by RemoteObject.id. */
interface Pinned {
  name: string;
  size: number;
  versionId?: string;
  etag: string;
}

/** Digest over the sorted (name, size, version-or-ETag) list: what the prefix resolved to. */
export function azureIdentityDigest(pins: readonly Pinned[]): string {
  const h = createHash("sha256");
  for (const p of [...pins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    h.update(`${p.name}\0${p.size}\0${p.versionId ?? p.etag}\n`);
  }
  return `sha256:${h.digest("hex")}`;
}

/** A version id: the time the version was made, to the 100 ns, as Azure prints it (so its text sorts as its time). */
const VERSION_ID = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z`;
const VERSIONS_PIN_RE = new RegExp(`^versions:(${VERSION_ID}):(sha256:[0-9a-f]{64})$`);

/** The fleet's pin of a versioned prefix: the newest version it holds, and the digest of the whole set. */
export interface VersionsPin {
  newest: string;
  digest: string;
}

export function parseVersionsPin(s: string): Checked<VersionsPin> {
  const m = VERSIONS_PIN_RE.exec(s);
  if (m === null || m[1] === undefined || m[2] === undefined) {
    return { ok: false, error: `--azure-versions must be versions:<version id>:sha256:<64 hex digits>, not "${s}"` };
  }
  return { ok: true, value: { newest: m[1], digest: m[2] } };
}

/**
 * The prefix as it stood when its newest pinned version was made: per blob, the newest version no newer than
 * that. A blob made later is not in it; one deleted since is (its versions remain), and the digest then tells.
 */
export function versionsAt<T extends { name: string; versionId?: string }>(all: readonly T[], newest: string): T[] {
  const byName = new Map<string, T>();
  for (const v of all) {
    if (v.versionId === undefined || v.versionId > newest) continue;
    const seen = byName.get(v.name);
    if (seen === undefined || (seen.versionId as string) < v.versionId) byName.set(v.name, v);
  }
  return [...byName.values()];
}

/** The blob's Content-MD5 as a check, when it has a whole one (16 bytes). */
export function md5Check(md5: Uint8Array | undefined): ServiceDigest[] {
  return md5 !== undefined && md5.length === 16 ? [{ algorithm: "md5", base64: Buffer.from(md5).toString("base64") }] : [];
}

interface ListedBlob extends Pinned {
  md5?: Uint8Array;
}

export class AzureSource implements Source {
  readonly #loc: AzureLocation;
  readonly #client: ContainerClient;
  readonly #endpoint: string;
  readonly #pageSize: number | undefined;
  readonly #pins = new Map<string, Pinned>();
  /** Why the credential in the environment cannot be used: the first request fails with it, permanently. */
  readonly #credentialProblem: string | undefined;
  readonly #requestTimeoutMs: number;
  readonly #pin: VersionsPin | undefined;

  constructor(
    loc: AzureLocation,
    client: ContainerClient,
    endpoint: string,
    opts: { listPageSize?: number; credentialProblem?: string; requestTimeoutMs?: number; pin?: VersionsPin } = {},
  ) {
    this.#loc = loc;
    this.#client = client;
    this.#endpoint = endpoint;
    this.#pageSize = opts.listPageSize;
    this.#credentialProblem = opts.credentialProblem;
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.#pin = opts.pin;
  }

  #where(name: string, versionId?: string): string {
    return `azure://${this.#loc.account}/${this.#loc.container}/${name}${versionId ? ` (version ${versionId})` : ""}`;
  }

  #err(err: unknown, name: string, versionId?: string): Error {
    return azureSourceError(err, this.#where(name, versionId), this.#endpoint);
  }

  async list(signal: AbortSignal): Promise<Listing> {
    const { account, container, prefix } = this.#loc;
    if (this.#credentialProblem !== undefined) {
      throw new SourceError(`azure://${account}/${container}: ${this.#credentialProblem}`, { retryable: false });
    }
    const dirPrefix = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    let blobs = this.#pin === undefined ? await this.#listBlobs(dirPrefix, signal) : await this.#pinned(this.#pin, dirPrefix, signal);
    let base = dirPrefix;
    if (this.#pin !== undefined && blobs.length === 0 && prefix !== "" && !prefix.endsWith("/")) {
      // The URI names one blob: its versions, as they stood at the pin.
      blobs = (await this.#pinned(this.#pin, prefix, signal)).filter((b) => b.name === prefix);
      base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    } else if (blobs.length === 0 && prefix !== "" && !prefix.endsWith("/")) {
      // azure://account/container/path/file.bin names one blob: fetch it as its basename.
      const single = await this.#single(prefix, signal);
      if (single !== undefined) {
        blobs = [single];
        base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
      }
    }
    if (blobs.length === 0) {
      throw new SourceError(`azure://${account}/${container}/${dirPrefix}: no blobs under this prefix`, { retryable: false });
    }

    this.#pins.clear();
    const objects: RemoteObject[] = blobs.map((b) => {
      const rel = safeRelativePath(b.name.slice(base.length));
      if (!rel.ok) throw new SourceError(`${this.#where(b.name)}: the blob's name is not a safe relative path: ${rel.error}`, { retryable: false });
      const pin: Pinned = { name: b.name, size: b.size, etag: b.etag, ...(b.versionId === undefined ? {} : { versionId: b.versionId }) };
      // The id changes with the version, so resume never splices two generations of one blob.
      const id = `${b.name}@${b.versionId ?? b.etag}`;
      this.#pins.set(id, pin);
      const checks = md5Check(b.md5);
      return {
        id,
        size: b.size,
        unpack: { kind: "file", path: rel.value },
        description: this.#where(b.name, b.versionId),
        ...(checks.length > 0 ? { checks } : {}),
      };
    });
    const pins = [...this.#pins.values()];
    const versioned = pins.every((p) => p.versionId !== undefined);
    const digest = azureIdentityDigest(pins);
    if (this.#pin !== undefined && digest !== this.#pin.digest) {
      throw new SourceError(
        `azure://${account}/${container}/${prefix}: the versions pinned for this cache (versions:${this.#pin.newest}:${this.#pin.digest}) are no longer all in the container ` +
          `(a blob deleted since, or its versions removed by a lifecycle rule): the pinned bytes cannot be read here`,
        { retryable: false },
      );
    }
    const newest = pins.reduce((m, p) => ((p.versionId as string) > m ? (p.versionId as string) : m), "");
    return {
      identity: {
        kind: "azure",
        reference: `azure://${account}/${container}/${prefix}`,
        // The prefix says which pin kind it is. Versions are immutable and carry their time, so the pin names the
        // newest and every other cluster can find the same set (--azure-versions); ETags only detect change.
        resolved: versioned ? `versions:${newest}:${digest}` : `etags:${digest}`,
      },
      objects,
    };
  }

  /** Every version under `prefix`, then the set as it stood at the pin. */
  async #pinned(pin: VersionsPin, prefix: string, signal: AbortSignal): Promise<ListedBlob[]> {
    return versionsAt(await this.#listBlobs(prefix, signal, true), pin.newest);
  }

  /** Every current blob under the prefix (with its version id where the account keeps versions). */
  async #listBlobs(dirPrefix: string, signal: AbortSignal, allVersions = false): Promise<ListedBlob[]> {
    const out: ListedBlob[] = [];
    let token: string | undefined;
    // One page per request, each with its own deadline (the continuation token carries on where it stopped).
    for (;;) {
      const page = await this.#withDeadline(dirPrefix, signal, async (s) => {
        const pages = this.#client
          // Metadata marks the directory placeholders of a hierarchical-namespace (Data Lake) account.
          .listBlobsFlat({ prefix: dirPrefix, includeMetadata: true, ...(allVersions ? { includeVersions: true } : {}), abortSignal: s })
          .byPage({ ...(token === undefined ? {} : { continuationToken: token }), ...(this.#pageSize === undefined ? {} : { maxPageSize: this.#pageSize }) });
        const r = await pages.next();
        return r.done === true ? undefined : r.value;
      });
      for (const b of page?.segment.blobItems ?? []) {
        const listed = this.#listed(b, allVersions);
        if (listed !== undefined) out.push(listed);
      }
      if (page?.continuationToken === undefined || page.continuationToken === "" || page.continuationToken === token) return out;
      token = page.continuationToken;
    }
  }

  /**
   * `call` with a deadline of its own: the SDK's HTTP client has no timeout, and a listing that never answers would
   * otherwise hold the Job until its active deadline. (Reads need none here: the engine's stall timer aborts them.)
   */
  async #withDeadline<T>(name: string, signal: AbortSignal, call: (s: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = AbortSignal.timeout(this.#requestTimeoutMs);
    try {
      return await call(AbortSignal.any([signal, deadline]));
    } catch (err) {
      if (deadline.aborted && !signal.aborted) {
        throw new SourceError(`${this.#where(name)}: no answer from ${this.#endpoint} within ${this.#requestTimeoutMs / 1000}s`, {
          retryable: true,
          cause: err,
        });
      }
      throw this.#err(err, name);
    }
  }

  #listed(b: BlobItem, allVersions: boolean): ListedBlob | undefined {
    // Older versions (unless the pin asks for them), snapshots, soft-deleted blobs and directory placeholders are
    // not part of the artifact.
    if (b.deleted === true || (b.snapshot !== undefined && b.snapshot !== "")) return undefined;
    if (b.isCurrentVersion === false && !allVersions) return undefined;
    if (b.name.endsWith("/") || b.metadata?.["hdi_isfolder"] === "true") return undefined;
    return {
      name: b.name,
      size: b.properties.contentLength ?? 0,
      etag: b.properties.etag,
      ...(b.versionId ? { versionId: b.versionId } : {}),
      ...(b.properties.contentMD5 ? { md5: b.properties.contentMD5 } : {}),
    };
  }

  async #single(name: string, signal: AbortSignal): Promise<ListedBlob | undefined> {
    try {
      const p = await this.#withDeadline(name, signal, (s) => this.#client.getBlobClient(name).getProperties({ abortSignal: s }));
      if (p.metadata?.["hdi_isfolder"] === "true") return undefined;
      return {
        name,
        size: p.contentLength ?? 0,
        etag: p.etag ?? "",
        ...(p.versionId ? { versionId: p.versionId } : {}),
        ...(p.contentMD5 ? { md5: p.contentMD5 } : {}),
      };
    } catch (err) {
      if (err instanceof SourceError && err.status === 404) return undefined;
      throw err;
    }
  }

  async read(object: RemoteObject, range: ByteRange | undefined, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const pin = this.#pins.get(object.id);
    if (pin === undefined) {
      throw new SourceError(`azure://${this.#loc.account}/${this.#loc.container}: blob "${object.id}" was not in this source's listing`, { retryable: false });
    }
    const blob = this.#client.getBlobClient(pin.name);
    let res;
    try {
      res = await (pin.versionId === undefined ? blob : blob.withVersion(pin.versionId)).download(
        range === undefined ? 0 : range.start,
        range === undefined ? undefined : range.end - range.start + 1,
        {
          abortSignal: signal,
          // A version is immutable; the current blob is read only while its ETag is the listed one.
          ...(pin.versionId === undefined ? { conditions: { ifMatch: pin.etag } } : {}),
          // The engine owns retries (and resumes a cut stream from the bytes it has); the SDK's would multiply them.
          maxRetryRequests: 0,
        },
      );
    } catch (err) {
      throw this.#err(err, pin.name, pin.versionId);
    }
    const body = res.readableStreamBody;
    if (body === undefined) throw new SourceError(`${this.#where(pin.name, pin.versionId)}: the response had no body`, { retryable: true });
    const want = range === undefined ? pin.size : range.end - range.start + 1;
    if (res.contentLength !== undefined && res.contentLength !== want) {
      // A service that ignored the range (or a blob that changed) would otherwise corrupt the file silently.
      (body as Readable).destroy();
      throw new SourceError(
        `${this.#where(pin.name, pin.versionId)}: expected ${want} bytes${range ? ` for bytes=${range.start}-${range.end}` : ""}, the service sent ${res.contentLength}`,
        { retryable: false },
      );
    }
    return Readable.toWeb(body as Readable) as ReadableStream<Uint8Array>;
  }

  supportsRanges(_object: RemoteObject): boolean {
    return true;
  }
}

/**
 * The agent every connection of the client goes through: keep-alive, and with --refuse-addresses the guarded lookup
 * (../address-guard.ts). Set as the pipeline's own agent, it also keeps the SDK from routing through a proxy named
 * in HTTPS_PROXY, as the hydrator's other sources do not either.
 */
function agentFor(endpoint: URL, refused: readonly AddressClass[]): HttpAgent | HttpsAgent {
  const opts = { keepAlive: true, ...(refused.length > 0 ? { lookup: guardedLookup(refused) } : {}) };
  return endpoint.protocol === "http:" ? new HttpAgent(opts) : new HttpsAgent(opts);
}

/** Builds an Azure source from options and the AZURE_STORAGE_* environment; errors are values. */
export function createAzureSource(opts: AzureSourceOptions): Checked<AzureSource> {
  const loc = parseAzureUri(opts.uri);
  if (!loc.ok) return loc;
  // A Secret's value that cannot be a credential fails the run when it starts, permanently (not as a usage error:
  // the argument list is the function's, the Secret the platform's or the tenant's).
  const cred = credentialFromEnv(opts.env ?? process.env);
  const endpointText = (opts.endpoint ?? defaultEndpoint(loc.value.account)).replace(/\/+$/, "");
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    return { ok: false, error: `--endpoint: "${endpointText}" is not a URL` };
  }
  if (endpoint.protocol !== "http:" && endpoint.protocol !== "https:") return { ok: false, error: `--endpoint: "${endpointText}" is not http(s)` };
  if (endpoint.username !== "" || endpoint.password !== "" || endpoint.search !== "" || endpoint.hash !== "") {
    return { ok: false, error: "--endpoint: the blob service URL carries no credentials, query or fragment (a SAS token goes in AZURE_STORAGE_SAS_TOKEN)" };
  }
  const pin = opts.pinnedVersions === undefined ? undefined : parseVersionsPin(opts.pinnedVersions);
  if (pin !== undefined && !pin.ok) return pin;
  // An endpoint written as an IP address is never looked up: checked here.
  const refused = opts.refusedAddresses ?? [];
  const literal = literalRefusal(endpoint.hostname, refused);
  if (literal !== undefined) return { ok: false, error: `--endpoint: ${literal.message}` };

  const c: Credential = cred.ok ? cred.value : { kind: "anonymous" };
  if (c.kind === "key") rememberSecret(c.key);
  if (c.kind === "sas") {
    rememberSecret(c.query);
    rememberUrl(`${endpointText}/?${c.query}`);
  }
  const containerUrl = `${endpointText}/${encodeURIComponent(loc.value.container)}${c.kind === "sas" ? `?${c.query}` : ""}`;
  const credential = c.kind === "key" ? new StorageSharedKeyCredential(loc.value.account, c.key) : new AnonymousCredential();
  // `agent` and `redirectOptions` reach the core pipeline (createPipelineFromOptions) though StoragePipelineOptions
  // does not declare them; test/security/hydrator-addresses.test.ts proves the agent is used.
  const pipelineOptions: StoragePipelineOptions & { agent: HttpAgent | HttpsAgent; redirectOptions: { maxRetries: number } } = {
    // The engine owns retries (backoff honouring Retry-After); the SDK's would multiply them.
    retryOptions: { maxTries: 1 },
    agent: agentFor(endpoint, refused),
    // Blob storage does not redirect; one that did would carry a Shared Key signature to another host.
    redirectOptions: { maxRetries: 0 },
  };
  const client = new ContainerClient(containerUrl, credential, pipelineOptions);
  return {
    ok: true,
    value: new AzureSource(loc.value, client, endpointText, {
      ...(opts.listPageSize === undefined ? {} : { listPageSize: opts.listPageSize }),
      ...(opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs }),
      ...(pin === undefined ? {} : { pin: pin.value }),
      ...(cred.ok ? {} : { credentialProblem: cred.error }),
    }),
  };
}
