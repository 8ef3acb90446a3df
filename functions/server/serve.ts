// Starts the gRPC server: RunFunction, the standard health service, and a
// drain on SIGTERM/SIGINT that lets in-flight calls finish before exiting.
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { loadProtocol } from "../protocol/load.ts";
import { callGuard, http2Options } from "./calls.ts";
import { loadServerCredentials } from "./credentials.ts";
import { listen } from "./listen.ts";
import type { ServeConfig } from "./flags.ts";
import type { Logger } from "./logger.ts";
import { handleBytesSafely, type Compose } from "./service.ts";

const SERVICE = "apiextensions.fn.proto.v1.FunctionRunnerService";

export interface RunningServer {
  port: number;
  /** Stop accepting calls, wait for in-flight ones (up to the drain timeout), close. */
  drain(): Promise<void>;
}

export async function startServer(config: ServeConfig, compose: Compose, log: Logger): Promise<RunningServer> {
  const creds = await loadServerCredentials(config.tlsCertsDir, config.insecure);
  if (!creds.ok) throw new Error(creds.error);

  const guard = callGuard(config, log);
  const server = new grpc.Server({
    ...http2Options(config),
    "grpc.max_receive_message_length": config.maxRecvMessageSizeMiB * 1024 * 1024,
    "grpc.max_send_message_length": -1,
    interceptors: [guard.interceptor],
  });
  // Bytes in and out: the handler reads the request (decode-request.ts, straight into plain JSON:
  // proto-loader's generic decoding costs seconds per reconcile at fleet scale, and cannot be
  // bounded) and writes the response (encode-response.ts) itself, so neither can fail inside
  // grpc-js, where no Fatal result can be made and nothing is logged.
  const service = loadProtocol().FunctionRunnerService.service;
  const same = (b: Buffer) => b;
  const runFunction = { ...service.RunFunction, requestDeserialize: same, responseSerialize: same };
  const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    void handleBytesSafely(call.request, compose, log).then((rsp) => callback(null, rsp));
  };
  server.addService({ ...service, RunFunction: runFunction } as grpc.ServiceDefinition, { RunFunction: handler });
  const health = new HealthImplementation({ "": "SERVING", [SERVICE]: "SERVING" });
  health.addToServer(server);

  const listening = await listen(server, config.address, creds, (reason, peer) => log.warn({ reason, peer }, "refused a connection: mutual TLS"));
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
    },
    "serving",
  );

  let draining: Promise<void> | undefined;
  const drain = () => {
    draining ??= new Promise<void>((resolve) => {
      health.setStatus("", "NOT_SERVING");
      health.setStatus(SERVICE, "NOT_SERVING");
      listening.close();
      const timer = setTimeout(() => {
        log.warn({ drainTimeoutSeconds: config.drainTimeoutSeconds }, "drain timed out; closing remaining calls");
        server.forceShutdown();
        resolve();
      }, config.drainTimeoutSeconds * 1000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
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
  process.on("unhandledRejection", (reason) => log.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection; still serving"));
}

export async function serveUntilSignalled(config: ServeConfig, compose: Compose, log: Logger): Promise<number> {
  keepServing(log);
  let running: RunningServer;
  try {
    running = await startServer(config, compose, log);
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
