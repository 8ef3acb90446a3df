// The azure:// source against a real Azure Storage emulator (Azurite, started
// here on a loopback port), with fixtures written by the official
// @azure/storage-blob client: listing, resolution to ETags (Azurite keeps no
// versions), Content-MD5 as a check, pinned reads, ranges, Shared Key, SAS and
// anonymous access, and errors in words.
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";
import { readAll } from "../support/hydrator.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzureSource, type AzureSource } from "../../functions/hydrator/sources/azure.ts";
import { SourceError, type Listing, type RemoteObject } from "../../functions/hydrator/sources/types.ts";
import { startAzurite, type Azurite } from "../support/azurite.ts";

const md5 = (b: Uint8Array | string): string => createHash("md5").update(b).digest("base64");

let az: Azurite;
let models: ContainerClient;

const config = Buffer.from('{"model_type":"qwen3"}\n');
const weights = randomBytes(3 * 1024 * 1024 + 17);
const tokenizer = Buffer.from('{"vocab":{}}\n');
const blocks = randomBytes(5 * 1024 * 1024 + 11);

function source(uri: string, env?: Record<string, string>, extra: { listPageSize?: number } = {}): AzureSource {
  const res = createAzureSource({ uri, endpoint: az.endpoint, env: env ?? { AZURE_STORAGE_KEY: az.key }, ...extra });
  if (!res.ok) throw new Error(res.error);
  return res.value;
}

function byPath(listing: Listing): Map<string, RemoteObject> {
  return new Map(listing.objects.map((o) => [o.unpack.kind === "file" ? o.unpack.path : o.id, o]));
}

/** A single-shot upload (Put Blob): the service computes and keeps its Content-MD5. */
async function put(c: ContainerClient, name: string, body: Buffer): Promise<void> {
  await c.getBlockBlobClient(name).upload(body, body.length);
}

/** A block-list upload (Put Block + Put Block List): Content-MD5 only if the uploader sets it. */
async function putBlocks(c: ContainerClient, name: string, body: Buffer, contentMD5?: Buffer): Promise<void> {
  await c.getBlockBlobClient(name).uploadData(body, {
    blockSize: 1024 * 1024,
    maxSingleShotSize: 0,
    ...(contentMD5 ? { blobHTTPHeaders: { blobContentMD5: contentMD5 } } : {}),
  });
}

function sas(permissions: string, expiresOn = new Date(Date.now() + 3600_000)): string {
  return generateBlobSASQueryParameters(
    { containerName: "models", permissions: ContainerSASPermissions.parse(permissions), expiresOn },
    new StorageSharedKeyCredential(az.account, az.key),
  ).toString();
}

beforeAll(async () => {
  az = await startAzurite();
  const svc = az.admin();
  models = svc.getContainerClient("models");
  await models.create();
  await put(models, "qwen/config.json", Buffer.from("an older generation\n"));
  await put(models, "qwen/config.json", config);
  await put(models, "qwen/weights/model.bin", weights);
  await putBlocks(models, "qwen/tokenizer.json", tokenizer);
  await putBlocks(models, "qwen/blocks.bin", blocks, createHash("md5").update(blocks).digest());
  await put(models, "qwen/empty-dir/", Buffer.alloc(0));
  await put(models, "qwenother/not-included.txt", Buffer.from("a sibling prefix\n"));
  const plain = svc.getContainerClient("plain");
  await plain.create();
  for (let i = 0; i < 5; i++) await put(plain, `set/f${i}.txt`, Buffer.from(`file ${i}\n`));
});

afterAll(async () => {
  await az?.stop();
});

