import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ServiceDigests } from "./service-digests.ts";
import { DigestMismatch } from "./retry.ts";
import type { ByteRange, RemoteObject, ServiceDigest, Source } from "./sources/types.ts";
import { fetchObjects, TransferError, type TransferOptions } from "./transfer.ts";

const md5 = (b: Uint8Array): string => createHash("md5").update(b).digest("base64");

describe("ServiceDigests", () => {
  const cases: { reason: string; checks: ServiceDigest[]; input: string[]; want: string | undefined }[] = [
    // RFC 3720 (iSCSI) B.4 and every crc32c implementation's check value: crc32c("123456789") = 0xE3069283.
    { reason: "crc32c check value, in one piece", checks: [{ algorithm: "crc32c", base64: "4waSgw==" }], input: ["123456789"], want: undefined },
    { reason: "crc32c carried across updates", checks: [{ algorithm: "crc32c", base64: "4waSgw==" }], input: ["1234", "56789"], want: undefined },
    { reason: "md5 as a service prints it (base64)", checks: [{ algorithm: "md5", base64: md5(Buffer.from("abc")) }], input: ["a", "bc"], want: undefined },
    { reason: "a wrong crc32c is the mismatch", checks: [{ algorithm: "crc32c", base64: "AAAAAA==" }], input: ["123456789"], want: "crc32c" },
    {
      reason: "md5 right but crc32c wrong: the first failing digest is reported",
      checks: [
        { algorithm: "md5", base64: md5(Buffer.from("123456789")) },
        { algorithm: "crc32c", base64: "AAAAAQ==" },
      ],
      input: ["123456789"],
      want: "crc32c",
    },
    { reason: "no checks: nothing to fail", checks: [], input: ["x"], want: undefined },
  ];
  it.each(cases)("$reason", ({ checks, input, want }) => {
    const d = new ServiceDigests(checks);
    for (const s of input) d.update(Buffer.from(s));
    expect(d.mismatch()?.algorithm).toBe(want);
  });
});

/** A source that holds bytes in memory and serves ranges, the transfer engine's whole contract. */
function memorySource(data: Map<string, Buffer>): Source {
  return {
    list: () => Promise.reject(new Error("not used")),
    supportsRanges: () => true,
    read: (o: RemoteObject, r: ByteRange | undefined) => {
      const all = data.get(o.id) as Buffer;
      const bytes = r === undefined ? all : all.subarray(r.start, r.end + 1);
      return Promise.resolve(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new Uint8Array(bytes));
            c.close();
          },
        }),
      );
    },
  };
}

describe("fetchObjects checks the service's digests", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fmc-digests-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const bytes = Buffer.from(Array.from({ length: 3 * 64 * 1024 + 17 }, (_, i) => (i * 31) & 0xff));
  const opts = (): TransferOptions => ({
    concurrency: 3,
    chunkSize: 64 * 1024, // four chunks in parallel: the digests must see the bytes in order
    stallTimeoutMs: 10_000,
    signal: new AbortController().signal,
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 },
    events: { bytes: () => undefined, fileDone: () => undefined, resumed: () => undefined, retry: () => undefined },
  });
  const object = (checks: ServiceDigest[]): RemoteObject => ({ id: "model.bin", size: bytes.length, checks, unpack: { kind: "file", path: "model.bin" } });
  const crc = (): string => {
    const d = new ServiceDigests([{ algorithm: "crc32c", base64: "" }]);
    d.update(bytes);
    return d.mismatch()?.got as string;
  };

  it("accepts an object whose md5 and crc32c match, fetched in parallel ranges", async () => {
    const source = memorySource(new Map([["model.bin", bytes]]));
    const { fetched } = await fetchObjects(
      source,
      [
        object([
          { algorithm: "md5", base64: md5(bytes) },
          { algorithm: "crc32c", base64: crc() },
        ]),
      ],
      dir,
      opts(),
    );
    expect(fetched[0]?.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("refuses bytes the service does not vouch for, names the digest and drops them", async () => {
    const corrupt = Buffer.from(bytes);
    corrupt.writeUInt8(corrupt.readUInt8(100_000) ^ 1, 100_000);
    const source = memorySource(new Map([["model.bin", corrupt]]));
    const err = await fetchObjects(source, [object([{ algorithm: "md5", base64: md5(bytes) }])], dir, opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect((err as TransferError).cause).toBeInstanceOf(DigestMismatch);
    expect((err as TransferError).message).toContain(
      `md5 mismatch: the storage service vouches for ${md5(bytes)} (base64), the bytes received hash to ${md5(corrupt)}`,
    );
    // Nothing wrong stays staged for a later run to trust.
    expect(await readdir(join(dir, "objects"))).toEqual([]);
  });
});
