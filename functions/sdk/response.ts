// Building responses the way function-sdk-go's response package does: start
// from the request so everything earlier steps desired passes through
// untouched, then add to it.
import type { Condition, FunctionRequest, FunctionResponse, Result, State } from "./types.ts";

/** Crossplane's default realtime requeue; compositions may ask for sooner. */
export const DEFAULT_TTL_SECONDS = 60;

function copyState(s: State): State {
  // Composed resources are replaced as a whole, never merged: a shallow copy of
  // the map keeps every earlier step's object exactly as it was.
  return { composite: s.composite, resources: { ...s.resources } };
}

/** A response that changes nothing: the baseline every composition starts from. */
export function passThrough(req: FunctionRequest, ttlSeconds = DEFAULT_TTL_SECONDS): FunctionResponse {
  return {
    tag: req.tag,
    ttlSeconds,
    desired: copyState(req.desired),
    results: [],
    context: req.context,
    requirements: { resources: {} },
    conditions: [],
  };
}

export function withResult(rsp: FunctionResponse, result: Result): FunctionResponse {
  return { ...rsp, results: [...rsp.results, result] };
}

/**
 * A Fatal result stops the pipeline; Crossplane then applies nothing, so every
 * composed resource stays. The desired state still passes through unchanged.
 */
export function fatal(req: FunctionRequest, message: string, reason = "InvalidInput"): FunctionResponse {
  return withResult(passThrough(req), { severity: "Fatal", message, reason, target: "Composite" });
}

export function condition(type: string, status: Condition["status"], reason: string, message?: string): Condition {
  return message === undefined ? { type, status, reason, target: "Composite" } : { type, status, reason, message, target: "Composite" };
}
