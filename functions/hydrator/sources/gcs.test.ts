import { describe, expect, it } from "vitest";
import { formatGenerationPin, generationsAt, parseGcsUri, parseGenerationPin, pinOf, serviceChecks } from "./gcs.ts";

// Generations are microseconds since the epoch: 1_700_000_000_000_000 is 2023-11-14T22:13:20Z.
const T = 1_700_000_000_000_000n;
const o = (name: string, generation: bigint, extra: Record<string, unknown> = {}) => ({ name, size: "1", generation: String(generation), ...extra });

describe("the generations live at a pin", () => {
  it.each([
    { reason: "the newest generation no newer than the pin", all: [o("a", T - 10n), o("a", T - 5n)], want: [`a#${T - 5n}`] },
    { reason: "a generation written after the pin is left out", all: [o("a", T - 5n), o("a", T + 1_000_000n)], want: [`a#${T - 5n}`] },
    { reason: "a name created after the pin is left out", all: [o("a", T), o("c", T + 5n)], want: [`a#${T}`] },
    {
      reason: "a generation already replaced or deleted by the pin's time is left out",
      all: [o("a", T - 10n, { timeDeleted: "2023-11-14T22:13:19.999Z" }), o("b", T - 3n, { timeDeleted: "2023-11-14T22:13:19.000Z" }), o("c", T)],
      want: [`c#${T}`],
    },
    {
      reason: "a generation deleted after the pin still belongs to it (a noncurrent version)",
      all: [o("a", T - 10n, { timeDeleted: "2023-11-14T22:13:21.000Z" }), o("a", T + 1_000_000n)],
      want: [`a#${T - 10n}`],
    },
  ])("$reason", ({ all, want }) => {
    expect(generationsAt(all, T).map((x) => `${x.name}#${x.generation}`)).toEqual(want);
  });
});

describe("pins", () => {
  it("round-trip, and name the newest generation and the digest of the whole set", () => {
    const pin = pinOf([
      { name: "b", size: 2, generation: String(T) },
      { name: "a", size: 1, generation: String(T - 1n) },
    ]);
    expect(pin.newest).toBe(T);
    // Order-independent: the same set in another order is the same pin.
    expect(
      pinOf([
        { name: "a", size: 1, generation: String(T - 1n) },
        { name: "b", size: 2, generation: String(T) },
      ]),
    ).toEqual(pin);
    expect(parseGenerationPin(formatGenerationPin(pin))).toEqual({ ok: true, value: pin });
    expect(parseGenerationPin("etags:sha256:00").ok).toBe(false);
  });
});

describe("the service's own checksums", () => {
  it.each([
    { reason: "an uploaded object: crc32c, not MD5 too (the same check, a sixth of the CPU)", meta: { md5Hash: "bWQ1", crc32c: "Y3Jj" }, want: ["crc32c"] },
    { reason: "a composite object: crc32c (GCS keeps no MD5 for it)", meta: { md5Hash: "bWQ1", crc32c: "Y3Jj", componentCount: 2 }, want: ["crc32c"] },
    { reason: "no crc32c reported (an emulator, a proxy): MD5", meta: { md5Hash: "bWQ1" }, want: ["md5"] },
    { reason: "a composite object without crc32c: nothing the service vouches for", meta: { md5Hash: "bWQ1", componentCount: 2 }, want: [] },
    { reason: "nothing reported: nothing to check but SHA-256", meta: {}, want: [] },
  ])("$reason", ({ meta, want }) => {
    expect(serviceChecks({ ...o("a", T), ...meta }).map((c) => c.algorithm)).toEqual(want);
  });
});

describe("gs:// URIs", () => {
  it.each([
    { uri: "gs://models/qwen/", want: { ok: true, value: { bucket: "models", prefix: "qwen/" } } },
    { uri: "gs://models", want: { ok: true, value: { bucket: "models", prefix: "" } } },
    { uri: "gs://my_bucket.example.com/x", want: { ok: true, value: { bucket: "my_bucket.example.com", prefix: "x" } } },
    { uri: "gs://" + "a".repeat(64) + "/x", want: { ok: false, error: `invalid Cloud Storage bucket name "${"a".repeat(64)}" in "gs://${"a".repeat(64)}/x"` } },
    { uri: "gs:///x", want: { ok: false, error: 'not a gs:// URI: "gs:///x" (expected gs://<bucket>/<prefix>)' } },
  ])("$uri", ({ uri, want }) => {
    expect(parseGcsUri(uri)).toEqual(want);
  });
});
