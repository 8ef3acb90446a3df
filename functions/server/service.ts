// The RunFunction handler: wire in, composition logic, wire out. It never
// fails the call: whatever goes wrong becomes a Fatal result carrying the
// message, and the desired state passes through so nothing is deleted.
import type * as grpc from "@grpc/grpc-js";
import type { RunFunctionResponse } from "../protocol/generated/apiextensions/fn/proto/v1/RunFunctionResponse.ts";
import { responseToWire } from "../protocol/convert.ts";
import type { DecodedRequest } from "../protocol/decode-request.ts";
import { fatal } from "../sdk/response.ts";
import type { FunctionRequest, FunctionResponse } from "../sdk/types.ts";
import type { Logger } from "./logger.ts";

/** The composition logic is pure and synchronous; tests may hand in an async one. */
export type Compose = (req: FunctionRequest) => FunctionResponse | Promise<FunctionResponse>;

/** The minimal response when even the request could not be read. */
function bareFatal(tag: string, message: string): RunFunctionResponse {
  return {
    meta: { tag, ttl: { seconds: "60", nanos: 0 } },
    results: [{ severity: "SEVERITY_FATAL", message, reason: "InternalError", target: "TARGET_COMPOSITE" }],
  };
}

/** A request the server decoded itself (decode-request.ts); an unreadable one is a Fatal result, not a gRPC error. */
export async function handleDecoded(decoded: DecodedRequest, compose: Compose, log: Logger): Promise<RunFunctionResponse> {
  if (!decoded.ok) {
    log.child({ tag: decoded.tag }).error({ err: decoded.message }, "cannot read the request");
    return bareFatal(decoded.tag, `function-model-cache could not read the request: ${decoded.message}`);
  }
  return handleRequest(decoded.request, compose, log);
}

async function handleRequest(req: FunctionRequest, compose: Compose, log: Logger): Promise<RunFunctionResponse> {
  const callLog = log.child({ tag: req.tag });
  let rsp: FunctionResponse;
  try {
    rsp = await compose(req);
  } catch (err) {
    callLog.error({ err }, "composition failed with an exception");
    rsp = fatal(req, `function-model-cache internal error: ${(err as Error).message}`, "InternalError");
  }
  const wire = responseToWire(rsp);
  if (wire.ok) {
    const fatalResult = rsp.results.find((r) => r.severity === "Fatal");
    if (fatalResult) callLog.info({ reason: fatalResult.reason, message: fatalResult.message }, "fatal result");
    callLog.debug({ results: rsp.results.length, resources: Object.keys(rsp.desired.resources).length }, "RunFunction done");
    return wire.value;
  }
  callLog.error({ path: wire.error.path }, "composed a value a protobuf Struct cannot carry");
  const fallback = responseToWire(fatal(req, `function-model-cache internal error: ${wire.error.message}`, "InternalError"));
  return fallback.ok ? fallback.value : bareFatal(req.tag, wire.error.message);
}

export function runFunctionHandler(compose: Compose, log: Logger): grpc.handleUnaryCall<DecodedRequest, RunFunctionResponse> {
  return (call, callback) => void handleDecoded(call.request, compose, log).then((rsp) => callback(null, rsp));
}
