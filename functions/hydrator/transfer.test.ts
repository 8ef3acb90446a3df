// The transfer engine against an in-memory source whose chunks can be made to
// land out of order: every byte hashed once (none read back unless a resume
// found it durable), held bytes bounded, single-chunk objects journaled.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Fetched, fetchObjects, objectKey, OPEN_FILES_MAX, type TransferOptions, type TransferStats } from "./transfer.ts";
import { SourceError, type ByteRange, type RemoteObject, type Source } from "./sources/types.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

interface Fake extends Source {
  reads: { id: string; range: ByteRange | undefined }[];
}

/**
 * Objects served from memory in `piece`-byte reads. `delayMs(id, range)` slows a read (per piece) so chosen
 * chunks land late; `cutOnce` cuts the first read of a range starting at a given offset after that many bytes.
 */
function fakeSource(
  data: Map<string, Buffer>,
  opts: { piece?: number; delayMs?: (id: string, range: ByteRange | undefined) => number; cutOnce?: Map<number, number>; ranges?: boolean } = {},
): Fake {
  const reads: Fake["reads"] = [];
  const piece = opts.piece ?? 64 * KiB;
  return {
    reads,
    list: () => Promise.reject(new Error("not used")),
    supportsRanges: () => opts.ranges ?? true,
    async read(object, range) {
      reads.push({ id: object.id, range });
      const all = data.get(object.id) as Buffer;
      const bytes = range ? all.subarray(range.start, range.end + 1) : all;
      const delay = opts.delayMs?.(object.id, range) ?? 0;
      const cut = range ? opts.cutOnce?.get(range.start) : undefined;
      if (range && cut !== undefined) opts.cutOnce?.delete(range.start);
      let pos = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          if (cut !== undefined && pos >= cut) return controller.error(new SourceError("connection reset", { retryable: true }));
          if (pos >= bytes.length) return controller.close();
          // A fresh copy per read, as a socket gives: the engine may hold it.
          controller.enqueue(Buffer.from(bytes.subarray(pos, pos + piece)));
          pos += piece;
        },
      });
    },
  };
}

function objectsOf(data: Map<string, Buffer>): RemoteObject[] {
  return [...data].map(([id, b]) => ({ id, size: b.length, expected: { algorithm: "sha256", hex: sha(b) }, unpack: { kind: "file", path: id } }));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "fmc-transfer-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(over: Partial<TransferOptions> & { stats?: TransferStats[] } = {}): TransferOptions {
  const { stats, ...rest } = over;
  return {
    concurrency: 8,
    chunkSize: 1 * MiB,
    stallTimeoutMs: 30_000,
    signal: AbortSignal.timeout(60_000),
    events: { bytes: () => undefined, fileDone: () => undefined, resumed: () => undefined, retry: () => undefined },
    sleep: () => Promise.resolve(),
    onStats: (s) => stats?.push(s),
    ...rest,
  };
}

