// A large request handed to a worker as it arrives, never held whole. The
// assembler (assemble.ts) gives a message of --stream-requests-from or more to an
// IncomingRequest instead of assembling it. Its first fields (meta and the
// observed state: the tag and the XR's namespace, by which the call is
// scheduled) are gathered in one buffer; once they are in, the call is
// scheduled like any other (serve.ts: the namespace's call rate, then the
// pool's fair queue), and from then on the bytes travel in batches of
// BATCH_BYTES, each moved to the call's worker without a copy as soon as it is
// full (transfer.ts), where stream-request.ts walks them and keeps only what
// the composition needs. Until a worker takes the call its batches wait here,
// as a whole request did. When the last byte is in, grpc-js is handed a small
// stand-in message, and the handler finds the call by it (streamedCall).
//
// A call that ends before its message does (cancelled, past its deadline,
// refused by the memory budget, a stream reset midway) is aborted: batches
// still here are dropped, and its worker, if it had one, drops what it read
// and is free for the next call.
import { peekRequest, type RequestHeader } from "../protocol/peek-request.ts";
import { REQUEST_LIMITS } from "../protocol/limits.ts";
import type { MessageSink } from "./assemble.ts";
import type { PoolAnswer, RequestStream, StreamTarget } from "./pool.ts";
import type { PostedBytes } from "./transfer.ts";

/** Bytes moved to the worker at a time once the call is scheduled. */
export const BATCH_BYTES = 1024 * 1024;
/**
 * The first fields are gathered up to this much before the call is scheduled: meta and observed come first from
 * Crossplane (the observed state of 5,000 replicas is about 6 MiB). A request whose observed state is larger is
 * scheduled with what came by then (a namespace found, or none).
 */
export const HEAD_MAX_BYTES = 32 * 1024 * 1024;
/**
 * What each batch (and the head) is allocated as, though only BATCH_BYTES of it are used: glibc maps an allocation
 * this large on its own and unmaps it when freed, whatever its dynamic mmap threshold (which rises to the largest
 * block freed, up to 32 MiB). Smaller batches would come from malloc's arenas once a large block has been freed,
 * and an arena gives memory back only from its top: the process stayed hundreds of MiB above idle after a first
 * pass (docs/benchmarks.md). Only the pages written are ever resident.
 */
export const MAPPED_BYTES = 32 * 1024 * 1024 + 64 * 1024;
/** Top-level fields looked at to find where the observed state ends; Crossplane sends fewer than ten. */
const MAX_TOP_FIELDS = 1024;

const STAND_INS = new WeakMap<ArrayBuffer, IncomingRequest>();

/** The streamed call a message handed to the handler stands for (the message is a stand-in grpc-js passed along), if any. */
export function streamedCall(message: Buffer): IncomingRequest | undefined {
  return message.buffer instanceof ArrayBuffer ? STAND_INS.get(message.buffer) : undefined;
}

/** How the call is scheduled once its header is read: serve.ts submits it to the pool, or refuses it. */
export type Schedule = (header: RequestHeader, request: IncomingRequest) => void;

export class IncomingRequest implements MessageSink, RequestStream {
  readonly total: number;
  readonly #schedule: Schedule;
  #head: Buffer | undefined;
  #filled = 0;
  /** Where the next top-level field starts in the head, and how many were passed. */
  #next = 0;
  #fields = 0;
  #batch: Buffer | undefined;
  #batchFilled = 0;
  /** Batches waiting for a worker. */
  #waiting: PostedBytes[] = [];
  #target: StreamTarget | undefined;
  #complete = false;
  #cancelled = false;
  #onAbort: (() => void) | undefined;
  header: RequestHeader | undefined;
  /** The call's answer: the pool's, once scheduled; "gone" if it ends before. */
  readonly answer: Promise<PoolAnswer>;
  #answer!: (a: PoolAnswer | Promise<PoolAnswer>) => void;

