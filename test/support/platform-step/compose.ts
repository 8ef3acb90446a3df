// The stand-in for a platform's own composition step in the serving examples:
// it adds the resources its Input lists to the desired state, as
// function-patch-and-transform does with a base and no patches (its Input
// shape, pt.fn.crossplane.io Resources). (The real
// one is a Go module the examples cannot fetch here; docs/stand-ins.md.)
// Input: { resources: [{ name, base }] }.
import { passThrough } from "../../../functions/sdk/response.ts";
import type { FunctionRequest, JsonObject, JsonValue } from "../../../functions/sdk/types.ts";

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function createCompose(_options: JsonValue) {
  return (req: FunctionRequest) => {
    const rsp = passThrough(req);
    const list = req.input?.["resources"];
    for (const r of Array.isArray(list) ? list : []) {
      if (!isObject(r) || typeof r["name"] !== "string" || !isObject(r["base"])) continue;
      rsp.desired.resources[r["name"]] = { resource: r["base"], connectionDetails: {}, ready: "Unspecified" };
    }
    return rsp;
  };
}
