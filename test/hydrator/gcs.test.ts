// The gs:// source against a real Cloud Storage emulator (fake-gcs-server,
// started here on a loopback port), with the official @google-cloud/storage
// SDK as the client that writes the fixtures and reads back what the emulator
// holds: listing, resolution to generations, the service's own checksums,
// reads by generation and range, the fleet's pin across overwrites.
import { randomBytes } from "node:crypto";
import { readAll } from "../support/hydrator.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGcsSource, type GcsSource } from "../../functions/hydrator/sources/gcs.ts";
import { SourceError, type Listing, type RemoteObject } from "../../functions/hydrator/sources/types.ts";
import { startGcsServer, type GcsServer } from "../support/gcs-server.ts";

let server: GcsServer;
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

const config = Buffer.from('{"model_type":"qwen3"}\n');
const weights = randomBytes(3 * 1024 * 1024 + 17);
const tokenizer = Buffer.from('{"vocab":{}}\n');

function source(uri: string, extra: { generations?: string; listPageSize?: number } = {}): GcsSource {
  const res = createGcsSource({ uri, endpoint: server.endpoint, env: {}, ...extra });
  if (!res.ok) throw new Error(res.error);
  return res.value;
}

function byPath(listing: Listing): Map<string, RemoteObject> {
  return new Map(listing.objects.map((o) => [o.unpack.kind === "file" ? o.unpack.path : o.id, o]));
}

const save = async (bucket: string, name: string, body: Buffer | string): Promise<void> => {
  await server.sdk.bucket(bucket).file(name).save(body, { resumable: false });
};

/** What the SDK says the emulator holds for the object: its current generation, checksums and bytes. */
async function sdkView(bucket: string, name: string, generation?: string): Promise<{ generation: string; md5?: string; crc32c?: string; bytes: Buffer }> {
  const file = server.sdk.bucket(bucket).file(name, generation === undefined ? {} : { generation: Number(generation) });
  const [meta] = await file.getMetadata();
  const [bytes] = await file.download();
  return {
    generation: String(meta.generation),
    ...(meta.md5Hash ? { md5: meta.md5Hash } : {}),
    ...(meta.crc32c ? { crc32c: meta.crc32c } : {}),
    bytes,
  };
}

beforeAll(async () => {
  server = await startGcsServer("memory");
  await server.sdk.createBucket("models", { versioning: { enabled: true } });
  await save("models", "qwen/config.json", "an older generation\n");
  await save("models", "qwen/config.json", config);
  await save("models", "qwen/weights/model.bin", weights);
  await save("models", "qwen/tokenizer.json", tokenizer);
  await save("models", "qwen/removed.txt", "deleted later\n");
  await server.sdk.bucket("models").file("qwen/removed.txt").delete();
  await save("models", "qwen/empty-dir/", "");
  await save("models", "qwenother/not-included.txt", "a sibling prefix\n");
  await server.sdk.createBucket("plain");
  for (let i = 0; i < 5; i++) await save("plain", `set/f${i}.txt`, `file ${i}\n`);
}, 900_000);

afterAll(async () => {
  await server?.stop();
});

