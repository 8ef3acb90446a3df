import { describe, expect, it } from "vitest";
import { createOciSource, isLoopbackHost, sliceStream } from "./oci.ts";
import { SourceError } from "./types.ts";

function streamOf(chunks: number[][]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(Uint8Array.from(ch));
      c.close();
    },
  });
}

async function bytes(s: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const c of s) out.push(...c);
  return out;
}

describe("sliceStream", () => {
  const chunks = [[0, 1, 2], [3, 4], [5, 6, 7, 8], [9]];
  it.each([
    [0, 9],
    [2, 3],
    [3, 4],
    [4, 8],
    [9, 9],
  ])("keeps bytes %i-%i across chunk boundaries", async (start, end) => {
    const want = Array.from({ length: end - start + 1 }, (_, i) => start + i);
    expect(await bytes(sliceStream(streamOf(chunks), start, end))).toEqual(want);
  });
  it("fails when the body is shorter than the range", async () => {
    await expect(bytes(sliceStream(streamOf([[0, 1]]), 0, 5))).rejects.toBeInstanceOf(SourceError);
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1:5000", true],
    ["localhost", true],
    ["[::1]:5000", true],
    ["registry.example:5000", false],
    ["10.0.0.1", false],
  ])("%s → %s", (host, want) => {
    expect(isLoopbackHost(host)).toBe(want);
  });
});

describe("OciSource HTTP errors", () => {
  const src = (fetchImpl: typeof fetch) => {
    const res = createOciSource({ uri: "oci://registry.example/m:v1", env: { HOME: "/nonexistent" }, fetch: fetchImpl });
    if (!res.ok) throw new Error(res.error);
    return res.value;
  };

  it("retries 429 and 5xx, carrying Retry-After", async () => {
    const r429 = await src(async () => new Response("slow down", { status: 429, headers: { "retry-after": "4" } }))
      .list(AbortSignal.timeout(5_000))
      .catch((e: unknown) => e);
    expect(r429).toBeInstanceOf(SourceError);
    expect([(r429 as SourceError).retryable, (r429 as SourceError).retryAfterSeconds]).toEqual([true, 4]);
    const r503 = await src(async () => new Response("", { status: 503 }))
      .list(AbortSignal.timeout(5_000))
      .catch((e: unknown) => e);
    expect((r503 as SourceError).retryable).toBe(true);
    expect((r503 as SourceError).message).toBe("oci://registry.example/m:v1: HTTP 503");
  });

  it("retries a refused connection, names the reference, and uses https for remote hosts", async () => {
    const urls: string[] = [];
    const err = await src(async (input) => {
      urls.push(String(input));
      throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
    })
      .list(AbortSignal.timeout(5_000))
      .catch((e: unknown) => e);
    expect((err as SourceError).retryable).toBe(true);
    expect((err as SourceError).message).toBe(
      "oci://registry.example/m:v1: connection refused by registry.example:443 (ECONNREFUSED): nothing is listening there; check the port in the URL and that the server is running",
    );
    expect(urls).toEqual(["https://registry.example/v2/m/manifests/v1"]);
  });

  it("does not retry a missing manifest", async () => {
    const err = await src(async () => new Response("{}", { status: 404 }))
      .list(AbortSignal.timeout(5_000))
      .catch((e: unknown) => e);
    expect((err as SourceError).retryable).toBe(false);
    expect((err as SourceError).message).toContain("no such manifest");
  });
});
