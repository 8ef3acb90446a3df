import { describe, expect, it } from "vitest";
import { defaultMemoryBudgetMiB } from "./memory-budget.ts";
import { DEFAULT_STREAM_REQUESTS_FROM_MIB, parseServeFlags } from "./flags.ts";

describe("parseServeFlags", () => {
  const PINNED = `ghcr.io/function-model-cache/function-model-cache@sha256:${"a".repeat(64)}`;
  const PINNED_ENV = { FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE: PINNED };
  const cases = [
    {
      reason: "defaults match Crossplane's function-sdk-go",
      args: ["--insecure"],
      env: {},
      want: { address: "0.0.0.0:9443", maxRecvMessageSizeMiB: 4, insecure: true, debug: false },
    },
    {
      reason: "the certificates directory comes from TLS_SERVER_CERTS_DIR",
      args: [],
      env: { TLS_SERVER_CERTS_DIR: "/tls/server", ...PINNED_ENV },
      want: { tlsCertsDir: "/tls/server", insecure: false },
    },
    {
      reason: "the flag wins over the environment",
      args: ["--tls-certs-dir", "/a"],
      env: { TLS_SERVER_CERTS_DIR: "/b", ...PINNED_ENV },
      want: { tlsCertsDir: "/a" },
    },
    {
      reason: "the hydrator image comes from the environment the released image sets",
      args: ["--tls-certs-dir", "/a"],
      env: PINNED_ENV,
      want: { hydratorImage: PINNED },
    },
    {
      reason: "a tag other than latest is the platform's choice",
      args: ["--insecure", "--hydrator-image", "registry.example/hydrator:v9"],
      env: {},
      want: { hydratorImage: "registry.example/hydrator:v9" },
    },
    { reason: "-d is --debug", args: ["--insecure", "-d"], env: {}, want: { debug: true } },
    { reason: "the receive limit is in MiB", args: ["--insecure", "--max-recv-message-size", "16"], env: {}, want: { maxRecvMessageSizeMiB: 16 } },
    {
      reason: "requests of 64 MiB and more are walked as they arrive unless set",
      args: ["--insecure"],
      env: {},
      want: { streamRequestsFromMiB: DEFAULT_STREAM_REQUESTS_FROM_MIB },
    },
    { reason: "the streaming threshold as set, in MiB", args: ["--insecure", "--stream-requests-from", "8"], env: {}, want: { streamRequestsFromMiB: 8 } },
    {
      reason: "the pool: workers, a fair share of half of them, 60 s per call",
      args: ["--insecure", "--workers", "8"],
      env: {},
      want: { workers: 8, tenantWorkers: 4, composeTimeoutSeconds: 60, tenantQueue: 64 },
    },
    {
      reason: "a call timeout shorter than the compose timeout's default shortens it",
      args: ["--insecure", "--call-timeout", "4"],
      env: {},
      want: { composeTimeoutSeconds: 4 },
    },
    { reason: "two workers leave one for other namespaces", args: ["--insecure", "--workers", "2"], env: {}, want: { tenantWorkers: 1 } },
    {
      reason: "the worker heap follows the largest request unless set",
      args: ["--insecure", "--max-recv-message-size", "512"],
      env: {},
      want: { workerHeapMiB: 384 + 4 * 512 },
    },
    { reason: "a namespace starts 200 calls a second unless set", args: ["--insecure"], env: {}, want: { tenantRate: 200 } },
    { reason: "0 turns the call rate off", args: ["--insecure", "--tenant-rate", "0"], env: {}, want: { tenantRate: 0 } },
    { reason: "the worker heap as set", args: ["--insecure", "--worker-heap", "1024"], env: {}, want: { workerHeapMiB: 1024 } },
    { reason: "the memory budget as set", args: ["--insecure", "--memory-budget", "2048"], env: {}, want: { memoryBudgetMiB: 2048 } },
    { reason: "0 turns the memory budget off", args: ["--insecure", "--memory-budget", "0"], env: {}, want: { memoryBudgetMiB: 0 } },
    {
      reason: "the memory budget follows the container's limit unless set",
      args: ["--insecure"],
      env: {},
      want: { memoryBudgetMiB: defaultMemoryBudgetMiB() },
    },
  ];
  it.each(cases)("$reason", ({ args, env, want }) => {
    const r = parseServeFlags(args, env);
    expect(r).toMatchObject({ ok: true, config: want });
  });

  const bad = [
    { reason: "no credentials and not insecure", args: [], error: /refusing to start without credentials/ },
    { reason: "an unknown flag", args: ["--insecure", "--nope"], error: /nope/ },
    { reason: "a receive limit that is not a number", args: ["--insecure", "--max-recv-message-size", "lots"], error: /^--max-recv-message-size: / },
    { reason: "a memory budget that is not a whole number of MiB", args: ["--insecure", "--memory-budget", "1.5"], error: /^--memory-budget: / },
    { reason: "an address without a port", args: ["--insecure", "--address", "localhost"], error: /--address: must be host:port/ },
    { reason: "a :latest hydrator image", args: ["--insecure", "--hydrator-image", "ghcr.io/org/img:latest"], error: /^--hydrator-image: is :latest/ },
    {
      reason: "a hydrator image with no tag and no digest",
      args: ["--insecure", "--hydrator-image", "ghcr.io/org/img"],
      error: /^--hydrator-image: names no tag and no digest/,
    },
    { reason: "one worker: a namespace could hold every worker", args: ["--insecure", "--workers", "1"], error: /^--workers: / },
    {
      reason: "a namespace's share of every worker",
      args: ["--insecure", "--workers", "4", "--tenant-workers", "4"],
      error: /^--tenant-workers: must be fewer than --workers/,
    },
    {
      reason: "a compose timeout past the call timeout",
      args: ["--insecure", "--compose-timeout", "200"],
      error: /^--compose-timeout: must not be longer than --call-timeout/,
    },
    { reason: "a negative call rate", args: ["--insecure", "--tenant-rate=-1"], error: /^--tenant-rate: / },
    { reason: "a streaming threshold of 0", args: ["--insecure", "--stream-requests-from", "0"], error: /^--stream-requests-from: / },
    { reason: "a worker heap V8 cannot start in", args: ["--insecure", "--worker-heap", "16"], error: /^--worker-heap: / },
    {
      reason: "TLS with no hydrator image (an image built without its hydrator's digest)",
      args: ["--tls-certs-dir", "/a"],
      error: /^--hydrator-image: no hydrator image/,
    },
  ];
  it.each(bad)("refuses $reason", ({ args, error }) => {
    const r = parseServeFlags(args, {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });
});