  constructor(total: number, schedule: Schedule) {
    this.total = total;
    this.#schedule = schedule;
    this.answer = new Promise<PoolAnswer>((resolve) => (this.#answer = resolve));
    // Pages are only touched as bytes arrive: a client that declares much and sends little holds little.
    this.#head = mapped(Math.min(total, HEAD_MAX_BYTES));
  }

  /** True once the call is over before it was answered: cancelled, refused, past its deadline. */
  get aborted(): boolean {
    return this.#cancelled;
  }

  /** The pool's answer, once the call is scheduled. */
  answerWith(answer: Promise<PoolAnswer>): void {
    this.#answer(answer);
  }

  write(piece: Buffer): void {
    if (this.#complete || this.#cancelled) return;
    let at = 0;
    const head = this.#head;
    if (head !== undefined) {
      const take = Math.min(head.length - this.#filled, piece.length);
      piece.copy(head, this.#filled, 0, take);
      this.#filled += take;
      at = take;
      if (this.#scanHead()) this.#headDone();
    }
    while (at < piece.length && !this.#cancelled) {
      if (this.#batch === undefined) this.#batch = mapped(Math.min(BATCH_BYTES, this.total - this.#received()));
      const take = Math.min(this.#batch.length - this.#batchFilled, piece.length - at);
      piece.copy(this.#batch, this.#batchFilled, at, at + take);
      this.#batchFilled += take;
      at += take;
      if (this.#batchFilled === this.#batch.length) this.#flushBatch();
    }
  }

  end(): Buffer {
    if (this.#head !== undefined) this.#headDone();
    if (this.#batch !== undefined) this.#flushBatch();
    this.#complete = true;
    this.#target?.end();
    // A stand-in of its own memory: grpc-js passes a view of it (past the 5-byte prefix) to the handler.
    const standIn = Buffer.allocUnsafeSlow(5).fill(0);
    STAND_INS.set(standIn.buffer as ArrayBuffer, this);
    return standIn;
  }

  /**
   * The call is over (its status sent, or it was cancelled). Before its message was complete: nothing more is
   * read, what waits here is dropped, and its worker drops what it read. After: a call still waiting for a worker
   * leaves the queue (onAbort); one composing finishes and is discarded, as any call.
   */
  abort(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    if (!this.#complete) {
      this.#head = undefined;
      this.#batch = undefined;
      this.#waiting = [];
      const target = this.#target;
      this.#target = undefined;
      target?.abort();
    }
    this.#onAbort?.();
    this.#answer({ ok: false, code: "gone", message: "the call ended before it was answered" });
  }

  /** Called when the call is aborted (serve.ts: the pool drops a call still waiting). */
  onAbort(f: () => void): void {
    this.#onAbort = f;
  }

  /** The pool's side (RequestStream): every batch so far and each later one go to `target`, then its end. */
  attach(target: StreamTarget): void {
    if (this.#cancelled && !this.#complete) {
      target.abort();
      return;
    }
    this.#target = target;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const p of waiting) target.chunk(p);
    if (this.#complete) target.end();
  }

  /** The worker is gone (its call stopped): later batches are dropped here. */
  detach(): void {
    this.#target = undefined;
    this.#waiting = [];
  }

  /** Bytes of the message received so far. */
  #received(): number {
    return this.#filled + this.#sent + this.#batchFilled;
  }

  /** Bytes moved out of the head and the batches. */
  #sent = 0;

  #post(p: PostedBytes): void {
    this.#sent += p.length;
    if (this.#target !== undefined) this.#target.chunk(p);
    else this.#waiting.push(p);
  }

  #flushBatch(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined || this.#batchFilled === 0) return;
    const length = this.#batchFilled;
    this.#batchFilled = 0;
    this.#post({ bytes: (batch.buffer as ArrayBuffer).transfer(), offset: batch.byteOffset, length });
  }

  /**
   * Steps over the top-level fields the head holds whole; true once the fields that say who the call is from are
   * in (a field past observed has begun), the head is full, or its framing cannot be read (the worker says why).
   */
  #scanHead(): boolean {
    const head = this.#head;
    if (head === undefined) return false;
    while (this.#fields < MAX_TOP_FIELDS) {
      const read = readHeader(head, this.#next, this.#filled);
      if (read === "more") return this.#filled === head.length || this.#filled === this.total;
      if (read === "bad" || read.field > 2) return true;
      this.#next = read.end;
      this.#fields++;
      if (this.#next > this.#filled) return this.#filled === head.length || this.#filled === this.total;
    }
    return true;
  }

  /** The head is in: read who the call is from, move the head to the batches, and have the call scheduled. */
  #headDone(): void {
    const head = this.#head;
    if (head === undefined) return;
    this.#head = undefined;
    const whole = Math.min(this.#next, this.#filled);
    this.header = peekRequest(head.subarray(0, whole), REQUEST_LIMITS.tagBytes);
    const filled = this.#filled;
    this.#filled = 0;
    this.#sent = 0;
    this.#post({ bytes: (head.buffer as ArrayBuffer).transfer(), offset: head.byteOffset, length: filled });
    this.#schedule(this.header, this);
  }
}

/** `length` bytes at the start of an allocation of at least MAPPED_BYTES (its own mapping: see there). */
function mapped(length: number): Buffer {
  return Buffer.allocUnsafeSlow(Math.max(length, MAPPED_BYTES)).subarray(0, length);
}

/** The top-level field starting at `at`: its number and where it ends; "more" when its header is not all in yet. */
function readHeader(buf: Buffer, at: number, filled: number): { field: number; end: number } | "more" | "bad" {
  let pos = at;
  const varint = (): number | undefined => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= filled) return undefined;
      const b = buf[pos++] ?? 0;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return -1;
  };
  const tag = varint();
  if (tag === undefined) return "more";
  if (tag < 8) return "bad";
  const field = tag >>> 3;
  if (field > 2) return { field, end: at };
  if ((tag & 7) !== 2) return "bad";
  const len = varint();
  if (len === undefined) return "more";
  if (len < 0) return "bad";
  return { field, end: pos + len };
}
