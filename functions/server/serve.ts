// Starts the gRPC server: RunFunction, the standard health service, and a
// drain on SIGTERM/SIGINT that lets in-flight calls finish before exiting.
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { decodeRequest } from "../protocol/decode-request.ts";
import { loadProtocol } from "../protocol/load.ts";
import { loadServerCredentials } from "./credentials.ts";
import type { ServeConfig } from "./flags.ts";
import type { Logger } from "./logger.ts";
import { runFunctionHandler, type Compose } from "./service.ts";

const SERVICE = "apiextensions.fn.proto.v1.FunctionRunnerService";

export interface RunningServer {
  port: number;
  /** Stop accepting calls, wait for in-flight ones (up to the drain timeout), close. */
  drain(): Promise<void>;
}

export async function startServer(config: ServeConfig, compose: Compose, log: Logger): Promise<RunningServer> {
  const creds = await loadServerCredentials(config.tlsCertsDir, config.insecure);
  if (!creds.ok) throw new Error(creds.error);

  const server = new grpc.Server({
    "grpc.max_receive_message_length": config.maxRecvMessageSizeMiB * 1024 * 1024,
    "grpc.max_send_message_length": -1,
  });
  // Requests are read by decode-request.ts, straight into plain JSON: proto-loader's generic decoding
  // costs seconds per reconcile at fleet scale. Responses keep proto-loader's encoder.
  const service = loadProtocol().FunctionRunnerService.service;
  const runFunction = { ...service.RunFunction, requestDeserialize: decodeRequest };
  server.addService({ ...service, RunFunction: runFunction }, { RunFunction: runFunctionHandler(compose, log) });
  const health = new HealthImplementation({ "": "SERVING", [SERVICE]: "SERVING" });
  health.addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(config.address, creds.credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  log.info({ address: config.address, port, tls: creds.mode, maxRecvMessageSizeMiB: config.maxRecvMessageSizeMiB }, "serving");

  let draining: Promise<void> | undefined;
  const drain = () => {
    draining ??= new Promise<void>((resolve) => {
      health.setStatus("", "NOT_SERVING");
      health.setStatus(SERVICE, "NOT_SERVING");
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
export async function serveUntilSignalled(config: ServeConfig, compose: Compose, log: Logger): Promise<number> {
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
