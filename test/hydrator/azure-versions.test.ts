// The azure:// source on an account that keeps blob versions, which Azurite
// does not emulate (its README lists Blob Versions as unsupported, and it
// ignores `versionid`). A stand-in for exactly that part of the Blob REST API
// (List Blobs answering with <VersionId>, Get Blob by `versionid`), written
// here from Azure's documentation, with the official SDK as the client on our
// side: the prefix resolves to versions, every read names its version and
// sends no If-Match, and a listing keeps reading the bytes of the versions it
// listed after the blob is overwritten (the promise versioning adds over ETags).
// Everything else about the source runs against Azurite (azure.test.ts).
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readAll } from "../support/hydrator.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzureSource } from "../../functions/hydrator/sources/azure.ts";
import { SourceError, type RemoteObject } from "../../functions/hydrator/sources/types.ts";

interface Version {
  id: string;
  body: Buffer;
  etag: string;
}
/** Each blob's versions, the last one current. */
const blobs = new Map<string, Version[]>();
const requests: { method: string; url: string; ifMatch?: string; range?: string }[] = [];
let server: Server;
let endpoint: string;

function put(name: string, body: string, id: string): void {
  const versions = blobs.get(name) ?? [];
  versions.push({ id, body: Buffer.from(body), etag: `"0x8D${String(versions.length + 1).padStart(12, "0")}"` });
  blobs.set(name, versions);
}

/** List Blobs: the current version of each blob, or with include=versions every version, current one marked. */
function listXml(prefix: string, allVersions: boolean): string {
  const items = [...blobs.entries()]
    .filter(([name]) => name.startsWith(prefix))
    .flatMap(([name, versions]) => (allVersions ? versions : versions.slice(-1)).map((v) => ({ name, v, current: v === versions.at(-1) })))
    .map(({ name, v, current }) => {
      const md5 = createHash("md5").update(v.body).digest("base64");
      return `<Blob><Name>${name}</Name><VersionId>${v.id}</VersionId>${current ? "<IsCurrentVersion>true</IsCurrentVersion>" : ""}<Properties><Last-Modified>Thu, 01 Jan 2026 00:00:00 GMT</Last-Modified><Etag>${v.etag}</Etag><Content-Length>${v.body.length}</Content-Length><Content-Type>application/octet-stream</Content-Type><Content-MD5>${md5}</Content-MD5><BlobType>BlockBlob</BlobType></Properties><Metadata /></Blob>`;
    });
  return `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${endpoint}/" ContainerName="models"><Prefix>${prefix}</Prefix><Blobs>${items.join("")}</Blobs><NextMarker /></EnumerationResults>`;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://x");
  const range = req.headers["x-ms-range"] ?? req.headers.range;
  requests.push({
    method: req.method ?? "",
    url: req.url ?? "",
    ...(typeof req.headers["if-match"] === "string" ? { ifMatch: req.headers["if-match"] } : {}),
    ...(typeof range === "string" ? { range } : {}),
  });
  const headers = { "x-ms-version": "2025-11-05", "x-ms-request-id": "r", date: new Date().toUTCString() };
  if (url.pathname === "/acct/models" && url.searchParams.get("comp") === "list") {
    res.writeHead(200, { ...headers, "content-type": "application/xml" });
    res.end(listXml(url.searchParams.get("prefix") ?? "", (url.searchParams.get("include") ?? "").split(",").includes("versions")));
    return;
  }
  const name = decodeURIComponent(url.pathname.replace(/^\/acct\/models\//, ""));
  const versions = blobs.get(name);
  const wanted = url.searchParams.get("versionid");
  const v = wanted === null ? versions?.at(-1) : versions?.find((x) => x.id === wanted);
  if (v === undefined) {
    res.writeHead(404, { ...headers, "x-ms-error-code": "BlobNotFound", "content-type": "application/xml" });
    res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>');
    return;
  }
  const m = typeof range === "string" ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
  const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), v.body.length - 1)] : [0, v.body.length - 1];
  const common = { ...headers, etag: v.etag, "x-ms-version-id": v.id, "x-ms-blob-type": "BlockBlob", "last-modified": "Thu, 01 Jan 2026 00:00:00 GMT" };
  res.writeHead(m ? 206 : 200, {
    ...common,
    "content-length": String(end - start + 1),
    ...(m ? { "content-range": `bytes ${start}-${end}/${v.body.length}` } : {}),
  });
  res.end(v.body.subarray(start, end + 1));
}

