// A request's bytes, assembled once. grpc-js's own decoder keeps every
// HTTP/2 frame of a message until its last one arrives, then concatenates
// them: at that moment a 308 MiB fleet request is held twice (the frames and
// the message), and the copy of it costs about 0.3 s (docs/benchmarks.md,
// "The transport"). This one reads the message's length from its 5-byte
// prefix, allocates the message once, and copies each frame into it as it
// arrives, so a frame is garbage as soon as it is read. The limits are
// grpc-js's own: the same maximum length, checked at the same point (the
// prefix), refused with the same error, which grpc-js turns into
// RESOURCE_EXHAUSTED. The pages of the allocation are only touched as bytes
// arrive, so a client that declares a large message and stalls holds no more
// memory than with grpc-js's decoder (and it was admitted against
// --memory-budget for that length, calls.ts).
import type * as grpc from "@grpc/grpc-js";

/** The part of grpc-js's StreamDecoder the call uses: frames in, whole framed messages (prefix included) out. */
export interface MessageDecoder {
  write(data: Buffer): Buffer[];
}

const PREFIX_BYTES = 5;

/**
 * Where a message's bytes go instead of being assembled, when `stream` takes it (serve.ts: a large request, walked
 * by a worker as it arrives, incoming.ts). `end` is called once its last byte is written and returns the message
 * handed to grpc-js in its place (a stand-in the handler recognizes); `abort` when the call ends first.
 */
export interface MessageSink {
  write(piece: Buffer): void;
  end(): Buffer;
  abort(): void;
}

/** Offered each message's length (uncompressed messages only); a sink takes its bytes, undefined leaves it to be assembled. */
export type StreamMessage = (length: number) => MessageSink | undefined;

export class MessageAssembler implements MessageDecoder {
  private readonly maxBytes: number;
  private readonly stream: StreamMessage | undefined;
  private readonly prefix = Buffer.alloc(PREFIX_BYTES);
  private prefixRead = 0;
  private message: Buffer | undefined;
  private filled = 0;
  private sink: { to: MessageSink; left: number } | undefined;

  /** `maxBytes`: the longest message taken, -1 for none (grpc-js's convention). */
  constructor(maxBytes: number, stream?: StreamMessage) {
    this.maxBytes = maxBytes;
    this.stream = stream;
  }

  write(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < data.length) {
      if (this.sink !== undefined) {
        const take = Math.min(this.sink.left, data.length - at);
        this.sink.to.write(data.subarray(at, at + take));
        this.sink.left -= take;
        at += take;
        if (this.sink.left === 0) {
          out.push(this.sink.to.end());
          this.sink = undefined;
          this.prefixRead = 0;
        }
        continue;
      }
      if (this.message === undefined) {
        const take = Math.min(PREFIX_BYTES - this.prefixRead, data.length - at);
        data.copy(this.prefix, this.prefixRead, at, at + take);
        this.prefixRead += take;
        at += take;
        if (this.prefixRead < PREFIX_BYTES) break;
        const size = this.prefix.readUInt32BE(1);
        // grpc-js's words, so a client sees the same status either way.
        if (this.maxBytes !== -1 && size > this.maxBytes) throw new Error(`Received message larger than max (${size} vs ${this.maxBytes})`);
        // Not compressed (a compressed one is inflated by grpc-js, whole), and taken by a sink: its bytes go there.
        const to = this.prefix[0] === 0 && size > 0 ? this.stream?.(size) : undefined;
        if (to !== undefined) {
          this.sink = { to, left: size };
          continue;
        }
        // Its own memory, never a slice of Node's shared pool: the pool (pool.ts) moves it to a worker without a copy.
        this.message = Buffer.allocUnsafeSlow(PREFIX_BYTES + size);
        this.prefix.copy(this.message, 0);
        this.filled = PREFIX_BYTES;
      }
      const take = Math.min(this.message.length - this.filled, data.length - at);
      data.copy(this.message, this.filled, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === this.message.length) {
        out.push(this.message);
        this.message = undefined;
        this.prefixRead = 0;
      }
    }
    return out;
  }
  /** The call ended before the message did: its sink, if any, is told, and nothing more is written to it. */
  abort(): void {
    const sink = this.sink;
    this.sink = undefined;
    sink?.to.abort();
  }
}

/**
 * Puts a MessageAssembler in place of the decoder of grpc-js's call, with the limit that decoder has. grpc-js does not
 * expose it: its first call object holds it as `decoder` (1.10 on). Undefined where it is not found: the call keeps
 * grpc-js's own decoder, which is correct, only costlier.
 */
export function assembleOnce(call: grpc.ServerInterceptingCallInterface, stream?: StreamMessage): MessageAssembler | undefined {
  const held = call as unknown as { decoder?: unknown };
  const decoder = held.decoder;
  if (typeof decoder !== "object" || decoder === null || typeof (decoder as MessageDecoder).write !== "function") return undefined;
  const max = (decoder as { maxReadMessageLength?: unknown }).maxReadMessageLength;
  if (typeof max !== "number" || !(max === -1 || max >= 0)) return undefined;
  // Only before any byte arrived: a decoder part-way through a message cannot be swapped.
  const state = (decoder as { readState?: unknown }).readState;
  if (state !== 0) return undefined;
  const assembler = new MessageAssembler(max, stream);
  held.decoder = assembler;
  return assembler;
}
