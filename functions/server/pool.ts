// The pool of worker threads that do every call's work (decode, compose,
// encode), so the gRPC thread only moves bytes and no call can hold up
// another tenant's. Each worker runs one call at a time under:
//   - a deadline (--compose-timeout): past it the worker is terminated
//     (Worker.terminate stops even a loop that never yields) and replaced;
//   - a heap limit (--worker-heap, V8's resourceLimits): a call that needs
//     more ends its worker, not the process, and the worker is replaced;
//   - a fair share: calls wait in a FairQueue, at most --tenant-workers of one
//     namespace on workers and --tenant-queue waiting.
// A call stopped by its deadline or heap gets a Fatal result naming the limit
// (the request is what is too expensive; retrying it gives the same answer,
// and Crossplane shows a Fatal's message on the XR, where its author sees it);
// a call refused because its namespace already has its share waiting gets
// RESOURCE_EXHAUSTED (it is about load, not the request: Crossplane retries).
// Every such event is a log line naming the tag, namespace and limit.
import { Worker } from "node:worker_threads";
import type { RequestHeader } from "../protocol/peek-request.ts";
import type { ComposerModule } from "./composer.ts";
import { FairQueue } from "./fair-queue.ts";
import type { Logger } from "./logger.ts";
import { bareFatal } from "./service.ts";
import { giveUp, received, type PostedBytes } from "./transfer.ts";
import type { WorkerCall, WorkerCollect, WorkerData, WorkerMessage } from "./worker-protocol.ts";

export interface PoolLimits {
  workers: number;
  workerHeapMiB: number;
  composeTimeoutSeconds: number;
  tenantWorkers: number;
  tenantQueue: number;
  /** How long a worker that grew stays idle before it is replaced (RETIRE_AFTER_IDLE_MS unless set: tests shorten it). */
  retireAfterIdleMs?: number;
}

/** Where a streamed request's bytes go once a worker has its call (incoming.ts feeds it). */
export interface StreamTarget {
  chunk(p: PostedBytes): void;
  end(): void;
  abort(): void;
}

/** A request handed over as it arrives (incoming.ts): its bytes so far and each later batch go to the target attached. */
export interface RequestStream {
  readonly total: number;
  attach(target: StreamTarget): void;
  /** The worker is gone: later batches are dropped. */
  detach(): void;
  /** True once the call ended before its message did. */
  readonly aborted: boolean;
}

export type PoolAnswer = { ok: true; response: Buffer } | { ok: false; code: "tenant-queue-full" | "closing" | "gone"; message: string };

export interface Submitted {
  answer: Promise<PoolAnswer>;
  /** The caller went away: a waiting call is dropped; a running one finishes (its worker stays counted) and is discarded. */
  cancel(): void;
}

interface Job {
  id: number;
  header: RequestHeader;
  tenant: string;
  request: Buffer | RequestStream | undefined;
  /** False once nobody waits for the answer any more (its deadline passed): it is not started then. */
  wanted(): boolean;
  settle(a: PoolAnswer): void;
}

type SlotState = "starting" | "idle" | "busy" | "stopped";

interface Slot {
  index: number;
  worker: Worker | undefined;
  state: SlotState;
  running: { job: Job; timer: NodeJS.Timeout; since: number; streamed?: RequestStream } | undefined;
  /** Starts that failed in a row: the next is delayed, so a broken module does not spin. */
  failedStarts: number;
  /**
   * The namespace whose call ended this slot's last worker (deadline, heap, crash): the replacement counts against
   * its share until it is ready, so a namespace whose calls keep killing workers holds its share, replacements
   * included, and cannot take the other workers while its own are reloading.
   */
  chargedTo: string | undefined;
  /** The heap V8 held for this slot's worker once it had loaded, and after its last call. */
  loadedHeapBytes: number;
  heapBytes: number;
  /** Set while an idle worker that grew waits to be retired. */
  retireTimer: NodeJS.Timeout | undefined;
}

