// One worker of the pool (pool.ts): it loads the composition logic once, then
// takes one call at a time, bytes in (moved here, not copied), decode,
// compose, encode, bytes out (moved back), the request's bytes freed. Whatever a call does here, the
// gRPC thread keeps answering every other call; a call that runs too long or
// needs too much heap ends this thread, and the pool starts another.
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { getHeapStatistics } from "node:v8";
import { parentPort, threadId, workerData } from "node:worker_threads";
import { loadCompose } from "./composer.ts";
import { newLogger } from "./logger.ts";
import { fullCollection } from "./release-memory.ts";
import { handleBytesSafely, handleDecoded, streamedRequest } from "./service.ts";
import type { StreamedRequest } from "../protocol/stream-request.ts";
import { giveUp, received, release } from "./transfer.ts";
import { WorkerData, type WorkerCall, type WorkerCollect, type WorkerMessage } from "./worker-protocol.ts";

/**
 * This thread's scheduling priority (nice), below the gRPC thread's: when both want a CPU, the gRPC thread (health
 * checks, handing calls to workers and answers back) goes first, and a worker waits for a few hundred microseconds
 * at most. Linux applies setpriority to one thread when given its thread id; elsewhere nothing changes.
 */
export const WORKER_NICE = 3;

function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + WORKER_NICE));
  } catch {
    // Not Linux, or no /proc: the worker runs at the process's priority.
  }
}

const port = parentPort;
if (port) {
  lowerPriority();
  const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const data = WorkerData.parse(workerData);
  // Lines go to the gRPC thread, which writes them with its own: one writer, whole lines.
  const log = newLogger(data.debug, { write: (line: string) => post({ type: "log", line }) }).child({ worker: threadId });
  const compose = await loadCompose({ url: data.composer.url, options: data.composer.options });
  const collect = fullCollection();
  const answer = (id: number, rsp: Buffer) => {
    const { posted, transfer } = giveUp(rsp);
    post({ type: "done", id, response: posted, heapBytes: getHeapStatistics().total_heap_size }, transfer);
  };
  // The call whose request is arriving (one at a time, as every call on a worker).
  let streaming: { id: number; request: StreamedRequest } | undefined;
  port.on("message", (call: WorkerCall | WorkerCollect) => {
    if ("collect" in call) {
      collect?.();
      return;
    }
    switch (call.type) {
      case "call":
        void handleBytesSafely(received(call.request), compose, log).then((rsp) => {
          // The response is encoded into memory of its own (encode-response.ts), and nothing of a call outlives it
          // (compose-run-function.ts): the request's bytes go back to the system before the next call's arrive.
          release(call.request);
          answer(call.id, rsp);
        });
        return;
      case "begin":
        streaming = { id: call.id, request: streamedRequest(call.total, compose) };
        return;
      case "chunk":
        // What the walk keeps it copies: each batch goes back to the system as soon as it is read.
        if (streaming?.id === call.id) streaming.request.write(received(call.bytes));
        release(call.bytes);
        return;
      case "end": {
        if (streaming?.id !== call.id) return;
        const { request } = streaming;
        streaming = undefined;
        void handleBytesSafely(() => handleDecoded(request.end(), request.total, compose, log), compose, log).then((rsp) => {
          // As a whole request's bytes: what the walk kept goes back to the system before the next call's arrive.
          request.release();
          answer(call.id, rsp);
        });
        return;
      }
      case "abort":
        if (streaming?.id === call.id) {
          streaming.request.release();
          streaming = undefined;
        }
        post({ type: "aborted", id: call.id, heapBytes: getHeapStatistics().total_heap_size });
        return;
    }
  });
  const heap = getHeapStatistics();
  post({ type: "ready", heapLimitMiB: heap.heap_size_limit / (1024 * 1024), heapBytes: heap.total_heap_size });
}
