// The messages between the pool (pool.ts, on the gRPC thread) and a worker (worker.ts).
import { z } from "zod";
import type { JsonValue } from "../sdk/types.ts";
import type { PostedBytes } from "./transfer.ts";

/**
 * What the pool posts to a worker: one call's request whole, or a request as it arrives (incoming.ts): begin, its
 * bytes in order, then end (the call is answered) or abort (the call went away; the worker answers "aborted").
 */
export type WorkerCall =
  | { type: "call"; id: number; request: PostedBytes }
  | { type: "begin"; id: number; total: number }
  | { type: "chunk"; id: number; bytes: PostedBytes }
  | { type: "end"; id: number }
  | { type: "abort"; id: number };

/** Or: run a full collection now (calls have stopped after a burst; release-memory.ts). */
export interface WorkerCollect {
  collect: true;
}

/** What a worker posts to the pool. */
export type WorkerMessage =
  /** Loaded; V8's heap limit as this thread has it (old and young generations), so the pool can check it is in force. */
  | { type: "ready"; heapLimitMiB: number; heapBytes: number }
  | { type: "log"; line: string }
  /** A call's response, and the heap V8 holds for this thread after it (total_heap_size), so the pool can retire a worker that grew. */
  | { type: "done"; id: number; response: PostedBytes; heapBytes: number }
  /** A streamed call aborted: what was read of it is dropped, and the worker is free. */
  | { type: "aborted"; id: number; heapBytes: number };

/** A worker's start-up data. */
export const WorkerData = z.object({
  composer: z.object({ url: z.string(), options: z.custom<JsonValue>((v) => v !== undefined) }),
  debug: z.boolean(),
});
export type WorkerData = z.infer<typeof WorkerData>;
