// The replica level's answer, the same whichever path composed it (a PVC, a
// Custom substrate, nodes seeded from the source): the status over the desired
// XR's, the composed resources, the Hydrated condition, and a Warning result
// when the replica is Blocked or Failed.
import { API_VERSION, REPLICA_KIND } from "../../api/group.ts";
import { isObject, str } from "../../common/json.ts";
import { condition as xrCondition, passThrough, withResult } from "../../sdk/response.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../sdk/types.ts";

/** The fields that have a value: a status never carries explicit undefineds. */
export function prune(o: Record<string, JsonValue | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

export interface Outcome {
  phase: string;
  message: string;
  /** The Hydrated condition's (and the Warning's) reason when the phase alone does not say what to do. */
  reason?: string | undefined;
}

/** Failed, and retrying cannot fix it (status.permanentFailure, or every failed node's): fix the cause, then refetch. */
export const PERMANENT_REASON = "PermanentFailure";

/** The response: `status` merged over the desired XR's, `composed` added to the desired resources, Hydrated set. */
export function replicaAnswer(
  req: FunctionRequest,
  xr: JsonObject,
  ttlSeconds: number,
  status: JsonObject,
  composed: Record<string, ResourceState>,
  outcome: Outcome,
): FunctionResponse {
  const rsp = passThrough(req, ttlSeconds);
  const desiredXr = req.desired.composite;
  const base = desiredXr?.resource ?? { apiVersion: str(xr["apiVersion"]) ?? API_VERSION, kind: str(xr["kind"]) ?? REPLICA_KIND };
  const baseStatus = isObject(base["status"]) ? base["status"] : {};
  const ready = outcome.phase === "Ready" ? "True" : "False";
  rsp.desired.composite = {
    resource: { ...base, status: { ...baseStatus, ...status } },
    connectionDetails: desiredXr?.connectionDetails ?? {},
    ready,
  };
  Object.assign(rsp.desired.resources, composed);
  rsp.conditions = [xrCondition("Hydrated", ready, outcome.reason ?? outcome.phase, outcome.message)];
  return rsp;
}

/** A Warning result naming the phase when the replica is Blocked or Failed: a person has something to act on. */
export function warnWhenStuck(rsp: FunctionResponse, outcome: Outcome): FunctionResponse {
  if (outcome.phase !== "Blocked" && outcome.phase !== "Failed") return rsp;
  return withResult(rsp, { severity: "Warning", reason: outcome.reason ?? outcome.phase, message: outcome.message, target: "Composite" });
}
