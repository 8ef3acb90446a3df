// The composition logic: a pure function from request to response. The gRPC
// layer calls only this; tests call it directly with plain objects.
import type { FunctionRequest, FunctionResponse } from "../sdk/types.ts";
import { fatal, passThrough, withResult } from "../sdk/response.ts";
import { parseInput } from "./fleet/parse.ts";
import { composeServing } from "./serving/compose.ts";
import { composeFleet } from "./fleet/compose.ts";
import type { SelectionCache } from "./fleet/selection-cache.ts";
import { API_VERSION, MODEL_CACHE_KIND, REPLICA_KIND } from "../api/group.ts";
import { composeReplica } from "./replica/compose.ts";

export interface RunOptions {
  /** The hydrator image the Jobs run; defaults to this function's own image. */
  defaultHydratorImage: string;
  /** The fleet's clusters' selections by their bytes (fleet/selection-cache.ts): one per worker, kept between calls. */
  selectionCache?: SelectionCache;
}

export function runFunction(req: FunctionRequest, options: RunOptions): FunctionResponse {
  const xr = req.observed.composite?.resource;
  const kind = typeof xr?.["kind"] === "string" ? xr["kind"] : "(none)";
  const apiVersion = typeof xr?.["apiVersion"] === "string" ? xr["apiVersion"] : "(none)";
  if (apiVersion === API_VERSION && kind === MODEL_CACHE_KIND) return composeFleet(req, options);
  if (apiVersion === API_VERSION && kind === REPLICA_KIND) return composeReplica(req);
  // Any other XR: a serving composition's step when its Input says so (serving/compose.ts).
  if (req.input?.["serving"] !== undefined) {
    const input = parseInput(req.input);
    if (!input.ok) return fatal(req, `invalid function input: ${input.message}`);
    if (input.value.serving !== undefined) return composeServing(req, input.value.serving);
  }
  return withResult(passThrough(req), {
    severity: "Warning",
    reason: "UnsupportedComposite",
    message: `function-model-cache composes modelcache.dev ModelCache and ModelCacheReplica resources, and mounts caches into workloads when its Input has a serving block; ${apiVersion} ${kind} was passed through unchanged`,
    target: "Composite",
  });
}
