// The RunFunction handler: bytes in, composition logic, bytes out. It never
// fails the call and never throws: a request over a limit or unreadable, an
// exception in the composition logic, or a composed value a protobuf Struct
// cannot carry each becomes a Fatal result carrying the message, logged, and
// the desired state passes through so nothing is deleted. It runs on a worker
// thread (pool.ts, which answers a call stopped by its deadline or heap with a
// Fatal too); only load and what happens around a call (a deadline from the
// client, a stalled stream, a full queue) is a gRPC status (calls.ts, pool.ts).
import { decodeRequest, type DecodedRequest } from "../protocol/decode-request.ts";
import { encodeResponse } from "../protocol/encode-response.ts";
import { StreamedRequest, type StreamOptions } from "../protocol/stream-request.ts";
import { capText, MESSAGE_BYTES } from "../sdk/messages.ts";
import { fatal } from "../sdk/response.ts";
import type { FunctionRequest, FunctionResponse } from "../sdk/types.ts";
import type { Logger } from "./logger.ts";

/**
 * The composition logic is pure and synchronous; tests may hand in an async one. It may name the
 * required resources it wants left as bytes (decode-request.ts, `encoded`): it decodes those itself.
 * Those bytes are views of the request, which the worker frees once the call is answered (worker.ts):
 * nothing kept between calls may refer to them (keep a digest or a copy).
 */
export type Compose = ((req: FunctionRequest) => FunctionResponse | Promise<FunctionResponse>) & {
  readonly encodedRequirements?: (requirement: string) => boolean;
  /** For a request walked as it arrives: which of those resources' bytes may go as they pass (stream-request.ts, `forget`). */
  readonly forget?: StreamOptions["forget"];
};

/** A composed message longer than this is cut, saying how much was left out: Crossplane copies it into events and conditions. */
export const RESULT_MESSAGE_BYTES = 16 * MESSAGE_BYTES;

function errorText(err: unknown): string {
  return capText(err instanceof Error ? err.message : String(err), MESSAGE_BYTES);
}

/** The smallest Fatal response, when even the request could not be read: it needs nothing from it. */
export function bareFatal(tag: string, message: string, reason = "InternalError"): Buffer {
  const rsp: FunctionResponse = {
    tag: capText(tag, 256),
    ttlSeconds: 60,
    desired: { composite: undefined, resources: {} },
    results: [{ severity: "Fatal", message: capText(message), reason, target: "Composite" }],
    context: undefined,
    requirements: { resources: {} },
    conditions: [],
  };
  const bytes = encodeResponse(rsp);
  // Only strings, all bounded: it cannot be refused.
  if (!bytes.ok) throw new Error(`unreachable: ${bytes.error.message}`);
  return bytes.value;
}

/** Every result and condition message within RESULT_MESSAGE_BYTES. */
function capMessages(rsp: FunctionResponse): FunctionResponse {
  const long = (m: string | undefined) => m !== undefined && m.length > RESULT_MESSAGE_BYTES;
  if (!rsp.results.some((r) => long(r.message)) && !rsp.conditions.some((c) => long(c.message))) return rsp;
  return {
    ...rsp,
    results: rsp.results.map((r) => (long(r.message) ? { ...r, message: capText(r.message, RESULT_MESSAGE_BYTES) } : r)),
    conditions: rsp.conditions.map((c) => (c.message !== undefined && long(c.message) ? { ...c, message: capText(c.message, RESULT_MESSAGE_BYTES) } : c)),
  };
}

async function composeSafely(req: FunctionRequest, compose: Compose, log: Logger): Promise<FunctionResponse> {
  try {
    return capMessages(await compose(req));
  } catch (err) {
    log.error({ err: errorText(err) }, "composition failed with an exception");
    return fatal(req, `function-model-cache internal error: ${errorText(err)}`, "InternalError");
  }
}

/** One RunFunction call, from the request's bytes to the response's. */
export async function handleBytes(bytes: Buffer, compose: Compose, log: Logger): Promise<Buffer> {
  return handleDecoded(decodeRequest(bytes, compose.encodedRequirements ? { encoded: compose.encodedRequirements } : {}), bytes.length, compose, log);
}

/** A request walked as it arrived (stream-request.ts), from its reading to the response's bytes. */
export function streamedRequest(total: number, compose: Compose): StreamedRequest {
  return new StreamedRequest(total, { encoded: compose.encodedRequirements ?? (() => false), ...(compose.forget ? { forget: compose.forget } : {}) });
}

/** One call from its request as read (whole, or as it arrived) to the response's bytes. */
export async function handleDecoded(decoded: DecodedRequest, bytes: number, compose: Compose, log: Logger): Promise<Buffer> {
  if (!decoded.ok) {
    const callLog = log.child({ tag: capText(decoded.tag, 256) });
    if (decoded.refused) callLog.warn({ err: decoded.message, bytes }, "request refused");
    else callLog.error({ err: decoded.message, bytes }, "cannot read the request");
    return bareFatal(
      decoded.tag,
      `function-model-cache ${decoded.refused ? "refused" : "could not read"} the request: ${decoded.message}`,
      decoded.refused ? "RequestRefused" : "InternalError",
    );
  }
  const req = decoded.request;
  const callLog = log.child({ tag: req.tag });
  const rsp = await composeSafely(req, compose, callLog);
  const wire = encodeResponse(rsp);
  if (wire.ok) {
    const fatalResult = rsp.results.find((r) => r.severity === "Fatal");
    if (fatalResult) callLog.info({ reason: fatalResult.reason, message: capText(fatalResult.message) }, "fatal result");
    callLog.debug({ results: rsp.results.length, resources: Object.keys(rsp.desired.resources).length, bytes: wire.value.length }, "RunFunction done");
    return wire.value;
  }
  callLog.error({ path: capText(wire.error.path, 512), err: capText(wire.error.message) }, "composed a value a protobuf Struct cannot carry");
  const fallback = encodeResponse(fatal(req, `function-model-cache internal error: ${capText(wire.error.message)}`, "InternalError"));
  return fallback.ok ? fallback.value : bareFatal(req.tag, wire.error.message);
}

/** handleBytes (or, given a function, that one), and if even that throws (a bug), a Fatal result all the same, logged. */
export async function handleBytesSafely(bytes: Buffer | (() => Promise<Buffer>), compose: Compose, log: Logger): Promise<Buffer> {
  try {
    return await (typeof bytes === "function" ? bytes() : handleBytes(bytes, compose, log));
  } catch (err) {
    log.error({ err: errorText(err) }, "RunFunction failed with an exception");
    return bareFatal("", `function-model-cache internal error: ${errorText(err)}`);
  }
}