describe("fetchObjects: hashing as the bytes arrive", () => {
  it("hashes every byte once, in flight, when the first chunk lands last (no read-back)", async () => {
    const big = randomBytes(8 * MiB + 12_345);
    const data = new Map([["big.bin", big]]);
    // The chunk at offset 0 is slow: every other chunk arrives ahead of the hash.
    const src = fakeSource(data, { delayMs: (_id, r) => (r?.start === 0 ? 4 : 0) });
    const stats: TransferStats[] = [];
    const { fetched } = await fetchObjects(src, objectsOf(data), dir, options({ stats }));
    expect(fetched[0]?.sha256).toBe(sha(big));
    expect((await readFile(fetched[0]?.dataPath as string)).equals(big)).toBe(true);
    expect(stats[0]).toMatchObject({ hashedFromDisk: 0, hashedInFlight: big.length });
    // Something really was held: the chunks did land out of order.
    expect(stats[0]?.heldPeak).toBeGreaterThan(0);
  });

  it("bounds the bytes held ahead of the hash: chunks ahead stop reading until the first one is hashed", async () => {
    const big = randomBytes(32 * MiB);
    const data = new Map([["big.bin", big]]);
    const src = fakeSource(data, { delayMs: (_id, r) => (r?.start === 0 ? 3 : 0) });
    const stats: TransferStats[] = [];
    const heldBytes = 4 * MiB;
    const { fetched } = await fetchObjects(src, objectsOf(data), dir, options({ stats, chunkSize: 4 * MiB, heldBytes }));
    expect(fetched[0]?.sha256).toBe(sha(big));
    const peak = stats[0]?.heldPeak as number;
    // The bound plus at most one write batch (1 MiB) per chunk in flight crossing it; unbounded, the seven chunks
    // after the slow first one would hold 28 MiB.
    expect(peak).toBeGreaterThanOrEqual(heldBytes);
    expect(peak).toBeLessThanOrEqual(heldBytes + 8 * MiB);
    expect(stats[0]).toMatchObject({ hashedFromDisk: 0, hashedInFlight: big.length });
  });

  it("keeps the held bytes of a chunk whose connection is cut and asks only for the rest", async () => {
    const big = randomBytes(4 * MiB);
    const data = new Map([["big.bin", big]]);
    const src = fakeSource(data, { delayMs: (_id, r) => (r?.start === 0 ? 3 : 0), cutOnce: new Map([[2 * MiB, 256 * KiB]]) });
    const stats: TransferStats[] = [];
    const { fetched } = await fetchObjects(src, objectsOf(data), dir, options({ stats }));
    expect(fetched[0]?.sha256).toBe(sha(big));
    expect(src.reads.map((r) => r.range?.start)).toContain(2 * MiB + 256 * KiB);
    expect(stats[0]).toMatchObject({ hashedFromDisk: 0, hashedInFlight: big.length });
  });

  it("on resume, hashes the chunks found durable from disk once, in order, and the rest as they arrive", async () => {
    const big = randomBytes(6 * MiB);
    const data = new Map([["big.bin", big]]);
    const [object] = objectsOf(data) as [RemoteObject];
    // What a killed run left: chunks 1 and 4 durable (out of order), recorded in the state file.
    const objects = join(dir, "objects");
    await import("node:fs/promises").then((fs) => fs.mkdir(objects, { recursive: true }));
    const key = objectKey(object.id);
    const fh = await open(join(objects, `${key}.data`), "w");
    await fh.truncate(big.length);
    for (const i of [1, 4]) await fh.write(big, i * MiB, MiB, i * MiB);
    await fh.close();
    await writeFile(join(objects, `${key}.state.json`), JSON.stringify({ v: 1, id: object.id, size: big.length, chunkSize: MiB, ranged: true, done: [4, 1] }));
    const src = fakeSource(data, { delayMs: (_id, r) => (r?.start === 0 ? 2 : 0) });
    const stats: TransferStats[] = [];
    let resumed = 0;
    const o = options({ stats });
    const { fetched } = await fetchObjects(src, [object], dir, { ...o, events: { ...o.events, resumed: (n) => (resumed = n) } });
    expect(fetched[0]?.sha256).toBe(sha(big));
    expect(resumed).toBe(2 * MiB);
    expect(src.reads.map((r) => r.range?.start).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([0, 2, 3, 5].map((i) => i * MiB));
    // Each byte hashed exactly once: the durable chunks from disk, the others in flight.
    expect(stats[0]).toMatchObject({ hashedFromDisk: 2 * MiB, hashedInFlight: 4 * MiB });
  });

  it("on resume with the durable chunks first, hashes them from disk at once, so chunks held at the bound do not wait forever", async () => {
    const chunk = 64 * KiB;
    const big = randomBytes(8 * MiB);
    const data = new Map([["big.bin", big]]);
    const [object] = objectsOf(data) as [RemoteObject];
    const objects = join(dir, "objects");
    await import("node:fs/promises").then((fs) => fs.mkdir(objects, { recursive: true }));
    const key = objectKey(object.id);
    const done = Array.from({ length: 40 }, (_, i) => i);
    const fh = await open(join(objects, `${key}.data`), "w");
    await fh.truncate(big.length);
    for (const i of done) await fh.write(big, i * chunk, chunk, i * chunk);
    await fh.close();
    await writeFile(join(objects, `${key}.state.json`), JSON.stringify({ v: 1, id: object.id, size: big.length, chunkSize: chunk, ranged: true, done }));
    const stats: TransferStats[] = [];
    const { fetched } = await fetchObjects(fakeSource(data, { piece: 16 * KiB }), [object], dir, options({ stats, chunkSize: chunk, heldBytes: 256 * KiB }));
    expect(fetched[0]?.sha256).toBe(sha(big));
    expect(stats[0]).toMatchObject({ hashedFromDisk: 40 * chunk, hashedInFlight: big.length - 40 * chunk });
  });

  it("restarts the hash with the stream when a source without ranges is cut", async () => {
    const b = randomBytes(3 * MiB);
    const data = new Map([["whole.bin", b]]);
    let cut = true;
    const base = fakeSource(data, { ranges: false });
    const src: Source = {
      ...base,
      async read(object, range, signal) {
        const s = await base.read(object, range, signal);
        if (!cut) return s;
        cut = false;
        const reader = (s as ReadableStream<Uint8Array>).getReader();
        let n = 0;
        return new ReadableStream<Uint8Array>({
          async pull(c) {
            if (n >= MiB + 5) return c.error(new SourceError("reset", { retryable: true }));
            const { done, value } = await reader.read();
            if (done) return c.close();
            n += value.length;
            c.enqueue(value);
          },
        });
      },
    };
    const { fetched } = await fetchObjects(src, objectsOf(data), dir, options());
    expect(fetched[0]?.sha256).toBe(sha(b));
  });
});

describe("fetchObjects: small files", () => {
  it("journals single-chunk objects in batches (no state file each) and a re-run resumes them without a read", async () => {
    const data = new Map(Array.from({ length: 200 }, (_, i) => [`f/${i}.txt`, randomBytes(1 + ((i * 37) % 3000))] as [string, Buffer]));
    data.set("empty", Buffer.alloc(0));
    const src = fakeSource(data);
    const first = await fetchObjects(src, objectsOf(data), dir, options());
    for (const f of first.fetched) expect(f.sha256).toBe(sha(data.get(f.object.id) as Buffer));
    const names = await readdir(join(dir, "objects"));
    expect(names.filter((n) => n.endsWith(".state.json"))).toEqual([]);
    const journal = (await readFile(join(dir, "objects", "journal.jsonl"), "utf8")).trim().split("\n");
    expect(journal).toHaveLength(data.size);

    const again = fakeSource(data);
    let resumed = 0;
    const o = options();
    const second = await fetchObjects(again, objectsOf(data), dir, { ...o, events: { ...o.events, resumed: (n) => (resumed = n) } });
    expect(again.reads).toEqual([]);
    expect(resumed).toBe([...data.values()].reduce((a, b) => a + b.length, 0));
    expect(second.fetched.map((f) => f.sha256)).toEqual(first.fetched.map((f) => f.sha256));
  });

  it("opens each file when the transfer reaches it and lets it go once published: 2,000 files, a handful open at once", async () => {
    const data = new Map(Array.from({ length: 2000 }, (_, i) => [`d/${i}.json`, randomBytes(1 + ((i * 53) % 2000))] as [string, Buffer]));
    const stats: TransferStats[] = [];
    const { fetched } = await fetchObjects(fakeSource(data), objectsOf(data), dir, options({ stats, concurrency: 4 }));
    expect(fetched.map((f) => f.object.id)).toEqual([...data.keys()]);
    for (const f of fetched) expect(f.sha256).toBe(sha(data.get(f.object.id) as Buffer));
    // Made up front (as before), every file's job lived for the whole run: 2,000. Now what is in flight (4 chunks),
    // plus files whose last chunk landed and that wait for their fsync and journal line, never past the bound.
    expect(stats[0]?.openFilesPeak).toBeGreaterThan(0);
    expect(stats[0]?.openFilesPeak).toBeLessThanOrEqual(OPEN_FILES_MAX);
  });

  it("fetches again a journaled file whose staged bytes are gone, and ignores a torn last line", async () => {
    const data = new Map([
      ["a.txt", randomBytes(100)],
      ["b.txt", randomBytes(200)],
    ]);
    await fetchObjects(fakeSource(data), objectsOf(data), dir, options());
    await rm(join(dir, "objects", `${objectKey("a.txt")}.data`));
    await writeFile(join(dir, "objects", "journal.jsonl"), `${await readFile(join(dir, "objects", "journal.jsonl"), "utf8")}{"id":"b.t`);
    const again = fakeSource(data);
    const { fetched } = await fetchObjects(again, objectsOf(data), dir, options());
    expect(again.reads.map((r) => r.id)).toEqual(["a.txt"]);
    expect(fetched.map((f) => f.sha256)).toEqual([sha(data.get("a.txt") as Buffer), sha(data.get("b.txt") as Buffer)]);
  });
});

describe("Fetched: the staged path made when read", () => {
  const cases: [reason: string, id: string][] = [
    ["a plain name", "a.txt"],
    ["a path with directories and non-ASCII: the key hides it", "data/日本/é.json"],
    ["an id that is a URL (http sources)", "https://example.com/a/b?x=1"],
  ];
  it.each(cases)("is <staging>/objects/<objectKey(id)>.data for %s", (_reason, id) => {
    const f = new Fetched({ id, size: 1, unpack: { kind: "file", path: "p" } }, "/stage/objects", "0".repeat(64), 1);
    expect(f.dataPath).toBe(`/stage/objects/${objectKey(id)}.data`);
  });
});
