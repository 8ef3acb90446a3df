// What the consumer XR shows of the serving step's decisions: the
// ModelCachesReady condition (the worst state first, each workload and cache
// with the cache, cluster, phase, bytes and ETA), status.modelCaches, the
// Warnings a person acts on, the requeue, and the XR's readiness.
import type { ConsumerMount, GateState } from "../../api/serving.ts";
import { capText } from "../../sdk/messages.ts";
import { condition, withResult } from "../../sdk/response.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, ResourceSelector } from "../../sdk/types.ts";
import { isObject } from "../../common/json.ts";

export const CONDITION_TYPE = "ModelCachesReady";
/** Requeue soon while a workload waits for bytes, so it starts shortly after they are verified. */
export const WAITING_TTL_SECONDS = 15;
export const SETTLED_TTL_SECONDS = 60;

/** One workload and cache: a line of status.modelCaches. */
export type Line = ConsumerMount;

/** Conditions and results name the worst state first. */
const SEVERITY: Record<GateState, number> = { Blocked: 5, Stopped: 4, Held: 3, RolloutPending: 2, Kept: 1, Mounted: 0 };

export function finish(
  req: FunctionRequest,
  rsp0: FunctionResponse,
  lines: Line[],
  results: { severity: "Warning"; reason: string; message: string }[],
  anyHeld: boolean,
  requirements: Record<string, ResourceSelector>,
): FunctionResponse {
  let rsp: FunctionResponse = { ...rsp0, requirements: { resources: { ...rsp0.requirements.resources, ...requirements } } };
  if (lines.length === 0) return rsp;
  const worst = lines.reduce((a, l) => (SEVERITY[l.state] > SEVERITY[a] ? l.state : a), "Mounted" as GateState);
  const notMounted = lines.filter((l) => l.state !== "Mounted");
  const message =
    notMounted.length === 0
      ? `${lines.length} cache mount(s) verified: ${lines.map((l) => `${l.cache} on ${l.cluster ?? "?"} for ${l.workload}`).join("; ")}`
      : notMounted
          .sort((a, b) => SEVERITY[b.state] - SEVERITY[a.state])
          .map((l) => `${l.state}: ${l.message}`)
          .join(" | ");
  rsp.conditions = [condition(CONDITION_TYPE, worst === "Mounted" ? "True" : "False", worst === "Mounted" ? "Mounted" : worst, capText(message, 4096))];
  rsp.ttlSeconds = worst === "Mounted" ? SETTLED_TTL_SECONDS : WAITING_TTL_SECONDS;
  const blocked = lines.filter((l) => l.state === "Blocked");
  if (blocked.length > 0)
    rsp = withResult(rsp, {
      severity: "Warning",
      reason: "CacheMountBlocked",
      message: capText(blocked.map((l) => l.message).join("; "), 1024),
      target: "Composite",
    });
  for (const r of results) rsp = withResult(rsp, { ...r, target: "Composite" });

  // The consumer XR's status: one line per workload and cache (the platform's XRD may declare status.modelCaches; docs/api.md).
  const desiredXr = rsp.desired.composite ?? req.desired.composite;
  const observedXr = req.observed.composite?.resource ?? {};
  const base: JsonObject = desiredXr?.resource ?? { apiVersion: observedXr["apiVersion"] ?? null, kind: observedXr["kind"] ?? null };
  const status = isObject(base["status"]) ? base["status"] : {};
  const modelCaches = lines.map(({ resource, ...l }) => JSON.parse(JSON.stringify({ resource, ...l })) as JsonObject);
  rsp.desired = {
    ...rsp.desired,
    composite: {
      resource: { ...base, status: { ...status, modelCaches } },
      connectionDetails: desiredXr?.connectionDetails ?? {},
      ready: anyHeld ? "False" : (desiredXr?.ready ?? "Unspecified"),
    },
  };
  return rsp;
}
