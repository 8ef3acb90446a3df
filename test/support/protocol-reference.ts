// The reference conversion for the protocol tests: wire messages as proto-loader decodes them ⇄ the plain request and
// response, which the hand-written readers and writers (decode-request.ts, encode-response.ts) must match.
import type { RunFunctionRequest__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import type { RunFunctionResponse } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionResponse.ts";
import type { State, State__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/State.ts";
import type { Resource, Resource__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/Resource.ts";
import type { ResourceSelector } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/ResourceSelector.ts";
import type { Result } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/Result.ts";
import type { Condition } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/Condition.ts";
import type * as sdk from "../../functions/sdk/types.ts";
import { fromStruct, toStruct, type Converted } from "../../functions/protocol/struct.ts";

const READY_IN: Record<string, sdk.Readiness> = { READY_TRUE: "True", READY_FALSE: "False" };
const READY_OUT: Record<sdk.Readiness, string> = { True: "READY_TRUE", False: "READY_FALSE", Unspecified: "READY_UNSPECIFIED" };
const SEVERITY_OUT: Record<sdk.Severity, string> = { Fatal: "SEVERITY_FATAL", Warning: "SEVERITY_WARNING", Normal: "SEVERITY_NORMAL" };
const TARGET_OUT: Record<sdk.ResultTarget, string> = { Composite: "TARGET_COMPOSITE", CompositeAndClaim: "TARGET_COMPOSITE_AND_CLAIM" };
const STATUS_OUT: Record<sdk.ConditionStatus, string> = {
  True: "STATUS_CONDITION_TRUE",
  False: "STATUS_CONDITION_FALSE",
  Unknown: "STATUS_CONDITION_UNKNOWN",
};

function resourceIn(r: Resource__Output): sdk.ResourceState {
  return {
    resource: fromStruct(r.resource),
    connectionDetails: { ...r.connection_details },
    ready: READY_IN[r.ready] ?? "Unspecified",
  };
}

function stateIn(s: State__Output | null): sdk.State {
  const resources: Record<string, sdk.ResourceState> = {};
  for (const [name, r] of Object.entries(s?.resources ?? {})) resources[name] = resourceIn(r);
  return { composite: s?.composite ? resourceIn(s.composite) : undefined, resources };
}

export function requestFromWire(req: RunFunctionRequest__Output): sdk.FunctionRequest {
  const required: Record<string, sdk.JsonObject[]> = {};
  // Crossplane v1.x sent required resources as extra_resources; read both.
  for (const [name, rs] of Object.entries({ ...req.extra_resources, ...req.required_resources }))
    required[name] = rs.items.map((item) => fromStruct(item.resource));
  const credentials: Record<string, Record<string, Uint8Array>> = {};
  for (const [name, c] of Object.entries(req.credentials ?? {})) credentials[name] = { ...(c.credential_data?.data ?? {}) };
  return {
    tag: req.meta?.tag ?? "",
    observed: stateIn(req.observed),
    desired: stateIn(req.desired),
    input: req.input ? fromStruct(req.input) : undefined,
    context: req.context ? fromStruct(req.context) : undefined,
    requiredResources: required,
    capabilities: [...(req.meta?.capabilities ?? [])].map(String),
    credentials,
  };
}

function resourceOut(r: sdk.ResourceState, path: string): Converted<Resource> {
  const s = toStruct(r.resource, path);
  if (!s.ok) return s;
  return { ok: true, value: { resource: s.value, connection_details: r.connectionDetails, ready: READY_OUT[r.ready] as Resource["ready"] } };
}

function stateOut(s: sdk.State): Converted<State> {
  const resources: Record<string, Resource> = {};
  const out: State = { resources };
  if (s.composite) {
    const c = resourceOut(s.composite, "desired.composite");
    if (!c.ok) return c;
    out.composite = c.value;
  }
  for (const [name, r] of Object.entries(s.resources)) {
    const c = resourceOut(r, `desired.resources[${JSON.stringify(name)}]`);
    if (!c.ok) return c;
    resources[name] = c.value;
  }
  return { ok: true, value: out };
}

function selectorOut(sel: sdk.ResourceSelector): ResourceSelector {
  const out: ResourceSelector = { api_version: sel.apiVersion, kind: sel.kind };
  if ("name" in sel.match) out.match_name = sel.match.name;
  else out.match_labels = { labels: sel.match.labels };
  if (sel.namespace !== undefined) out.namespace = sel.namespace;
  return out;
}

/** Fails only when the composition logic produced a value a Struct cannot carry. */
export function responseToWire(rsp: sdk.FunctionResponse): Converted<RunFunctionResponse> {
  const desired = stateOut(rsp.desired);
  if (!desired.ok) return desired;
  let context;
  if (rsp.context) {
    const c = toStruct(rsp.context, "context");
    if (!c.ok) return c;
    context = c.value;
  }
  const resources: Record<string, ResourceSelector> = {};
  for (const [name, sel] of Object.entries(rsp.requirements.resources)) resources[name] = selectorOut(sel);
  const seconds = Math.max(0, Math.round(rsp.ttlSeconds));
  return {
    ok: true,
    value: {
      meta: { tag: rsp.tag, ttl: { seconds: String(seconds), nanos: 0 } },
      desired: desired.value,
      results: rsp.results.map((r): Result => ({
        severity: SEVERITY_OUT[r.severity] as Result["severity"],
        message: r.message,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        ...(r.target !== undefined ? { target: TARGET_OUT[r.target] as Result["target"] } : {}),
      })),
      ...(context ? { context } : {}),
      requirements: { resources },
      conditions: rsp.conditions.map((c): Condition => ({
        type: c.type,
        status: STATUS_OUT[c.status] as Condition["status"],
        reason: c.reason,
        ...(c.message !== undefined ? { message: c.message } : {}),
        ...(c.target !== undefined ? { target: TARGET_OUT[c.target] as Condition["target"] } : {}),
      })),
    },
  };
}