const WORKER_URL = new URL("./worker.ts", import.meta.url);
/** A namespace-less request (cluster-scoped XR, or a client that is not Crossplane) shares one lane. */
const NO_NAMESPACE = "";
const MAX_RESTART_DELAY_MS = 30_000;
/**
 * An idle worker whose heap grew this much past what it held once loaded is replaced after RETIRE_AFTER_IDLE_MS
 * idle: V8 does not collect an idle isolate's garbage for a long while, so one large call otherwise leaves its
 * worker holding hundreds of MiB (docs/benchmarks.md, "The service under load"). A new worker costs a reload
 * (about 0.7 s of CPU), so only a worker that grew is replaced, and only once calls have stopped coming to it.
 */
export const RETIRE_ABOVE_BYTES = 64 * 1024 * 1024;
export const RETIRE_AFTER_IDLE_MS = 5_000;
/** A worker's young generation (both semi-spaces and the new large-object space), as V8 gives a main thread by default on 64-bit. */
export const WORKER_YOUNG_GENERATION_MIB = 48;

export class WorkerPool {
  private readonly limits: PoolLimits;
  private readonly log: Logger;
  private readonly writeLine: (line: string) => void;
  private readonly data: WorkerData;
  private readonly queue: FairQueue<Job>;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;
  /** Told when the pool starts or stops being able to serve (serving()). */
  private servingListener: ((serving: boolean) => void) | undefined;
  private lastServing = true;
  /** Settled when every worker has started once, or one could not. */
  private started: { resolve: () => void; reject: (err: Error) => void } | undefined;

  private constructor(limits: PoolLimits, composer: ComposerModule, debug: boolean, log: Logger, writeLine: (line: string) => void) {
    this.limits = limits;
    this.log = log;
    this.writeLine = writeLine;
    this.data = { composer, debug };
    this.queue = new FairQueue({ perTenantRunning: limits.tenantWorkers, perTenantQueued: limits.tenantQueue });
  }

