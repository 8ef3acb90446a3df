// The s3:// source against a real S3-compatible server (versitygw, started
// here on a loopback port): listing, resolution to object versions / ETags,
// S3 SHA256 checksums as expected digests, pinned reads, ranges, auth errors.
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { readAll } from "../support/hydrator.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Source, type S3Source } from "../../functions/hydrator/sources/s3.ts";
import { SourceError, type Listing, type RemoteObject } from "../../functions/hydrator/sources/types.ts";
import { startS3Server, type S3Server } from "../support/s3-server.ts";

const sha256 = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("hex");
const b64sha256 = (b: Uint8Array | string): string => createHash("sha256").update(b).digest("base64");

let server: S3Server;
let admin: S3Client;

// The artifact under s3://models/qwen/ (versioned bucket).
const config = Buffer.from('{"model_type":"qwen3"}\n');
const weights = randomBytes(3 * 1024 * 1024 + 17);
const tokenizer = Buffer.from('{"vocab":{}}\n');
const part1 = randomBytes(5 * 1024 * 1024);
const part2 = randomBytes(1024);
const multipart = Buffer.concat([part1, part2]);

function source(uri: string, env?: Record<string, string>, extra: { listPageSize?: number } = {}): S3Source {
  const res = createS3Source({ uri, endpoint: server.endpoint, region: server.region, env: env ?? server.env(), ...extra });
  if (!res.ok) throw new Error(res.error);
  return res.value;
}

function byPath(listing: Listing): Map<string, RemoteObject> {
  return new Map(listing.objects.map((o) => [o.unpack.kind === "file" ? o.unpack.path : o.id, o]));
}

async function put(bucket: string, key: string, body: Buffer, sha = true): Promise<void> {
  await admin.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(sha ? { ChecksumAlgorithm: "SHA256", ChecksumSHA256: b64sha256(body) } : { ChecksumAlgorithm: "CRC32" }),
    }),
  );
}

beforeAll(async () => {
  server = await startS3Server();
  admin = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  await admin.send(new CreateBucketCommand({ Bucket: "models" }));
  await admin.send(new PutBucketVersioningCommand({ Bucket: "models", VersioningConfiguration: { Status: "Enabled" } }));
  await put("models", "qwen/config.json", Buffer.from("an older generation\n"));
  await put("models", "qwen/config.json", config);
  await put("models", "qwen/weights/model.bin", weights);
  await put("models", "qwen/tokenizer.json", tokenizer, false);
  await put("models", "qwen/removed.txt", Buffer.from("deleted later\n"));
  await admin.send(new DeleteObjectCommand({ Bucket: "models", Key: "qwen/removed.txt" }));
  await admin.send(new PutObjectCommand({ Bucket: "models", Key: "qwen/empty-dir/", Body: "" }));
  await put("models", "qwenother/not-included.txt", Buffer.from("a sibling prefix\n"));
  // A multipart upload with SHA256 checksums: its object checksum is a composite
  // of the parts, not a digest of the bytes, so it must not become `expected`.
  const mpu = await admin.send(
    new CreateMultipartUploadCommand({
      Bucket: "models",
      Key: "qwen/big.bin",
      ChecksumAlgorithm: "SHA256",
      ChecksumType: "COMPOSITE",
    }),
  );
  const parts = [];
  for (const [i, body] of [part1, part2].entries()) {
    const r = await admin.send(
      new UploadPartCommand({
        Bucket: "models",
        Key: "qwen/big.bin",
        UploadId: mpu.UploadId,
        PartNumber: i + 1,
        Body: body,
        ChecksumAlgorithm: "SHA256",
        ChecksumSHA256: b64sha256(body),
      }),
    );
    parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumSHA256: r.ChecksumSHA256 });
  }
  await admin.send(
    new CompleteMultipartUploadCommand({
      Bucket: "models",
      Key: "qwen/big.bin",
      UploadId: mpu.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );

  await admin.send(new CreateBucketCommand({ Bucket: "plain" }));
  for (let i = 0; i < 5; i++) await put("plain", `set/f${i}.txt`, Buffer.from(`file ${i}\n`));
});

