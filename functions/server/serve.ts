// Starts the gRPC server: RunFunction, the standard health service, and a
// drain on SIGTERM/SIGINT that lets in-flight calls finish before exiting.
// This thread only moves bytes: each call's work runs in the worker pool.
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { REQUEST_LIMITS } from "../protocol/limits.ts";
import { loadProtocol, RUN_FUNCTION_PATH } from "../protocol/load.ts";
import { peekRequest, type RequestHeader } from "../protocol/peek-request.ts";
import { callGuard, http2Options, type Streamed } from "./calls.ts";
import { IncomingRequest, streamedCall } from "./incoming.ts";
import type { ComposerModule } from "./composer.ts";
import { loadServerCredentials } from "./credentials.ts";
import { listen } from "./listen.ts";
import type { ServeConfig } from "./flags.ts";
import { lineWriter, type Logger } from "./logger.ts";
import { MemoryBudget, MiB, REQUEST_COST_FACTOR } from "./memory-budget.ts";
import { WorkerPool } from "./pool.ts";
import { fullCollection, IdleCollector } from "./release-memory.ts";
import { TenantRate } from "./tenant-rate.ts";

const SERVICE = "apiextensions.fn.proto.v1.FunctionRunnerService";

/** Calls the pool does not answer with a response: load and shutdown, not the request, so a gRPC status Crossplane retries. */
const STATUS_OF = {
  "tenant-queue-full": grpc.status.RESOURCE_EXHAUSTED,
  closing: grpc.status.UNAVAILABLE,
  gone: grpc.status.DEADLINE_EXCEEDED,
} as const;

function deadlineMs(d: grpc.Deadline): number {
  return d instanceof Date ? d.getTime() : d;
}

export interface RunningServer {
  port: number;
  /** Stop accepting calls, wait for in-flight ones (up to the drain timeout), close. */
  drain(): Promise<void>;
}