  /** Starts every worker and resolves once each has loaded the composition logic; rejects if one cannot. */
  static async start(limits: PoolLimits, composer: ComposerModule, debug: boolean, log: Logger, writeLine: (line: string) => void): Promise<WorkerPool> {
    const pool = new WorkerPool(limits, composer, debug, log, writeLine);
    const ready = new Promise<void>((resolve, reject) => (pool.started = { resolve, reject }));
    for (let i = 0; i < limits.workers; i++) {
      const slot: Slot = {
        index: i,
        worker: undefined,
        state: "starting",
        running: undefined,
        failedStarts: 0,
        chargedTo: undefined,
        loadedHeapBytes: 0,
        heapBytes: 0,
        retireTimer: undefined,
      };
      pool.slots.push(slot);
      pool.spawn(slot);
    }
    try {
      await ready;
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  submit(request: Buffer | RequestStream, header: RequestHeader, wanted: () => boolean): Submitted {
    const tenant = header.namespace ?? NO_NAMESPACE;
    let settle!: (a: PoolAnswer) => void;
    const answer = new Promise<PoolAnswer>((resolve) => (settle = resolve));
    const job: Job = { id: this.nextId++, header, tenant, request, wanted, settle };
    if (this.closing) {
      settle({ ok: false, code: "closing", message: "function-model-cache is shutting down" });
      return { answer, cancel: () => undefined };
    }
    const queued = this.queue.push(tenant, job);
    if (!queued.ok) {
      this.log.warn(
        { tag: header.tag, namespace: tenant, waiting: queued.queued, tenantQueue: this.limits.tenantQueue },
        "call refused: its namespace has its share of calls waiting",
      );
      settle({
        ok: false,
        code: "tenant-queue-full",
        message: `function-model-cache has ${queued.queued} calls of namespace ${JSON.stringify(tenant)} waiting (--tenant-queue); retry later`,
      });
      return { answer, cancel: () => undefined };
    }
    this.dispatch();
    return {
      answer,
      cancel: () => {
        if (this.queue.remove(tenant, job)) job.request = undefined;
      },
    };
  }

  /** Calls waiting for a worker, all namespaces. */
  waiting(): number {
    return this.queue.waiting();
  }

  /** Workers alive and ready or busy (a replaced one counts once it has loaded). */
  readyWorkers(): number {
    return this.slots.filter((s) => s.state === "idle" || s.state === "busy").length;
  }

  /**
   * Whether calls can be served: some worker is ready or busy, or is being replaced after a call ended it (a
   * routine reload). False when every worker has failed to start since it last served (a broken install, a
   * module that no longer loads): the health service then says NOT_SERVING, so a probe sees it.
   */
  serving(): boolean {
    return this.slots.some((s) => s.state === "idle" || s.state === "busy" || (s.state === "starting" && s.failedStarts === 0));
  }

  /** Calls `listener` whenever serving() changes. */
  onServingChange(listener: (serving: boolean) => void): void {
    this.servingListener = listener;
  }

  private noticeServing(): void {
    const now = this.serving();
    if (now === this.lastServing) return;
    this.lastServing = now;
    if (now) this.log.info({ readyWorkers: this.readyWorkers() }, "a worker started again: serving");
    else this.log.error({ workers: this.limits.workers }, "no worker can start: not serving (health NOT_SERVING) until one does");
    this.servingListener?.(now);
  }

  /** Every worker runs a full collection (a busy one once its call is done): calls have stopped after a burst. */
  collect(): void {
    const message: WorkerCollect = { collect: true };
    for (const slot of this.slots) slot.worker?.postMessage(message);
  }

  /** Terminates every worker; calls still waiting are answered UNAVAILABLE-style ("closing"). */
  async close(): Promise<void> {
    this.closing = true;
    for (let next = this.queue.next(); next; next = this.queue.next()) {
      next.job.settle({ ok: false, code: "closing", message: "function-model-cache is shutting down" });
      this.queue.done(next.tenant);
    }
    await Promise.all(
      this.slots.map((slot) => {
        const w = slot.worker;
        slot.worker = undefined;
        slot.state = "stopped";
        if (slot.running) clearTimeout(slot.running.timer);
        clearTimeout(slot.retireTimer);
        return w?.terminate();
      }),
    );
  }

  private spawn(slot: Slot): void {
    const worker = new Worker(WORKER_URL, {
      workerData: this.data,
      // The young generation as the main thread has it by default: given only an old generation limit, V8 sizes a
      // worker's young generation from it, a few MiB, and a call's short-lived objects then cost a scavenge every
      // few calls (40% of a worker's time on small requests; docs/benchmarks.md, "The service under load").
      resourceLimits: { maxOldGenerationSizeMb: this.limits.workerHeapMiB, maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MIB },
      // Its stdout and stderr are the process's: a stray write is not lost, nor buffered here.
      stdout: false,
      stderr: false,
    });
    slot.worker = worker;
    slot.state = "starting";
    worker.on("message", (m: WorkerMessage) => this.onMessage(slot, worker, m));
    worker.on("error", (err) => this.onEnd(slot, worker, err));
    worker.on("exit", (code) => this.onEnd(slot, worker, new Error(`the worker exited with code ${code}`)));
  }

  private onMessage(slot: Slot, worker: Worker, m: WorkerMessage): void {
    if (m.type === "log") {
      this.writeLine(m.line);
      return;
    }
    if (slot.worker !== worker) return;
    if (m.type === "ready") {
      const wrong = this.heapLimitNotInForce(m.heapLimitMiB);
      if (wrong) {
        // The limit is what keeps one call from taking the process's memory: no worker serves without it.
        slot.worker = undefined;
        void worker.terminate();
        this.log.error({ heapLimitMiB: m.heapLimitMiB, workerHeapMiB: this.limits.workerHeapMiB }, wrong);
        if (this.started) {
          this.started.reject(new Error(wrong));
          this.started = undefined;
        }
        return;
      }
      slot.state = "idle";
      slot.failedStarts = 0;
      slot.loadedHeapBytes = m.heapBytes;
      slot.heapBytes = m.heapBytes;
      this.noticeServing();
      if (slot.chargedTo !== undefined) this.queue.done(slot.chargedTo);
      slot.chargedTo = undefined;
      if (this.started && this.slots.every((s) => s.state === "idle")) {
        this.started.resolve();
        this.started = undefined;
      }
      this.dispatch();
      return;
    }
    const running = slot.running;
    if (!running || running.job.id !== m.id) return;
    this.finish(
      slot,
      m.type === "aborted"
        ? { ok: false, code: "gone", message: "the call ended before its request had arrived" }
        : { ok: true, response: received(m.response) },
    );
    slot.state = "idle";
    slot.heapBytes = m.heapBytes;
    this.dispatch();
    if (slot.state === "idle") this.retireIfGrown(slot);
  }

  /** Replace `slot`'s worker if it grew and stays idle for RETIRE_AFTER_IDLE_MS (RETIRE_ABOVE_BYTES). */
  private retireIfGrown(slot: Slot): void {
    if (slot.retireTimer !== undefined || slot.heapBytes - slot.loadedHeapBytes < RETIRE_ABOVE_BYTES) return;
    slot.retireTimer = setTimeout(() => {
      slot.retireTimer = undefined;
      const worker = slot.worker;
      if (this.closing || slot.state !== "idle" || !worker) return;
      this.log.info(
        { worker: worker.threadId, heapMiB: Math.round(slot.heapBytes / 2 ** 20), loadedHeapMiB: Math.round(slot.loadedHeapBytes / 2 ** 20) },
        "an idle worker grew: replaced, so its memory goes back to the system",
      );
      // Taken from the slot first: its exit is then not a failure (onEnd ignores a worker that is no longer the slot's).
      slot.worker = undefined;
      void worker.terminate();
      this.restart(slot);
    }, this.limits.retireAfterIdleMs ?? RETIRE_AFTER_IDLE_MS);
    slot.retireTimer.unref();
  }

  /**
   * V8 takes --max-old-space-size (on the command line or in NODE_OPTIONS) for every thread of the process, over
   * a Worker's resourceLimits: then no call's heap is bounded. A worker's limit is its old generation plus a young
   * generation of at most a few hundred MiB.
   */
  private heapLimitNotInForce(heapLimitMiB: number): string | undefined {
    const want = this.limits.workerHeapMiB;
    if (heapLimitMiB >= want && heapLimitMiB <= want + 512) return undefined;
    return `the worker heap limit is not in force: V8 gives a worker ${Math.round(heapLimitMiB)} MiB where --worker-heap asks for ${want}; a --max-old-space-size on the command line or in NODE_OPTIONS overrides it for every thread: remove it and size the workers with --worker-heap`;
  }

  /** The worker failed or exited: answer its call, if any, and start another in its place. */
  private onEnd(slot: Slot, worker: Worker, err: Error): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    const wasStarting = slot.state === "starting";
    const running = slot.running;
    if (running) {
      const { tag, namespace } = running.job.header;
      const outOfMemory = (err as NodeJS.ErrnoException).code === "ERR_WORKER_OUT_OF_MEMORY";
      if (outOfMemory) {
        this.log.warn(
          { tag, namespace, workerHeapMiB: this.limits.workerHeapMiB, ms: Math.round(performance.now() - running.since) },
          "call stopped: its worker ran out of heap; worker replaced",
        );
        this.finish(
          slot,
          this.fatal(
            running.job,
            `function-model-cache stopped composing this request: it needed more than ${this.limits.workerHeapMiB} MiB of heap (--worker-heap); nothing was changed`,
            "WorkerHeapExceeded",
          ),
          "until-replaced",
        );
      } else {
        this.log.error({ tag, namespace, err: err.message }, "call failed: its worker died; worker replaced");
        this.finish(
          slot,
          this.fatal(
            running.job,
            `function-model-cache internal error: the worker composing this request died (${err.message}); nothing was changed`,
            "InternalError",
          ),
          "until-replaced",
        );
      }
    } else if (!this.closing) this.log.error({ err: err.message, starting: wasStarting }, "a worker ended; replacing it");
    if (this.closing) return;
    if (wasStarting) {
      slot.failedStarts++;
      if (this.started) {
        this.started.reject(new Error(`a worker could not start: ${err.message}`));
        this.started = undefined;
        return;
      }
    }
    this.restart(slot);
    this.noticeServing();
  }

  private restart(slot: Slot): void {
    slot.state = "starting";
    const delay = slot.failedStarts === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (slot.failedStarts - 1));
    if (delay === 0) this.spawn(slot);
    else setTimeout(() => !this.closing && this.spawn(slot), delay).unref();
  }