const readText = async (stream: AsyncIterable<Uint8Array>): Promise<string> => (await readAll(stream)).toString();

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/acct`;
  put("qwen/config.json", '{"v":1}\n', "2026-01-01T00:00:00.0000001Z");
  put("qwen/model.bin", "weights v1\n", "2026-01-01T00:00:00.0000002Z");
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe("azure:// on an account with blob versioning (a stand-in: Azurite keeps no versions)", () => {
  it("resolves the prefix to versions, reads each by its version without If-Match, and keeps reading them after an overwrite", async () => {
    const made = createAzureSource({ uri: "azure://acct/models/qwen/", endpoint, env: {} });
    if (!made.ok) throw new Error(made.error);
    const src = made.value;
    const listing = await src.list(AbortSignal.timeout(10_000));
    expect(listing.identity.resolved).toMatch(/^versions:2026-01-01T00:00:00\.0000002Z:sha256:[0-9a-f]{64}$/);
    const model = listing.objects.find((o) => o.unpack.kind === "file" && o.unpack.path === "model.bin") as RemoteObject;
    expect(model.id).toBe("qwen/model.bin@2026-01-01T00:00:00.0000002Z");
    expect(model.description).toBe("azure://acct/models/qwen/model.bin (version 2026-01-01T00:00:00.0000002Z)");
    expect(model.checks).toEqual([{ algorithm: "md5", base64: createHash("md5").update("weights v1\n").digest("base64") }]);

    // The blob is overwritten: a new current version.
    put("qwen/model.bin", "weights v2, longer\n", "2026-01-02T00:00:00.0000003Z");
    requests.length = 0;
    expect(await readText(await src.read(model, undefined, AbortSignal.timeout(10_000)))).toBe("weights v1\n");
    expect(await readText(await src.read(model, { start: 8, end: 10 }, AbortSignal.timeout(10_000)))).toBe("v1\n");
    for (const r of requests) {
      expect(new URL(r.url, "http://x").searchParams.get("versionid")).toBe("2026-01-01T00:00:00.0000002Z");
      expect(r.ifMatch, "a version is immutable: no If-Match").toBeUndefined();
    }
    expect(requests.map((r) => r.range)).toEqual([undefined, "bytes=8-10"]);

    // A new resolution sees the new version, so a new identity.
    const again = createAzureSource({ uri: "azure://acct/models/qwen/", endpoint, env: {} });
    if (!again.ok) throw new Error(again.error);
    expect((await again.value.list(AbortSignal.timeout(10_000))).identity.resolved).not.toBe(listing.identity.resolved);
  });

  it("a second cluster given the first's pin reads the versions it verified, after an overwrite and a new blob; a set no longer there fails clearly", async () => {
    put("pin/a.bin", "a v1\n", "2026-02-01T00:00:00.0000001Z");
    put("pin/b.bin", "b v1\n", "2026-02-01T00:00:00.0000002Z");
    const first = createAzureSource({ uri: "azure://acct/models/pin/", endpoint, env: {} });
    if (!first.ok) throw new Error(first.error);
    const pin = (await first.value.list(AbortSignal.timeout(10_000))).identity.resolved;
    expect(pin).toMatch(/^versions:2026-02-01T00:00:00\.0000002Z:sha256:[0-9a-f]{64}$/);

    put("pin/a.bin", "a v2, written after the pin\n", "2026-02-02T00:00:00.0000003Z");
    put("pin/c.bin", "a blob made after the pin\n", "2026-02-02T00:00:00.0000004Z");
    requests.length = 0;
    const second = createAzureSource({ uri: "azure://acct/models/pin/", endpoint, env: {}, pinnedVersions: pin });
    if (!second.ok) throw new Error(second.error);
    const listing = await second.value.list(AbortSignal.timeout(10_000));
    expect(listing.identity.resolved).toBe(pin);
    expect(listing.objects.map((o) => (o.unpack.kind === "file" ? o.unpack.path : "")).sort()).toEqual(["a.bin", "b.bin"]);
    const a = listing.objects.find((o) => o.unpack.kind === "file" && o.unpack.path === "a.bin") as RemoteObject;
    expect(await readText(await second.value.read(a, undefined, AbortSignal.timeout(10_000)))).toBe("a v1\n");
    expect(new URL(requests[0]?.url ?? "", "http://x").searchParams.get("include")).toContain("versions");

    // Every version of b.bin removed (a lifecycle rule, or the blob deleted with its versions): the pin cannot be met.
    blobs.delete("pin/b.bin");
    const third = createAzureSource({ uri: "azure://acct/models/pin/", endpoint, env: {}, pinnedVersions: pin });
    if (!third.ok) throw new Error(third.error);
    const err = await third.value.list(AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toBe(
      `azure://acct/models/pin/: the versions pinned for this cache (${pin}) are no longer all in the container (a blob deleted since, or its versions removed by a lifecycle rule): the pinned bytes cannot be read here`,
    );
  });
});
