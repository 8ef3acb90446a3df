// The standard flags of a Crossplane function image, as function-sdk-go
// defines them, parsed into a validated configuration.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { HydratorImage } from "../api/image.ts";
import { defaultMemoryBudgetMiB } from "./memory-budget.ts";

export const ServeConfig = z
  .object({
    address: z.string().regex(/^.+:\d+$/, "must be host:port"),
    tlsCertsDir: z.string().min(1).optional(),
    insecure: z.boolean(),
    debug: z.boolean(),
    maxRecvMessageSizeMiB: z.number().int().positive().max(2047),
    streamRequestsFromMiB: z.number().int().positive().max(2047),
    drainTimeoutSeconds: z.number().positive(),
    callTimeoutSeconds: z.number().positive().max(3600),
    maxConcurrentStreams: z.number().int().positive().max(10_000),
    maxCallsInFlight: z.number().int().positive().max(100_000),
    // At least two: one namespace may never hold every worker.
    workers: z.number().int().min(2).max(256),
    workerHeapMiB: z.number().int().min(64).max(65_536),
    composeTimeoutSeconds: z.number().positive().max(3600),
    tenantWorkers: z.number().int().positive(),
    tenantQueue: z.number().int().positive().max(100_000),
    tenantRate: z.number().min(0).max(1_000_000),
    // 0: no budget.
    memoryBudgetMiB: z
      .number()
      .int()
      .min(0)
      .max(16 * 1024 * 1024),
    hydratorImage: HydratorImage.optional(),
  })
  .refine((c) => c.tenantWorkers < c.workers, {
    path: ["tenantWorkers"],
    message: "must be fewer than --workers: one namespace may never occupy every worker",
  })
  .refine((c) => c.composeTimeoutSeconds <= c.callTimeoutSeconds, {
    path: ["composeTimeoutSeconds"],
    message: "must not be longer than --call-timeout: past it nobody waits for the answer",
  })
  .refine((c) => c.insecure || c.tlsCertsDir !== undefined, {
    message: "refusing to start without credentials: pass --tls-certs-dir (or set TLS_SERVER_CERTS_DIR) for mutual TLS, or --insecure for local development",
  })
  // In a cluster the Jobs must run a pinned image: the released image sets FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE to
  // its hydrator's digest (Dockerfile); only local development (--insecure) falls back to the version's tag.
  .refine((c) => c.insecure || c.hydratorImage !== undefined, {
    path: ["hydratorImage"],
    message:
      "no hydrator image: the released image sets FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE to its hydrator's digest; an image built otherwise must be given one (image@sha256:<digest>)",
  });
export type ServeConfig = z.infer<typeof ServeConfig>;

/** The default --worker-heap: what a worker holds loaded, plus room for the largest request's decoded form (docs/design.md, "Request limits"). */
export const DEFAULT_HEAP_BASE_MIB = 384;
export const DEFAULT_HEAP_PER_REQUEST_MIB = 4;
/**
 * Requests of this many MiB or more are walked as they arrive (incoming.ts) instead of held whole. A walked request
 * holds a fraction of its bytes but costs more per byte on a shared 2-core machine (a converged 1,000-cluster
 * request of 62 MiB: 356-467 ms walked against 328-355 whole, docs/benchmarks.md); a whole one of 64 MiB keeps the
 * process far under 512 MiB, so only larger requests are walked.
 */
export const DEFAULT_STREAM_REQUESTS_FROM_MIB = 64;
/** Five times the 5,000-cluster fleet's 12 s on a busy 2-core machine (docs/benchmarks.md), half the reconcile budget. */
const DEFAULT_COMPOSE_TIMEOUT_SECONDS = 60;

export const SERVE_USAGE = `Usage: function-model-cache serve [flags]

  --address <host:port>          listen address (default 0.0.0.0:9443)
  --tls-certs-dir <dir>          tls.crt, tls.key and ca.crt for mutual TLS (env TLS_SERVER_CERTS_DIR)
  --insecure                     serve plaintext (crossplane render, local development)
  -d, --debug                    debug logging
  --max-recv-message-size <MiB>  largest request accepted (default 4)
  --stream-requests-from <MiB>   requests this large or larger go to their worker as they arrive, never held
                                 whole (default ${DEFAULT_STREAM_REQUESTS_FROM_MIB})
  --drain-timeout <seconds>      on SIGTERM, how long in-flight calls may take to finish (default 30)
  --call-timeout <seconds>       longest a call may take, from its headers to its answer (default 120)
  --max-concurrent-streams <n>   calls one connection may have open at once; a client queues more (default 64)
  --max-calls-in-flight <n>      calls in flight over all connections; more are refused (default 256)
  --workers <n>                  worker threads that decode, compose and encode calls (default: the CPUs
                                 available, at least 2)
  --worker-heap <MiB>            heap limit of each worker; a call that needs more gets a Fatal result
                                 (default: ${DEFAULT_HEAP_BASE_MIB} + ${DEFAULT_HEAP_PER_REQUEST_MIB} x --max-recv-message-size)
  --compose-timeout <seconds>    longest one call may run on a worker; past it the worker is replaced and the
                                 call gets a Fatal result (default 60, or --call-timeout if shorter)
  --tenant-workers <n>           workers one namespace's calls may hold at once (default: half of --workers)
  --tenant-queue <n>             calls of one namespace waiting for a worker; more are refused (default 64)
  --tenant-rate <calls/s>        calls one namespace may start a second, in bursts of two seconds' worth; more
                                 are refused before any work (default 200; 0: no limit)
  --memory-budget <MiB>          memory the process may hold: each call reserves about 4x its request (2x when
                                 walked as it arrives) from the length it declares, before its bytes are
                                 buffered, and one that does not fit
                                 gets RESOURCE_EXHAUSTED (Crossplane retries) (default: 75% of the container's
                                 memory limit, or half the machine's memory without one; 0: no budget)
  --hydrator-image <image>       image the hydration Jobs run (env FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE)
`;