describe("azure:// source against Azurite", () => {
  it("lists every current blob under the prefix, pinned to its ETag (Azurite keeps no versions)", async () => {
    const listing = await source("azure://fmcmodels/models/qwen").list(AbortSignal.timeout(30_000));
    const files = byPath(listing);
    expect([...files.keys()].sort()).toEqual(["blocks.bin", "config.json", "tokenizer.json", "weights/model.bin"]);
    expect(files.get("weights/model.bin")?.size).toBe(weights.length);
    expect(files.get("config.json")?.size).toBe(config.length);
    expect(listing.identity).toEqual({
      kind: "azure",
      reference: "azure://fmcmodels/models/qwen",
      resolved: expect.stringMatching(/^etags:sha256:[0-9a-f]{64}$/),
    });
    for (const o of listing.objects) expect(o.description).toMatch(/^azure:\/\/fmcmodels\/models\/qwen\//);
  });

  it("checks Content-MD5 where the service holds one: single-shot uploads, and block lists whose uploader set it", async () => {
    const files = byPath(await source("azure://fmcmodels/models/qwen/").list(AbortSignal.timeout(30_000)));
    expect(files.get("config.json")?.checks).toEqual([{ algorithm: "md5", base64: md5(config) }]);
    expect(files.get("weights/model.bin")?.checks).toEqual([{ algorithm: "md5", base64: md5(weights) }]);
    expect(files.get("blocks.bin")?.checks).toEqual([{ algorithm: "md5", base64: md5(blocks) }]);
    expect(files.get("tokenizer.json")?.checks, "a block list without Content-MD5 has none").toBeUndefined();
    // The client-side check: what the official SDK reports for the blob is what the source took.
    const props = await models.getBlobClient("qwen/config.json").getProperties();
    expect(Buffer.from(props.contentMD5 as Uint8Array).toString("base64")).toBe(md5(config));
  });

  it("resolves to the same identity until a blob changes, then refuses to read the listed blob's new bytes", async () => {
    const src = source("azure://fmcmodels/models/qwen");
    const first = await src.list(AbortSignal.timeout(30_000));
    const again = await source("azure://fmcmodels/models/qwen").list(AbortSignal.timeout(30_000));
    expect(again.identity.resolved).toBe(first.identity.resolved);

    const listed = byPath(first).get("tokenizer.json") as RemoteObject;
    await put(models, "qwen/tokenizer.json", Buffer.from('{"vocab":{"changed":1}}\n'));
    try {
      const after = await source("azure://fmcmodels/models/qwen").list(AbortSignal.timeout(30_000));
      expect(after.identity.resolved).not.toBe(first.identity.resolved);
      const err = await src.read(listed, undefined, AbortSignal.timeout(30_000)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      const e = err as SourceError;
      expect(e.status).toBe(412);
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(/^azure:\/\/fmcmodels\/models\/qwen\/tokenizer\.json: ConditionNotMet \(412\).*changed since it was listed/);
    } finally {
      await putBlocks(models, "qwen/tokenizer.json", tokenizer);
    }
  });

  it("serves exact byte ranges, and the whole blob hashes to its Content-MD5", async () => {
    const src = source("azure://fmcmodels/models/qwen");
    const obj = byPath(await src.list(AbortSignal.timeout(30_000))).get("weights/model.bin") as RemoteObject;
    expect(src.supportsRanges(obj)).toBe(true);
    const start = 1024 * 1024 - 3;
    const end = 2 * 1024 * 1024 + 5;
    const part = await readAll(await src.read(obj, { start, end }, AbortSignal.timeout(30_000)));
    expect(part.equals(weights.subarray(start, end + 1))).toBe(true);
    const whole = await readAll(await src.read(obj, undefined, AbortSignal.timeout(30_000)));
    expect(md5(whole)).toBe(obj.checks?.[0]?.base64);
  });

  it("pages through long listings", async () => {
    const listing = await source("azure://fmcmodels/plain/set/", undefined, { listPageSize: 2 }).list(AbortSignal.timeout(30_000));
    expect(listing.objects.map((o) => (o.unpack.kind === "file" ? o.unpack.path : "")).sort()).toEqual(["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
  });

  it("fetches a single blob named by the URI as its basename", async () => {
    const listing = await source("azure://fmcmodels/models/qwen/config.json").list(AbortSignal.timeout(30_000));
    expect(listing.objects).toHaveLength(1);
    expect(listing.objects[0]?.unpack).toEqual({ kind: "file", path: "config.json" });
    expect(listing.objects[0]?.checks).toEqual([{ algorithm: "md5", base64: md5(config) }]);
  });

  it("reads with a SAS token that may read and list, and names the permission a weaker one lacks", async () => {
    const src = source("azure://fmcmodels/models/qwen", { AZURE_STORAGE_SAS_TOKEN: `?${sas("rl")}` });
    const listing = await src.list(AbortSignal.timeout(30_000));
    const body = await readAll(await src.read(byPath(listing).get("config.json") as RemoteObject, undefined, AbortSignal.timeout(30_000)));
    expect(body.equals(config)).toBe(true);

    const readOnly = sas("r");
    const err = await source("azure://fmcmodels/models/qwen", { AZURE_STORAGE_SAS_TOKEN: readOnly })
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).status).toBe(403);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toContain("sp=rl");
    const sig = new URLSearchParams(readOnly).get("sig") as string;
    expect((err as SourceError).message).not.toContain(sig);
    expect((err as SourceError).message).not.toContain(encodeURIComponent(sig));
  });

  it("fails clearly, without printing the key, when the account key or a SAS token is wrong or expired", async () => {
    const wrongKey = randomBytes(64).toString("base64");
    const envs: Record<string, string>[] = [{ AZURE_STORAGE_KEY: wrongKey }, { AZURE_STORAGE_SAS_TOKEN: sas("rl", new Date(Date.now() - 3600_000)) }];
    for (const env of envs) {
      const err = await source("azure://fmcmodels/models/qwen", env)
        .list(AbortSignal.timeout(30_000))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      const e = err as SourceError;
      expect(e.retryable).toBe(false);
      expect(e.status).toBe(403);
      // Azure says AuthenticationFailed; Azurite, AuthorizationFailure: either way the hint names the key and the token.
      expect(e.message).toMatch(/^azure:\/\/fmcmodels\/models\/qwen\/: (AuthenticationFailed|AuthorizationFailure) \(403\).*(AZURE_STORAGE_KEY|account key)/);
      expect(e.message).not.toContain(wrongKey);
    }
  });

  it("reads a public container anonymously; a private one refuses anonymous reads", async () => {
    const pub = az.admin().getContainerClient("public");
    await pub.create({ access: "container" });
    await put(pub, "open/model.bin", Buffer.from("public bytes\n"));
    const src = source("azure://fmcmodels/public/open", {});
    const listing = await src.list(AbortSignal.timeout(30_000));
    expect(listing.objects.map((o) => o.unpack)).toEqual([{ kind: "file", path: "model.bin" }]);
    const body = await readAll(await src.read(listing.objects[0] as RemoteObject, undefined, AbortSignal.timeout(30_000)));
    expect(body.toString()).toBe("public bytes\n");

    const err = await source("azure://fmcmodels/models/qwen", {})
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toMatch(/^azure:\/\/fmcmodels\/models\/qwen\/: \w+ \((401|403|404)\)/);
  });

  it("fails clearly when the container is missing or the prefix is empty, and refuses a Secret with no credential", async () => {
    const noContainer = await source("azure://fmcmodels/no-such-container/x")
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect((noContainer as SourceError).message).toContain("ContainerNotFound (404)");
    expect((noContainer as SourceError).retryable).toBe(false);
    const empty = await source("azure://fmcmodels/models/nothing-here/")
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect((empty as SourceError).message).toBe("azure://fmcmodels/models/nothing-here/: no blobs under this prefix");
    // Before any request: a Secret that holds no credential is not read as anonymous access (of a public container here).
    const noCred = await source("azure://fmcmodels/public/open", { AZURE_STORAGE_CREDENTIALS_SECRET: "azure-creds" })
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(noCred).toBeInstanceOf(SourceError);
    expect((noCred as SourceError).retryable).toBe(false);
    expect((noCred as SourceError).message).toBe(
      "azure://fmcmodels/public: the Secret azure-creds holds neither AZURE_STORAGE_KEY nor AZURE_STORAGE_SAS_TOKEN",
    );
  });

  it("gives up on a listing that never answers, retryably, naming the endpoint", async () => {
    // A server that accepts the connection and never answers (a hung proxy, a blackholed private endpoint).
    const sockets: Socket[] = [];
    const silent = createServer((sock) => void sockets.push(sock));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/fmcmodels`;
    try {
      const made = createAzureSource({ uri: "azure://fmcmodels/models/qwen", endpoint, env: { AZURE_STORAGE_KEY: az.key }, requestTimeoutMs: 1_000 });
      if (!made.ok) throw new Error(made.error);
      const err = await made.value.list(AbortSignal.timeout(30_000)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).retryable).toBe(true);
      expect((err as SourceError).message).toBe(`azure://fmcmodels/models/qwen/: no answer from ${endpoint} within 1s`);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("refuses a blob whose name would leave the destination", async () => {
    await put(models, "evil/a//b.txt", Buffer.from("x"));
    const err = await source("azure://fmcmodels/models/evil")
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toContain("not a safe relative path");
  });
});
