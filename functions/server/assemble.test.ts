import type * as grpc from "@grpc/grpc-js";
// grpc-js's own decoder, which MessageAssembler replaces: the same frames must give the same messages and errors.
import { StreamDecoder } from "@grpc/grpc-js/build/src/stream-decoder.js";
import { describe, expect, it } from "vitest";
import { assembleOnce, MessageAssembler } from "./assemble.ts";
import { giveUp, received, release } from "./transfer.ts";

/** A gRPC message as framed on the wire: flag byte, 4-byte length, payload. */
function framed(payload: Buffer, flag = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(flag, 0);
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

/** `bytes` cut at `cuts` (offsets), as HTTP/2 DATA frames may cut them. */
function frames(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
  return at.slice(1).map((end, i) => bytes.subarray(at[i], end));
}

function feed(decoder: { write(b: Buffer): Buffer[] }, parts: Buffer[]): Buffer[] | string {
  const out: Buffer[] = [];
  try {
    for (const p of parts) out.push(...decoder.write(p));
  } catch (err) {
    return (err as Error).message;
  }
  return out;
}

const payload = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251));

describe("MessageAssembler", () => {
  it.each<{ reason: string; wire: Buffer; cuts: number[]; max: number }>([
    { reason: "one message in one frame", wire: framed(payload(1000)), cuts: [], max: -1 },
    { reason: "the prefix cut inside (a frame of 2 bytes, then the rest)", wire: framed(payload(1000)), cuts: [2, 3], max: -1 },
    { reason: "every byte its own frame", wire: framed(payload(40)), cuts: Array.from({ length: 45 }, (_, i) => i), max: -1 },
    { reason: "cut in the payload at HTTP/2's 16 KiB frames", wire: framed(payload(100_000)), cuts: [16384, 32768, 49152, 65536, 81920, 98304], max: -1 },
    { reason: "an empty message (prefix only)", wire: framed(Buffer.alloc(0)), cuts: [], max: -1 },
    {
      reason: "two messages, the second's prefix in the first's last frame",
      wire: Buffer.concat([framed(payload(300)), framed(payload(500))]),
      cuts: [200, 307],
      max: -1,
    },
    { reason: "a compressed message's flag byte kept (grpc-js inflates it after)", wire: framed(payload(64), 1), cuts: [10], max: -1 },
    { reason: "a message at the limit is taken", wire: framed(payload(1024)), cuts: [3], max: 1024 },
    { reason: "a message over the limit is refused at its prefix, with grpc-js's words", wire: framed(payload(1025)), cuts: [5], max: 1024 },
  ])("$reason: the same messages, or error, as grpc-js's decoder", ({ wire, cuts, max }) => {
    const want = feed(new StreamDecoder(max), frames(wire, cuts));
    const got = feed(new MessageAssembler(max), frames(wire, cuts));
    expect(got).toEqual(want);
  });

  it("refuses an over-long message at its prefix, before the rest has arrived", () => {
    expect(() => new MessageAssembler(1024).write(framed(payload(2000)).subarray(0, 5))).toThrow("Received message larger than max (2000 vs 1024)");
  });

  it("gives each message memory of its own, so the pool moves it to a worker without a copy", () => {
    const [msg] = new MessageAssembler(-1).write(framed(payload(200_000)));
    if (!msg) throw new Error("no message");
    // grpc-js passes the payload on as this view (decompressMessage: subarray(5)).
    const request = msg.subarray(5);
    expect(msg.byteOffset).toBe(0);
    expect(msg.buffer.byteLength).toBe(msg.length);
    const { posted, transfer } = giveUp(request);
    // Moved: the gRPC thread's Buffer is empty, the posted bytes are the same memory's, at the payload's offset.
    expect(request.length).toBe(0);
    expect(transfer).toEqual([posted.bytes]);
    expect(posted.offset).toBe(5);
    expect(received(posted).equals(payload(200_000))).toBe(true);
  });
});

describe("release", () => {
  it("frees posted bytes at once: every Buffer over them reads as empty", () => {
    const { posted } = giveUp(Buffer.from(payload(100_000)));
    const view = received(posted);
    expect(view.length).toBe(100_000);
    release(posted);
    expect(posted.bytes.detached).toBe(true);
    expect(posted.bytes.byteLength).toBe(0);
    expect(view.length).toBe(0);
    // Twice is harmless (a call answered after its worker was replaced).
    expect(() => release(posted)).not.toThrow();
  });
});

describe("assembleOnce", () => {
  const call = (decoder: unknown) => ({ decoder }) as unknown as grpc.ServerInterceptingCallInterface;

  it("replaces a fresh grpc-js decoder with an assembler of the same limit", () => {
    const c = call(new StreamDecoder(4096));
    expect(assembleOnce(c)).toBeInstanceOf(MessageAssembler);
    const d = (c as unknown as { decoder: unknown }).decoder;
    expect(d).toBeInstanceOf(MessageAssembler);
    expect(() => (d as MessageAssembler).write(framed(payload(4097)).subarray(0, 5))).toThrow("larger than max (4097 vs 4096)");
  });

  it.each<{ reason: string; decoder: () => unknown }>([
    { reason: "no decoder (a grpc-js that keeps it elsewhere)", decoder: () => undefined },
    { reason: "a decoder without write()", decoder: () => ({ maxReadMessageLength: 10, readState: 0 }) },
    { reason: "a decoder whose limit is not a number", decoder: () => ({ write: () => [], readState: 0 }) },
    {
      reason: "a decoder part-way through a message",
      decoder: () => {
        const d = new StreamDecoder(-1);
        d.write(framed(payload(100)).subarray(0, 20));
        return d;
      },
    },
  ])("leaves the call's decoder alone: $reason", ({ decoder }) => {
    const d = decoder();
    const c = call(d);
    expect(assembleOnce(c)).toBeUndefined();
    expect((c as unknown as { decoder: unknown }).decoder).toBe(d);
  });
});