  /** The call on `slot` ran past --compose-timeout: its worker is terminated and replaced. */
  private onTimeout(slot: Slot): void {
    const running = slot.running;
    const worker = slot.worker;
    if (!running || !worker) return;
    const { tag, namespace } = running.job.header;
    this.log.warn(
      { tag, namespace, composeTimeoutSeconds: this.limits.composeTimeoutSeconds },
      "call stopped: it ran past the compose timeout; worker replaced",
    );
    slot.worker = undefined;
    void worker.terminate();
    this.finish(
      slot,
      this.fatal(
        running.job,
        `function-model-cache stopped composing this request after ${this.limits.composeTimeoutSeconds}s (--compose-timeout): it is too expensive to compose; nothing was changed`,
        "ComposeTimeout",
      ),
      "until-replaced",
    );
    this.restart(slot);
  }

  /** Answer the call running on `slot` and give its namespace's share back, now or once the slot's new worker is ready. */
  private finish(slot: Slot, answer: PoolAnswer, share: "now" | "until-replaced" = "now"): void {
    const running = slot.running;
    if (!running) return;
    clearTimeout(running.timer);
    slot.running = undefined;
    // A streamed request's later batches have nowhere to go now (its worker answered, or was replaced).
    running.streamed?.detach();
    if (share === "now") this.queue.done(running.job.tenant);
    else slot.chargedTo = running.job.tenant;
    running.job.settle(answer);
  }