const FLAG_OF: Record<string, string> = {
  address: "address",
  tlsCertsDir: "tls-certs-dir",
  maxRecvMessageSizeMiB: "max-recv-message-size",
  streamRequestsFromMiB: "stream-requests-from",
  drainTimeoutSeconds: "drain-timeout",
  callTimeoutSeconds: "call-timeout",
  maxConcurrentStreams: "max-concurrent-streams",
  maxCallsInFlight: "max-calls-in-flight",
  workers: "workers",
  workerHeapMiB: "worker-heap",
  composeTimeoutSeconds: "compose-timeout",
  tenantWorkers: "tenant-workers",
  tenantQueue: "tenant-queue",
  tenantRate: "tenant-rate",
  memoryBudgetMiB: "memory-budget",
  hydratorImage: "hydrator-image",
};

export type ParsedFlags = { ok: true; config: ServeConfig } | { ok: false; error: string };

export function parseServeFlags(args: string[], env: NodeJS.ProcessEnv): ParsedFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        address: { type: "string", default: "0.0.0.0:9443" },
        "tls-certs-dir": { type: "string" },
        insecure: { type: "boolean", default: false },
        debug: { type: "boolean", short: "d", default: false },
        "max-recv-message-size": { type: "string", default: "4" },
        "stream-requests-from": { type: "string", default: String(DEFAULT_STREAM_REQUESTS_FROM_MIB) },
        "drain-timeout": { type: "string", default: "30" },
        "call-timeout": { type: "string", default: "120" },
        "max-concurrent-streams": { type: "string", default: "64" },
        "max-calls-in-flight": { type: "string", default: "256" },
        workers: { type: "string" },
        "worker-heap": { type: "string" },
        "compose-timeout": { type: "string" },
        "tenant-workers": { type: "string" },
        "tenant-queue": { type: "string", default: "64" },
        "tenant-rate": { type: "string", default: "200" },
        "memory-budget": { type: "string" },
        "hydrator-image": { type: "string" },
      },
    }));
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const maxRecvMessageSizeMiB = Number(values["max-recv-message-size"]);
  const callTimeoutSeconds = Number(values["call-timeout"]);
  const workers = values.workers === undefined ? Math.max(2, availableParallelism()) : Number(values.workers);
  const parsed = ServeConfig.safeParse({
    address: values.address,
    tlsCertsDir: values["tls-certs-dir"] ?? (env["TLS_SERVER_CERTS_DIR"] || undefined),
    insecure: values.insecure,
    debug: values.debug,
    maxRecvMessageSizeMiB,
    streamRequestsFromMiB: Number(values["stream-requests-from"]),
    drainTimeoutSeconds: Number(values["drain-timeout"]),
    callTimeoutSeconds,
    maxConcurrentStreams: Number(values["max-concurrent-streams"]),
    maxCallsInFlight: Number(values["max-calls-in-flight"]),
    workers,
    workerHeapMiB:
      values["worker-heap"] === undefined ? DEFAULT_HEAP_BASE_MIB + DEFAULT_HEAP_PER_REQUEST_MIB * maxRecvMessageSizeMiB : Number(values["worker-heap"]),
    composeTimeoutSeconds:
      values["compose-timeout"] === undefined ? Math.min(DEFAULT_COMPOSE_TIMEOUT_SECONDS, callTimeoutSeconds) : Number(values["compose-timeout"]),
    tenantWorkers: values["tenant-workers"] === undefined ? Math.max(1, Math.floor(workers / 2)) : Number(values["tenant-workers"]),
    tenantQueue: Number(values["tenant-queue"]),
    tenantRate: Number(values["tenant-rate"]),
    memoryBudgetMiB: values["memory-budget"] === undefined ? defaultMemoryBudgetMiB() : Number(values["memory-budget"]),
    hydratorImage: values["hydrator-image"] ?? (env["FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE"] || undefined),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue?.path.length ? FLAG_OF[String(issue.path[0])] : undefined;
    const field = flag ? `--${flag}: ` : "";
    return { ok: false, error: `${field}${issue?.message ?? "invalid flags"}` };
  }
  return { ok: true, config: parsed.data };
}
