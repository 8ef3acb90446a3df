// The tenancy tests speak to the real function over gRPC the way Crossplane
// does: a plain request (the builders the unit tests use) is encoded as a
// RunFunctionRequest, and the answer read back as plain JSON.
import { toStruct } from "../../functions/protocol/struct.ts";
import { fromStruct } from "../../functions/protocol/struct.ts";
import type { RunFunctionRequest } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import type { RunFunctionResponse__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionResponse.ts";
import type { FunctionRequest, JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { fleet, modelCache, request as fleetRequest } from "../support/fleet-builders.ts";
import { request as replicaRequest } from "../support/replica-builders.ts";
import { afterAll, beforeAll } from "vitest";
import { newClient, runFunction, type Client } from "../support/client.ts";
import { startFunction, type FunctionProcess } from "../support/function-server.ts";

/** The real function, started once for the file: `serve --insecure` on a free port, and a client. */
export function realFunction(): { client: () => Client } {
  let fn: FunctionProcess | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    fn = await startFunction(["--insecure"]);
    client = newClient(fn.port);
  });
  afterAll(async () => {
    client?.close();
    await fn?.stop();
  });
  return {
    client: () => {
      if (client === undefined) throw new Error("the function is not running");
      return client;
    },
  };
}

function struct(o: JsonObject, at: string) {
  const s = toStruct(o, at);
  if (!s.ok) throw new Error(`${at}: ${s.error.message}`);
  return s.value;
}

function resources(rs: Record<string, ResourceState>, at: string) {
  return Object.fromEntries(Object.entries(rs).map(([k, r]) => [k, { resource: struct(r.resource, `${at}.${k}`) }]));
}

export function toWire(req: FunctionRequest): RunFunctionRequest {
  const composite = req.observed.composite;
  return {
    meta: { tag: req.tag },
    observed: {
      ...(composite ? { composite: { resource: struct(composite.resource, "observed.composite") } } : {}),
      resources: resources(req.observed.resources, "observed"),
    },
    desired: { resources: resources(req.desired.resources, "desired") },
    ...(req.input ? { input: struct(req.input, "input") } : {}),
    required_resources: Object.fromEntries(
      Object.entries(req.requiredResources).map(([k, items]) => [k, { items: items.map((r, i) => ({ resource: struct(r, `required.${k}[${i}]`) })) }]),
    ),
  };
}

export interface Answer {
  results: { severity: string; reason: string | undefined; message: string }[];
  /** Desired composed resources, by key. */
  desired: Record<string, JsonObject>;
  /** The desired composite's status. */
  status: JsonObject;
}

export function fromWire(rsp: RunFunctionResponse__Output): Answer {
  const desired: Record<string, JsonObject> = {};
  for (const [k, r] of Object.entries(rsp.desired?.resources ?? {})) desired[k] = fromStruct(r.resource);
  const xr = rsp.desired?.composite?.resource ? fromStruct(rsp.desired.composite.resource) : {};
  const status = typeof xr["status"] === "object" && xr["status"] !== null && !Array.isArray(xr["status"]) ? xr["status"] : {};
  return { results: rsp.results.map((r) => ({ severity: String(r.severity), reason: r.reason, message: r.message })), desired, status };
}

export async function call(client: Client, req: FunctionRequest): Promise<Answer> {
  return fromWire(await runFunction(client, toWire(req), 30_000));
}

/** The manifest a provider-kubernetes Object carries. */
export function manifestOf(o: JsonObject | undefined): JsonObject | undefined {
  const m = ((o?.["spec"] as JsonObject | undefined)?.["forProvider"] as JsonObject | undefined)?.["manifest"];
  return typeof m === "object" && m !== null && !Array.isArray(m) ? m : undefined;
}

/** `namespace/name` of every cluster object composed, by kind. */
export function clusterObjects(a: Answer, kind: string): string[] {
  const out: string[] = [];
  for (const o of Object.values(a.desired)) {
    const m = manifestOf(o);
    if (m?.["kind"] !== kind) continue;
    const meta = (m["metadata"] ?? {}) as JsonObject;
    out.push(`${String(meta["namespace"] ?? "")}/${String(meta["name"])}`);
  }
  return out.sort();
}

export const fatals = (a: Answer) => a.results.filter((r) => r.severity === "SEVERITY_FATAL");

/**
 * What the fleet composes for cache qwen3-8b in control-plane namespace
 * `team` (one cluster), then what that replica composes on the cluster, with
 * its contract delivered as Crossplane would.
 */
export async function onCluster(client: Client, team: string, spec: JsonObject = {}): Promise<Answer> {
  const xr = { ...modelCache({ clusterSelector: { matchLabels: { region: "us-east1" } }, ...spec }), metadata: { name: "qwen3-8b", namespace: team } };
  const f = await call(client, fleetRequest(xr, { clusters: fleet() }));
  const fatal = fatals(f)[0];
  if (fatal !== undefined) throw new Error(`the fleet refused: ${fatal.message}`);
  const replica = Object.values(f.desired).find((r) => r["kind"] === "ModelCacheReplica");
  const contract = Object.values(f.desired).find((r) => r["kind"] === "ConfigMap");
  if (replica === undefined || contract === undefined) throw new Error("nothing composed");
  return call(client, replicaRequest(replica, {}, {}, { contract: [contract] }));
}