  private fatal(job: Job, message: string, reason: string): PoolAnswer {
    return { ok: true, response: bareFatal(job.header.tag, message, reason) };
  }

  /** Hand waiting calls to idle workers, fairly between namespaces. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.state !== "idle" || !slot.worker) continue;
      const job = this.nextWanted();
      if (!job) return;
      // Only a waiting call can be cancelled away, and cancelling takes it out of the queue: a call handed out has its bytes.
      const request = job.request as Buffer | RequestStream;
      job.request = undefined;
      slot.state = "busy";
      clearTimeout(slot.retireTimer);
      slot.retireTimer = undefined;
      // A streamed call's timeout counts from here, so it covers the wait for its bytes too: a client that stalls
      // midway holds its worker no longer than --compose-timeout.
      const timer = setTimeout(() => this.onTimeout(slot), this.limits.composeTimeoutSeconds * 1000);
      const worker = slot.worker;
      if (Buffer.isBuffer(request)) {
        slot.running = { job, timer, since: performance.now() };
        const { posted, transfer } = giveUp(request);
        const call: WorkerCall = { type: "call", id: job.id, request: posted };
        worker.postMessage(call, transfer);
        continue;
      }
      slot.running = { job, timer, since: performance.now(), streamed: request };
      const id = job.id;
      const post = (m: WorkerCall, transfer: ArrayBuffer[] = []) => worker.postMessage(m, transfer);
      post({ type: "begin", id, total: request.total });
      request.attach({
        chunk: (p: PostedBytes) => post({ type: "chunk", id, bytes: p }, [p.bytes]),
        end: () => post({ type: "end", id }),
        abort: () => post({ type: "abort", id }),
      });
    }
  }

  /** The next waiting call someone still waits for; the others are answered "gone" (their caller has its status already). */
  private nextWanted(): Job | undefined {
    for (let next = this.queue.next(); next; next = this.queue.next()) {
      if (next.job.wanted()) return next.job;
      this.queue.done(next.tenant);
      next.job.request = undefined;
      this.log.debug({ tag: next.job.header.tag, namespace: next.tenant }, "call dropped before it started: its deadline passed while it waited");
      next.job.settle({ ok: false, code: "gone", message: "the call's deadline passed while it waited for a worker" });
    }
    return undefined;
  }
}