describe("gs:// source against fake-gcs-server", () => {
  it("lists every live object under the prefix, each pinned to the generation the SDK reports, with its crc32c and MD5", async () => {
    const listing = await source("gs://models/qwen").list(signal());
    const files = byPath(listing);
    expect([...files.keys()].sort()).toEqual(["config.json", "tokenizer.json", "weights/model.bin"]);
    expect(listing.identity).toMatchObject({ kind: "gcs", reference: "gs://models/qwen" });
    expect(listing.identity.resolved).toMatch(/^generations:[0-9]+:sha256:[0-9a-f]{64}$/);
    for (const [path, obj] of files) {
      const sdk = await sdkView("models", `qwen/${path}`);
      expect(obj.id).toBe(`qwen/${path}#${sdk.generation}`);
      expect(obj.size).toBe(sdk.bytes.length);
      expect(sdk.md5).toBeDefined();
      expect(obj.checks).toEqual([{ algorithm: "crc32c", base64: sdk.crc32c }]);
      // No SHA-256 from the service: the engine hashes every byte itself.
      expect(obj.expected).toBeUndefined();
    }
  });

  it("reads each object as the SDK does, whole and by exact byte ranges", async () => {
    const src = source("gs://models/qwen/");
    const files = byPath(await src.list(signal()));
    const obj = files.get("weights/model.bin") as RemoteObject;
    expect((await readAll(await src.read(obj, undefined, signal()))).equals((await sdkView("models", "qwen/weights/model.bin")).bytes)).toBe(true);
    for (const r of [
      { start: 0, end: 0 },
      { start: 1_000_000, end: 2_048_575 },
      { start: weights.length - 17, end: weights.length - 1 },
    ]) {
      const [want] = await server.sdk.bucket("models").file("qwen/weights/model.bin").download({ start: r.start, end: r.end });
      expect((await readAll(await src.read(obj, r, signal()))).equals(want)).toBe(true);
    }
    expect(src.supportsRanges(obj)).toBe(true);
  });

  it("fetches a single object named by the URI as its basename", async () => {
    const listing = await source("gs://models/qwen/config.json").list(signal());
    expect(listing.objects.map((o) => o.unpack)).toEqual([{ kind: "file", path: "config.json" }]);
  });

  it("pages through long listings", async () => {
    const listing = await source("gs://plain/set/", { listPageSize: 2 }).list(signal());
    expect(listing.objects.map((o) => (o.unpack.kind === "file" ? o.unpack.path : "")).sort()).toEqual(["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
  });

  it("resolves to the same generations until an object changes, and reads the listed generation after it does", async () => {
    const src = source("gs://models/qwen");
    const first = await src.list(signal());
    expect((await source("gs://models/qwen").list(signal())).identity.resolved).toBe(first.identity.resolved);
    const before = (await sdkView("models", "qwen/tokenizer.json")).generation;
    await save("models", "qwen/tokenizer.json", '{"vocab":{"changed":1}}\n');
    const after = await source("gs://models/qwen").list(signal());
    expect(after.identity.resolved).not.toBe(first.identity.resolved);
    // The source listed before the overwrite still reads the generation it listed (the bucket keeps versions).
    const obj = byPath(first).get("tokenizer.json") as RemoteObject;
    expect(obj.id).toBe(`qwen/tokenizer.json#${before}`);
    expect((await readAll(await src.read(obj, undefined, signal()))).equals(tokenizer)).toBe(true);
    // Put it back for the other tests: a third generation with the first bytes.
    await save("models", "qwen/tokenizer.json", tokenizer);
  });

  it("with the fleet's pin, reads the pinned generations after the prefix changed: overwritten, added and deleted objects", async () => {
    await save("models", "pinned/a.bin", "a, first\n");
    await save("models", "pinned/b.bin", "b, kept\n");
    await save("models", "pinned/gone.bin", "deleted after the pin\n");
    const pinned = await source("gs://models/pinned").list(signal());
    const pin = pinned.identity.resolved;
    const olds = new Map([...byPath(pinned)].map(([p, o]) => [p, o.id]));

    await save("models", "pinned/a.bin", "a, second\n");
    await save("models", "pinned/new.bin", "added after the pin\n");
    await server.sdk.bucket("models").file("pinned/gone.bin").delete();
    expect((await source("gs://models/pinned").list(signal())).identity.resolved).not.toBe(pin);

    const src = source("gs://models/pinned", { generations: pin });
    const again = await src.list(signal());
    expect(again.identity.resolved).toBe(pin);
    expect(new Map([...byPath(again)].map(([p, o]) => [p, o.id]))).toEqual(olds);
    const a = byPath(again).get("a.bin") as RemoteObject;
    const generation = a.id.split("#")[1] as string;
    // The SDK reads the same noncurrent generation: the emulator still holds those bytes, and so does the copy.
    const sdk = await sdkView("models", "pinned/a.bin", generation);
    expect(sdk.bytes.toString()).toBe("a, first\n");
    expect((await readAll(await src.read(a, undefined, signal()))).equals(sdk.bytes)).toBe(true);
  });

  it("with a pin whose generations the bucket no longer holds, fails permanently, naming the pin and the fix", async () => {
    // An unversioned bucket: an overwrite removes the old generation.
    await save("plain", "pin/a.bin", "first\n");
    const pin = (await source("gs://plain/pin").list(signal())).identity.resolved;
    await save("plain", "pin/a.bin", "second\n");
    const err = await source("gs://plain/pin", { generations: pin })
      .list(signal())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toContain(`the generations pinned for this cache (${pin}) are no longer all in the bucket`);
    expect((err as SourceError).message).toMatch(/now, e\.g\., gs:\/\/plain\/pin\/a\.bin \(generation [0-9]+\)/);
    expect((err as SourceError).message).toContain("Enable Object Versioning");
  });

  it("refuses to read an object overwritten since it was listed on an unversioned bucket, never the new bytes", async () => {
    await save("plain", "race/a.bin", "listed\n");
    const src = source("gs://plain/race");
    const obj = (await src.list(signal())).objects[0] as RemoteObject;
    await save("plain", "race/a.bin", "overwritten\n");
    const err = await src.read(obj, undefined, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).status).toBe(404);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toMatch(/gs:\/\/plain\/race\/a\.bin \(generation [0-9]+\): no longer exists/);
  });

  it("fails clearly when the prefix holds nothing or the bucket does not exist", async () => {
    const empty = await source("gs://models/nothing-here/")
      .list(signal())
      .catch((e: unknown) => e);
    expect((empty as SourceError).message).toBe("gs://models/nothing-here/: no objects under this prefix");
    const missing = await source("gs://no-such-bucket/x")
      .list(signal())
      .catch((e: unknown) => e);
    expect((missing as SourceError).status).toBe(404);
    expect((missing as SourceError).retryable).toBe(false);
    expect((missing as SourceError).message).toContain("gs://no-such-bucket/x/: listing");
  });
});

describe("gs:// source arguments", () => {
  it.each([
    { reason: "not a gs:// URI", opts: { uri: "s3://models/x" }, error: 'not a gs:// URI: "s3://models/x" (expected gs://<bucket>/<prefix>)' },
    { reason: "an invalid bucket name", opts: { uri: "gs://Models/x" }, error: 'invalid Cloud Storage bucket name "Models" in "gs://Models/x"' },
    {
      reason: "an endpoint that is not a URL",
      opts: { uri: "gs://models/x", endpoint: "storage" },
      error: '--endpoint: invalid Cloud Storage endpoint URL "storage"',
    },
    {
      reason: "a pin of another form",
      opts: { uri: "gs://models/x", generations: "versions:sha256:abc" },
      error: '--gcs-generations must be generations:<generation>:sha256:<64 hex digits>, not "versions:sha256:abc"',
    },
  ])("refuses $reason", ({ opts, error }) => {
    expect(createGcsSource({ env: {}, ...opts })).toEqual({ ok: false, error });
  });

  it("fails permanently, naming the variable, when the key file does not exist (read by the first request)", async () => {
    const res = createGcsSource({ uri: "gs://models/qwen", endpoint: server.endpoint, env: { GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/key.json" } });
    if (!res.ok) throw new Error(res.error);
    const err = await res.value.list(signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toBe("GOOGLE_APPLICATION_CREDENTIALS /nonexistent/key.json: no such file");
  });
});
