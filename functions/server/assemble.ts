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

export class MessageAssembler implements MessageDecoder {
  private readonly maxBytes: number;
  private readonly prefix = Buffer.alloc(PREFIX_BYTES);
  private prefixRead = 0;
  private message: Buffer | undefined;
  private filled = 0;

  /** `maxBytes`: the longest message taken, -1 for none (grpc-js's convention). */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  write(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < data.length) {
      if (this.message === undefined) {
        const take = Math.min(PREFIX_BYTES - this.prefixRead, data.length - at);
        data.copy(this.prefix, this.prefixRead, at, at + take);
        this.prefixRead += take;
        at += take;
        if (this.prefixRead < PREFIX_BYTES) break;
        const size = this.prefix.readUInt32BE(1);
        // grpc-js's words, so a client sees the same status either way.
        if (this.maxBytes !== -1 && size > this.maxBytes) throw new Error(`Received message larger than max (${size} vs ${this.maxBytes})`);
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
}

/**
 * Puts a MessageAssembler in place of the decoder of grpc-js's call, with the limit that decoder has. grpc-js does not
 * expose it: its first call object holds it as `decoder` (1.10 on). False where it is not found: the call keeps
 * grpc-js's own decoder, which is correct, only costlier.
 */
export function assembleOnce(call: grpc.ServerInterceptingCallInterface): boolean {
  const held = call as unknown as { decoder?: unknown };
  const decoder = held.decoder;
  if (typeof decoder !== "object" || decoder === null || typeof (decoder as MessageDecoder).write !== "function") return false;
  const max = (decoder as { maxReadMessageLength?: unknown }).maxReadMessageLength;
  if (typeof max !== "number" || !(max === -1 || max >= 0)) return false;
  // Only before any byte arrived: a decoder part-way through a message cannot be swapped.
  const state = (decoder as { readState?: unknown }).readState;
  if (state !== 0) return false;
  held.decoder = new MessageAssembler(max);
  return true;
}
