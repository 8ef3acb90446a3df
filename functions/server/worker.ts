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
import { handleBytesSafely } from "./service.ts";
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
  port.on("message", (call: WorkerCall | WorkerCollect) => {
    if ("collect" in call) {
      collect?.();
      return;
    }
    void handleBytesSafely(received(call.request), compose, log).then((rsp) => {
      // The response is encoded into memory of its own (encode-response.ts), and nothing of a call outlives it
      // (compose-run-function.ts): the request's bytes go back to the system before the next call's arrive.
      release(call.request);
      const { posted, transfer } = giveUp(rsp);
      post({ type: "done", id: call.id, response: posted, heapBytes: getHeapStatistics().total_heap_size }, transfer);
    });
  });
  const heap = getHeapStatistics();
  post({ type: "ready", heapLimitMiB: heap.heap_size_limit / (1024 * 1024), heapBytes: heap.total_heap_size });
}
