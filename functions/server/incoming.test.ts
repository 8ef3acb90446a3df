// The gRPC thread's side of a request walked as it arrives: scheduled once its
// first fields say whose it is, its bytes handed on in order and whole, and a
// call that ends midway dropping what waits and telling its worker.
import { describe, expect, it } from "vitest";
import type { RequestHeader } from "../protocol/peek-request.ts";
import { field, requestBytes, structBytes } from "../../test/security/server-wire.ts";
import { BATCH_BYTES, IncomingRequest, streamedCall } from "./incoming.ts";
import type { StreamTarget } from "./pool.ts";
import { received, type PostedBytes } from "./transfer.ts";

const xr = structBytes({ apiVersion: "x/v1", kind: "X", metadata: { name: "x", namespace: "team-a" } });
/** meta, observed (namespace team-a), then 3 MiB of desired resources and a required resource. */
const body = Buffer.concat([
  requestBytes({ tag: "the-tag", xr, desired: { a: structBytes({ pad: "p".repeat(3 * 1024 * 1024) }) } }),
  field(8, Buffer.concat([field(1, Buffer.from("clusters")), field(2, Buffer.alloc(0))])),
]);

function target(): StreamTarget & { got: Buffer[]; ended: boolean; aborted: boolean } {
  const t = {
    got: [] as Buffer[],
    ended: false,
    aborted: false,
    chunk: (p: PostedBytes) => void t.got.push(Buffer.from(received(p))),
    end: () => void (t.ended = true),
    abort: () => void (t.aborted = true),
  };
  return t;
}

/** Write bytes [from, to) in pieces of `size`. */
function feed(r: IncomingRequest, bytes: Buffer, size: number, from: number, to: number): void {
  for (let at = from; at < to; at += size) r.write(bytes.subarray(at, Math.min(to, at + size)));
}

describe("IncomingRequest", () => {
  it.each([1, 4096, 65_536, 10 * 1024 * 1024])("is scheduled once its first fields are in, and hands every byte on in order (pieces of %i)", (size) => {
    const scheduled: RequestHeader[] = [];
    const r = new IncomingRequest(body.length, (h) => scheduled.push(h));
    const t = target();
    // Scheduled before the 3 MiB of desired resources have arrived: meta and observed are enough.
    const head = Math.min(body.length, xr.length + 100);
    feed(r, body, size, 0, head);
    expect(scheduled).toEqual([{ tag: "the-tag", namespace: "team-a" }]);
    r.attach(t);
    feed(r, body, size, head, body.length);
    expect(t.ended).toBe(false);
    const standIn = r.end();
    expect(t.ended).toBe(true);
    expect(Buffer.concat(t.got).equals(body)).toBe(true);
    // The stand-in grpc-js hands the handler (a view past its 5-byte prefix) finds the call.
    expect(streamedCall(standIn.subarray(5))).toBe(r);
    expect(streamedCall(Buffer.alloc(0))).toBeUndefined();
    for (const c of t.got.slice(1)) expect(c.length).toBeLessThanOrEqual(BATCH_BYTES);
  });

  it("hands on exactly the message's bytes", () => {
    const r = new IncomingRequest(body.length, () => undefined);
    const t = target();
    r.attach(t);
    for (let at = 0; at < body.length; at += 7777) r.write(body.subarray(at, at + 7777));
    r.end();
    expect(Buffer.concat(t.got).equals(body)).toBe(true);
  });

  it("keeps its batches until a worker is attached, then hands them on, then the end", () => {
    const r = new IncomingRequest(body.length, () => undefined);
    r.write(body);
    r.end();
    const t = target();
    r.attach(t);
    expect(Buffer.concat(t.got).equals(body)).toBe(true);
    expect(t.ended).toBe(true);
  });

  it("aborted midway: nothing more is read, what waits is dropped, the worker told, the answer is 'gone'", async () => {
    let cancelled = 0;
    const r = new IncomingRequest(body.length, () => undefined);
    r.onAbort(() => cancelled++);
    const t = target();
    r.write(body.subarray(0, 2 * BATCH_BYTES));
    r.attach(t);
    const before = t.got.length;
    r.abort();
    expect(t.aborted).toBe(true);
    expect(cancelled).toBe(1);
    r.write(body.subarray(2 * BATCH_BYTES));
    expect(t.got.length).toBe(before);
    expect(r.aborted).toBe(true);
    await expect(r.answer).resolves.toMatchObject({ ok: false, code: "gone" });
    // Twice is harmless (a cancel, then the status).
    r.abort();
    expect(cancelled).toBe(1);
  });

  it("aborted before a worker took it: a worker attached later is told at once, and gets no bytes", () => {
    const r = new IncomingRequest(body.length, () => undefined);
    r.write(body.subarray(0, BATCH_BYTES));
    r.abort();
    const t = target();
    r.attach(t);
    expect(t).toMatchObject({ aborted: true, got: [] });
  });

  it("a head whose framing cannot be read is scheduled at once (the worker words the error)", () => {
    const scheduled: RequestHeader[] = [];
    const r = new IncomingRequest(1000, (h) => scheduled.push(h));
    r.write(Buffer.from([0, 0, 0]));
    expect(scheduled).toEqual([{ tag: "", namespace: undefined }]);
  });
});