export async function startServer(config: ServeConfig, composer: ComposerModule, log: Logger): Promise<RunningServer> {
  const creds = await loadServerCredentials(config.tlsCertsDir, config.insecure);
  if (!creds.ok) throw new Error(creds.error);
  const pool = await WorkerPool.start(config, composer, config.debug, log, lineWriter(log));

  // What the process holds idle (code, the workers' heaps) is measured once they have loaded: calls share the rest.
  const budget = new MemoryBudget(config.memoryBudgetMiB * MiB, config.memoryBudgetMiB === 0 ? 0 : process.memoryUsage.rss());
  const maxRecvBytes = config.maxRecvMessageSizeMiB * MiB;
  if (budget.budgetBytes > 0 && budget.baseBytes + REQUEST_COST_FACTOR * maxRecvBytes > budget.budgetBytes)
    log.warn(
      { memoryBudgetMiB: config.memoryBudgetMiB, idleMiB: Math.ceil(budget.baseBytes / MiB), maxRecvMessageSizeMiB: config.maxRecvMessageSizeMiB },
      "--memory-budget cannot hold one request of --max-recv-message-size: the largest requests will be refused",
    );
  const rate = new TenantRate({ ratePerSecond: config.tenantRate, burst: 2 * config.tenantRate });
  /** The namespace's call rate, before a call reaches a worker: a refusal's status, or undefined when it may start. */
  const overRate = (header: RequestHeader): grpc.StatusObject | undefined => {
    const allowed = rate.take(header.namespace ?? "");
    if (allowed.ok) return undefined;
    if (allowed.log)
      log.warn(
        { tag: header.tag, namespace: header.namespace, refused: allowed.refusedSinceLogged, tenantRate: config.tenantRate },
        "calls refused: their namespace is over its call rate",
      );
    const who = header.namespace === undefined ? "calls without a namespace" : `namespace "${header.namespace}"`;
    return {
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: `function-model-cache: ${who} started more than ${config.tenantRate} calls a second (--tenant-rate); retry in ${allowed.retryAfterMs} ms`,
      metadata: new grpc.Metadata(),
    };
  };
  // A large request goes to its worker as it arrives (incoming.ts), scheduled once its first fields say whose it is.
  const streamed: Streamed = {
    path: RUN_FUNCTION_PATH,
    fromBytes: config.streamRequestsFromMiB * 1024 * 1024,
    open: (total, call) =>
      new IncomingRequest(total, (header, incoming) => {
        const refused = overRate(header);
        if (refused) {
          call.refuse(refused);
          return;
        }
        collector.started();
        const submitted = pool.submit(incoming, header, () => !incoming.aborted && Date.now() < call.deadlineMs);
        incoming.onAbort(submitted.cancel);
        incoming.answerWith(
          submitted.answer.then((a) => {
            collector.ended(total + (a.ok ? a.response.length : 0));
            return a;
          }),
        );
      }),
  };
  const guard = callGuard(config, log, { budget, path: RUN_FUNCTION_PATH, maxRecvBytes }, streamed);
  // Once calls stop after a burst, every thread collects its garbage, so glibc can give the memory back.
  const gc = fullCollection();
  const collector = new IdleCollector(() => {
    const before = process.memoryUsage.rss();
    gc?.();
    pool.collect();
    log.info({ rssMiB: Math.round(before / MiB), afterMiB: Math.round(process.memoryUsage.rss() / MiB) }, "calls stopped after a burst: memory collected");
  });
  const server = new grpc.Server({
    ...http2Options(config),
    "grpc.max_receive_message_length": config.maxRecvMessageSizeMiB * 1024 * 1024,
    "grpc.max_send_message_length": -1,
    interceptors: [guard.interceptor],
  });
  // Bytes in and out: a worker reads the request (decode-request.ts, straight into plain JSON:
  // proto-loader's generic decoding costs seconds per reconcile at fleet scale, and cannot be
  // bounded) and writes the response (encode-response.ts) itself, so neither can fail inside
  // grpc-js, where no Fatal result can be made and nothing is logged. Here only the tag and the
  // XR's namespace are read (peek-request.ts), to schedule the call fairly.
  const service = loadProtocol().FunctionRunnerService.service;
  const same = (b: Buffer) => b;
  const runFunction = { ...service.RunFunction, requestDeserialize: same, responseSerialize: same };
  const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    // A request that went to its worker as it arrived: its call is scheduled already; here only its answer is sent.
    const incoming = streamedCall(call.request);
    if (incoming !== undefined) {
      call.on("cancelled", () => incoming.abort());
      void incoming.answer.then((a) => (a.ok ? callback(null, a.response) : callback({ code: STATUS_OF[a.code], details: a.message })));
      return;
    }
    // Past the client's deadline or --call-timeout the caller has its DEADLINE_EXCEEDED (grpc-js, calls.ts): a call still
    // waiting then is not started. (Neither marks the call cancelled, so the deadline is checked here.)
    const deadline = Math.min(deadlineMs(call.getDeadline()), Date.now() + config.callTimeoutSeconds * 1000);
    const wanted = () => !call.cancelled && Date.now() < deadline;
    const header = peekRequest(call.request, REQUEST_LIMITS.tagBytes);
    const refused = overRate(header);
    if (refused) {
      callback(refused);
      return;
    }
    const requestBytes = call.request.length;
    collector.started();
    const submitted = pool.submit(call.request, header, wanted);
    call.on("cancelled", submitted.cancel);
    void submitted.answer.then((a) => {
      collector.ended(requestBytes + (a.ok ? a.response.length : 0));
      if (a.ok) callback(null, a.response);
      else callback({ code: STATUS_OF[a.code], details: a.message });
    });
  };
  server.addService({ ...service, RunFunction: runFunction } as grpc.ServiceDefinition, { RunFunction: handler });
  const health = new HealthImplementation({ "": "SERVING", [SERVICE]: "SERVING" });
  health.addToServer(server);
  // Health follows the workers: NOT_SERVING while none can start (pool.ts, serving()).
  pool.onServingChange((serving) => {
    if (draining !== undefined) return;
    for (const service of ["", SERVICE]) health.setStatus(service, serving ? "SERVING" : "NOT_SERVING");
  });

  let draining: Promise<void> | undefined;
  const listening = await listen(server, config.address, creds, (reason, peer) => log.warn({ reason, peer }, "refused a connection: mutual TLS")).catch(
    async (err: unknown) => {
      await pool.close();
      throw err;
    },
  );
  const port = listening.port;
  log.info(
    {
      address: config.address,
      port,
      tls: creds.mode,
      maxRecvMessageSizeMiB: config.maxRecvMessageSizeMiB,
      callTimeoutSeconds: config.callTimeoutSeconds,
      maxConcurrentStreams: config.maxConcurrentStreams,
      maxCallsInFlight: config.maxCallsInFlight,
      workers: config.workers,
      workerHeapMiB: config.workerHeapMiB,
      composeTimeoutSeconds: config.composeTimeoutSeconds,
      tenantWorkers: config.tenantWorkers,
      tenantQueue: config.tenantQueue,
      tenantRate: config.tenantRate,
      memoryBudgetMiB: config.memoryBudgetMiB,
      idleMiB: Math.ceil(budget.baseBytes / MiB),
    },
    "serving",
  );

  const drain = () => {
    draining ??= new Promise<void>((resolve) => {
      health.setStatus("", "NOT_SERVING");
      health.setStatus(SERVICE, "NOT_SERVING");
      collector.stop();
      listening.close();
      const timer = setTimeout(() => {
        log.warn({ drainTimeoutSeconds: config.drainTimeoutSeconds }, "drain timed out; closing remaining calls");
        server.forceShutdown();
        void pool.close().then(resolve);
      }, config.drainTimeoutSeconds * 1000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        void pool.close().then(resolve);
      });
    });
    return draining;
  };
  return { port, drain };
}

/** Runs until SIGTERM or SIGINT, then drains and resolves with the exit code. */
/**
 * The last net: every path of a call already ends in a Fatal result or a gRPC
 * status, so an exception that still escapes is a bug in a library or in us.
 * It is logged, and the server keeps serving every other call rather than
 * taking all tenants' reconciles down with it.
 */
function keepServing(log: Logger): void {
  process.on("uncaughtException", (err) => log.error({ err: err.message, stack: err.stack?.slice(0, 2048) }, "uncaught exception; still serving"));
  process.on("unhandledRejection", (reason) =>
    log.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection; still serving"),
  );
}

export async function serveUntilSignalled(config: ServeConfig, composer: ComposerModule, log: Logger): Promise<number> {
  keepServing(log);
  let running: RunningServer;
  try {
    running = await startServer(config, composer, log);
  } catch (err) {
    log.error({ err: (err as Error).message }, "cannot start");
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  log.info({ signal }, "draining in-flight calls");
  await running.drain();
  log.info("stopped");
  return 0;
}
