// The composition logic: a pure function from request to response. The gRPC
// layer calls only this; tests call it directly with plain objects.
import type { FunctionRequest, FunctionResponse } from "../sdk/types.ts";
import { passThrough, withResult } from "../sdk/response.ts";
import { composeFleet } from "./fleet/compose.ts";
import { API_VERSION, MODEL_CACHE_KIND, REPLICA_KIND } from "../api/group.ts";
import { composeReplica } from "./replica/compose.ts";

export interface RunOptions {
  /** The hydrator image the Jobs run; defaults to this function's own image. */
  defaultHydratorImage: string;
}

export function runFunction(req: FunctionRequest, options: RunOptions): FunctionResponse {
  const xr = req.observed.composite?.resource;
  const kind = typeof xr?.["kind"] === "string" ? xr["kind"] : "(none)";
  const apiVersion = typeof xr?.["apiVersion"] === "string" ? xr["apiVersion"] : "(none)";
  if (apiVersion === API_VERSION && kind === MODEL_CACHE_KIND) return composeFleet(req, options);
  if (apiVersion === API_VERSION && kind === REPLICA_KIND) return composeReplica(req);
  return withResult(passThrough(req), {
    severity: "Warning",
    reason: "UnsupportedComposite",
    message: `function-model-cache composes modelcache.dev ModelCache and ModelCacheReplica resources; ${apiVersion} ${kind} was passed through unchanged`,
    target: "Composite",
  });
}