afterAll(async () => {
  admin?.destroy();
  await server?.stop();
});

describe("s3:// source against versitygw", () => {
  it("lists every current object under the prefix, pinned to its version", async () => {
    const listing = await source("s3://models/qwen").list(AbortSignal.timeout(30_000));
    const files = byPath(listing);
    expect([...files.keys()].sort()).toEqual(["big.bin", "config.json", "tokenizer.json", "weights/model.bin"]);
    expect(files.get("weights/model.bin")?.size).toBe(weights.length);
    expect(files.get("config.json")?.size).toBe(config.length);
    expect(files.get("big.bin")?.size).toBe(multipart.length);
    expect(listing.identity.kind).toBe("s3");
    expect(listing.identity.reference).toBe("s3://models/qwen");
    expect(listing.identity.resolved).toMatch(/^versions:sha256:[0-9a-f]{64}$/);
    for (const o of listing.objects) expect(o.description).toMatch(/\(version [^)]+\)$/);
  });

  it("uses full-object SHA256 checksums as expected digests, and only those", async () => {
    const files = byPath(await source("s3://models/qwen/").list(AbortSignal.timeout(30_000)));
    expect(files.get("config.json")?.expected).toEqual({ algorithm: "sha256", hex: sha256(config) });
    expect(files.get("weights/model.bin")?.expected).toEqual({ algorithm: "sha256", hex: sha256(weights) });
    expect(files.get("tokenizer.json")?.expected).toBeUndefined(); // CRC32 only
    expect(files.get("big.bin")?.expected).toBeUndefined(); // composite multipart checksum
  });

  it("resolves to the same identity until an object changes, and reads the listed version after it does", async () => {
    const src = source("s3://models/qwen");
    const first = await src.list(AbortSignal.timeout(30_000));
    const again = await source("s3://models/qwen").list(AbortSignal.timeout(30_000));
    expect(again.identity.resolved).toBe(first.identity.resolved);

    const listedTokenizer = byPath(first).get("tokenizer.json") as RemoteObject;
    await put("models", "qwen/tokenizer.json", Buffer.from('{"vocab":{"changed":1}}\n'), false);
    try {
      const after = await source("s3://models/qwen").list(AbortSignal.timeout(30_000));
      expect(after.identity.resolved).not.toBe(first.identity.resolved);
      // The first listing still reads the bytes it resolved to.
      const body = await readAll(await src.read(listedTokenizer, undefined, AbortSignal.timeout(30_000)));
      expect(body.equals(tokenizer)).toBe(true);
    } finally {
      await put("models", "qwen/tokenizer.json", tokenizer, false);
    }
  });

  it("serves exact byte ranges", async () => {
    const src = source("s3://models/qwen");
    const obj = byPath(await src.list(AbortSignal.timeout(30_000))).get("weights/model.bin") as RemoteObject;
    expect(src.supportsRanges(obj)).toBe(true);
    const start = 1024 * 1024 - 3;
    const end = 2 * 1024 * 1024 + 5;
    const part = await readAll(await src.read(obj, { start, end }, AbortSignal.timeout(30_000)));
    expect(part.equals(weights.subarray(start, end + 1))).toBe(true);
    const whole = await readAll(await src.read(obj, undefined, AbortSignal.timeout(30_000)));
    expect(sha256(whole)).toBe(obj.expected?.hex);
  });

  it("exposes bytes corrupted at rest: what is read no longer matches the expected digest", async () => {
    await put("models", "victim/data.bin", randomBytes(4096));
    const src = source("s3://models/victim");
    const obj = (await src.list(AbortSignal.timeout(30_000))).objects[0] as RemoteObject;
    // Flip one byte in the backing file behind the server's back (its stored checksum stays).
    const file = join(server.dataDir, "models", "victim", "data.bin");
    const bytes = await readFile(file);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    await writeFile(file, bytes);
    const got = await readAll(await src.read(obj, undefined, AbortSignal.timeout(30_000)));
    expect(obj.expected?.hex).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256(got)).not.toBe(obj.expected?.hex);
  });

  it("pages through long listings", async () => {
    const listing = await source("s3://plain/set/", undefined, { listPageSize: 2 }).list(AbortSignal.timeout(30_000));
    expect(listing.objects.map((o) => (o.unpack.kind === "file" ? o.unpack.path : "")).sort()).toEqual(["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]);
  });

  it("pins ETags on an unversioned bucket and refuses to read an object that changed since listing", async () => {
    const src = source("s3://plain/set");
    const listing = await src.list(AbortSignal.timeout(30_000));
    expect(listing.identity.resolved).toMatch(/^etags:sha256:[0-9a-f]{64}$/);
    const f0 = byPath(listing).get("f0.txt") as RemoteObject;
    await put("plain", "set/f0.txt", Buffer.from("rewritten\n"));
    const err = await src.read(f0, undefined, AbortSignal.timeout(30_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).status).toBe(412);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toContain("s3://plain/set/f0.txt");
  });

  it("fetches a single object named by the URI as its basename", async () => {
    const listing = await source("s3://models/qwen/config.json").list(AbortSignal.timeout(30_000));
    expect(listing.objects).toHaveLength(1);
    expect(listing.objects[0]?.unpack).toEqual({ kind: "file", path: "config.json" });
  });

  it("fails clearly, without printing the secret, when the secret key is wrong", async () => {
    const env = { ...server.env(), AWS_SECRET_ACCESS_KEY: "definitely-not-the-secret" };
    const err = await source("s3://models/qwen", env)
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    const e = err as SourceError;
    expect(e.retryable).toBe(false);
    expect(e.status).toBe(403);
    expect(e.message).toContain("s3://models/");
    expect(e.message).toContain("SignatureDoesNotMatch");
    expect(e.message).not.toContain("definitely-not-the-secret");
  });

  it("reads a public bucket without credentials, unsigned", async () => {
    await admin.send(new CreateBucketCommand({ Bucket: "public" }));
    await put("public", "open/model.bin", Buffer.from("public bytes\n"));
    const policy = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: ["s3:GetObject", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetObjectVersion"],
          Resource: ["arn:aws:s3:::public", "arn:aws:s3:::public/*"],
        },
      ],
    };
    await admin.send(new PutBucketPolicyCommand({ Bucket: "public", Policy: JSON.stringify(policy) }));
    const src = source("s3://public/open", { AWS_REGION: server.region });
    const listing = await src.list(AbortSignal.timeout(30_000));
    expect(listing.objects.map((o) => o.unpack)).toEqual([{ kind: "file", path: "model.bin" }]);
    const body = await readAll(await src.read(listing.objects[0] as RemoteObject, undefined, AbortSignal.timeout(30_000)));
    expect(body.toString()).toBe("public bytes\n");
  });

  it("sends requests unsigned without credentials, which a private bucket refuses", async () => {
    const err = await source("s3://models/qwen", { AWS_REGION: server.region })
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).status).toBe(403);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toMatch(/^s3:\/\/models\/qwen\/: AccessDenied \(403\)/);
  });

  it("fails clearly when the access key is unknown, or the bucket or prefix is missing", async () => {
    const badKey = await source("s3://models/qwen", { ...server.env(), AWS_ACCESS_KEY_ID: "nobody" })
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    // AWS says InvalidAccessKeyId (403); versitygw says XAdminUserNotFound (404): either way, not retried.
    expect((badKey as SourceError).retryable).toBe(false);
    expect((badKey as SourceError).message).toMatch(/^s3:\/\/models\/qwen\/: .*access key/i);
    const noBucket = await source("s3://no-such-bucket/x")
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect((noBucket as SourceError).message).toContain("NoSuchBucket");
    const empty = await source("s3://models/nothing-here/")
      .list(AbortSignal.timeout(30_000))
      .catch((e: unknown) => e);
    expect((empty as SourceError).message).toBe("s3://models/nothing-here/: no objects under this prefix");
  });
});
