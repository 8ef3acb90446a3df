// A ModelCache RunFunctionRequest with its clusters as required resources, ready for the real
// server over gRPC (the proto-loader client encodes it): for tests and benchmarks that drive the
// fleet level the way Crossplane does on the call that carries the clusters.
import { INPUT_API_VERSION } from "../../functions/api/input.ts";
import { CLUSTERS_REQUIREMENT } from "../../functions/composition/fleet/compose.ts";
import type { RunFunctionRequest } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import { toStruct } from "../../functions/protocol/struct.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";

function struct(v: JsonObject, path: string) {
  const s = toStruct(v, path);
  if (!s.ok) throw new Error(s.error.message);
  return s.value;
}

/** The request for `xr` (a ModelCache) with `clusters` delivered, tagged `tag`. */
export function modelCacheRequest(tag: string, xr: JsonObject, clusters: JsonObject[]): RunFunctionRequest {
  return {
    meta: { tag },
    observed: { composite: { resource: struct(xr, "xr") }, resources: {} },
    desired: { composite: { resource: struct({ apiVersion: xr["apiVersion"] ?? null, kind: xr["kind"] ?? null }, "desired") }, resources: {} },
    input: struct({ apiVersion: INPUT_API_VERSION, kind: "Input" }, "input"),
    required_resources: { [CLUSTERS_REQUIREMENT]: { items: clusters.map((c, i) => ({ resource: struct(c, `clusters[${i}]`) })) } },
  };
}
