import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { ListObjectsV2Command, ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it, vi } from "vitest";
import { toSourceError } from "./s3-errors.ts";
import { createS3Source, fullObjectSha256, identityDigest, parseS3Uri, relativePathForKey, S3Source } from "./s3.ts";
import { SourceError } from "./types.ts";

const b64 = (hex: string): string => Buffer.from(hex, "hex").toString("base64");
const HEX = createHash("sha256").update("x").digest("hex");

describe("parseS3Uri", () => {
  it.each([
    ["s3://models/qwen/8b", { bucket: "models", prefix: "qwen/8b" }],
    ["s3://models/qwen/", { bucket: "models", prefix: "qwen/" }],
    ["s3://models", { bucket: "models", prefix: "" }],
    ["s3://my.bucket-1/", { bucket: "my.bucket-1", prefix: "" }],
  ])("parses %s", (uri, want) => {
    expect(parseS3Uri(uri)).toEqual({ ok: true, value: want });
  });
  it.each(["http://models/x", "s3://", "s3://Bad_Bucket/x", "s3://ab/x"])("refuses %s", (uri) => {
    expect(parseS3Uri(uri).ok).toBe(false);
  });
});

describe("relativePathForKey", () => {
  it("strips the prefix", () => {
    expect(relativePathForKey("qwen/weights/a.bin", "qwen/")).toEqual({ ok: true, value: "weights/a.bin" });
  });
  it.each(["qwen/../etc/passwd", "qwen//abs", "qwen/./x", "qwen/a/..", "qwen/"])("refuses %s", (key) => {
    expect(relativePathForKey(key, "qwen/").ok).toBe(false);
  });
});

describe("fullObjectSha256", () => {
  it("accepts a full-object checksum, with or without ChecksumType", () => {
    expect(fullObjectSha256(b64(HEX), "FULL_OBJECT")).toBe(HEX);
    expect(fullObjectSha256(b64(HEX), undefined)).toBe(HEX);
  });
  it("refuses composite multipart checksums, which are not a digest of the bytes", () => {
    expect(fullObjectSha256(b64(HEX), "COMPOSITE")).toBeUndefined();
    expect(fullObjectSha256(`${b64(HEX)}-3`, undefined)).toBeUndefined();
  });
  it("ignores absent or malformed values", () => {
    expect(fullObjectSha256(undefined, "FULL_OBJECT")).toBeUndefined();
    expect(fullObjectSha256("AAAA", "FULL_OBJECT")).toBeUndefined();
  });
});

describe("identityDigest", () => {
  const a = { key: "p/a", size: 1, etag: '"e1"', versionId: "v1" };
  const b = { key: "p/b", size: 2, etag: '"e2"', versionId: "v2" };
  it("does not depend on listing order", () => {
    expect(identityDigest([a, b])).toBe(identityDigest([b, a]));
  });
  it("changes when any version, size or key changes", () => {
    const base = identityDigest([a, b]);
    expect(identityDigest([a, { ...b, versionId: "v3" }])).not.toBe(base);
    expect(identityDigest([a, { ...b, size: 3 }])).not.toBe(base);
    expect(identityDigest([a, { ...b, key: "p/c" }])).not.toBe(base);
  });
});

describe("S3 errors", () => {
  const service = (name: string, status: number, headers: Record<string, string> = {}, message = "m") =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $response: { headers } });

  it("retries throttling and server errors, honouring Retry-After", () => {
    const e = toSourceError(service("SlowDown", 503, { "retry-after": "3" }), "s3://b/k") as SourceError;
    expect(e).toBeInstanceOf(SourceError);
    expect([e.retryable, e.status, e.retryAfterSeconds]).toEqual([true, 503, 3]);
    expect((toSourceError(service("TooManyRequests", 429), "s3://b/k") as SourceError).retryable).toBe(true);
  });

  it("does not retry auth failures, and says what to check", () => {
    const e = toSourceError(service("AccessDenied", 403), "s3://b/k") as SourceError;
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^s3:\/\/b\/k: AccessDenied \(403\): m \(check the credentials/);
  });

  it("names HEAD errors, which have no body, by their status", () => {
    expect(toSourceError(service("403", 403, {}, "UnknownError"), "s3://b/k").message).toMatch(/^s3:\/\/b\/k: HTTP 403 \(403\)/);
  });

  it("does not retry a refused TLS certificate", () => {
    const tls = Object.assign(new Error("self-signed certificate"), { name: "Error", code: "DEPTH_ZERO_SELF_SIGNED_CERT" });
    const e = toSourceError(tls, "s3://b/k") as SourceError;
    expect(e.retryable).toBe(false);
    expect(e.message).toContain("--ca-file");
  });

  it("retries network failures and never echoes a secret", () => {
    const net = Object.assign(new Error("connect ECONNRESET with SECRETSECRET"), { name: "Error", code: "ECONNRESET" });
    const e = toSourceError(net, "s3://b/k", ["SECRETSECRET"]) as SourceError;
    expect(e.retryable).toBe(true);
    expect(e.message).not.toContain("SECRETSECRET");
  });

  it("passes aborts through", () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
    expect(toSourceError(abort, "s3://b/k")).toBe(abort);
  });
});

describe("createS3Source", () => {
  it("refuses half-set credentials and bad endpoints", () => {
    expect(createS3Source({ uri: "s3://models/x", env: { AWS_ACCESS_KEY_ID: "id" } })).toEqual({
      ok: false,
      error: "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together",
    });
    expect(createS3Source({ uri: "s3://models/x", endpoint: "ftp://x", env: {} }).ok).toBe(false);
  });

  it("reports an unreachable endpoint as a retryable error naming the bucket", async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
      });
    });
    const src = createS3Source({ uri: "s3://models/x", endpoint: `http://127.0.0.1:${port}`, env: {} });
    if (!src.ok) throw new Error(src.error);
    const err = await src.value.list(AbortSignal.timeout(10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(true);
    expect((err as SourceError).message).toMatch(/^s3:\/\/models\/x\/: connection refused by 127\.0\.0\.1:\d+ \(ECONNREFUSED\): nothing is listening there/);
  });
});

describe("S3Source listing", () => {
  it("falls back to ListObjectsV2 and ETags when version listing is denied", async () => {
    const client = new S3Client({ region: "us-east-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
    const send = vi.spyOn(client, "send").mockImplementation(async (cmd: unknown) => {
      if (cmd instanceof ListObjectVersionsCommand) {
        throw Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
      }
      if (cmd instanceof ListObjectsV2Command) {
        return { IsTruncated: false, Contents: [{ Key: "p/a.bin", Size: 3, ETag: '"e"', ChecksumAlgorithm: ["CRC32"] }] };
      }
      throw new Error("unexpected command");
    });
    const src = new S3Source({ bucket: "models", prefix: "p" }, client, []);
    const listing = await src.list(AbortSignal.timeout(5_000));
    expect(listing.identity.resolved).toMatch(/^etags:sha256:/);
    expect(listing.objects).toEqual([{ id: 'p/a.bin@"e"', size: 3, unpack: { kind: "file", path: "a.bin" }, description: "s3://models/p/a.bin" }]);
    // CRC32 only: no HEAD was needed to learn there is no SHA256.
    expect(send).toHaveBeenCalledTimes(2);
  });
});
