// Moving a request or response between the gRPC thread and a worker without
// copying it: a 5,000-cluster fleet request is about 320 MB, and a copy would
// cost that much memory again and half a second. Node's own Buffers (grpc-js
// assembles a request with Buffer.concat, our encoder grows with allocUnsafe)
// are marked untransferable, so the memory is first moved into a fresh
// ArrayBuffer with ArrayBuffer.prototype.transfer(), which V8 does without a
// copy, and that one is posted in the transfer list. The caller gives the
// bytes up: the Buffer it passed is empty afterwards.

/** Bytes as posted to another thread. */
export interface PostedBytes {
  bytes: ArrayBuffer;
  offset: number;
  length: number;
}

/** Below this a copy is as cheap as the move, and pooled Buffers (under 4 KiB) cannot be moved at all. */
const COPY_BELOW = 64 * 1024;

/** The bytes to post and the transfer list to post them with. */
export function giveUp(buf: Buffer): { posted: PostedBytes; transfer: ArrayBuffer[] } {
  const whole = buf.buffer;
  // Read before the move: a detached Buffer is empty.
  const offset = buf.byteOffset;
  const length = buf.length;
  // Move only memory the Buffer mostly fills: a small view of a large allocation is copied, not the allocation moved.
  if (length >= COPY_BELOW && whole instanceof ArrayBuffer && length * 2 >= whole.byteLength) {
    try {
      const moved = whole.transfer();
      return { posted: { bytes: moved, offset, length }, transfer: [moved] };
    } catch {
      // Not detachable (a pool, a wasm memory): copied below.
    }
  }
  const copy = new ArrayBuffer(buf.length);
  new Uint8Array(copy).set(buf);
  return { posted: { bytes: copy, offset: 0, length: buf.length }, transfer: [copy] };
}

/** The Buffer over bytes another thread posted. */
export function received(p: PostedBytes): Buffer {
  return Buffer.from(p.bytes, p.offset, p.length);
}

/**
 * Frees posted bytes now, not whenever this thread next collects: an idle worker collects nothing for a long while,
 * and otherwise holds its last 300 MiB request while the gRPC thread assembles the next one. Every Buffer over them
 * reads as empty afterwards, so only bytes nothing refers to any more are released.
 */
export function release(p: PostedBytes): void {
  if (!p.bytes.detached) p.bytes.transfer(0);
}
