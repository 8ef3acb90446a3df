// The provider-kubernetes `Object` wrapper, and reading back what an observed
// Object saw on the cluster. Every manifest this replica composes travels
// inside one of these, addressed by the cluster's provider config.
import { field, isObject, str } from "../../common/json.ts";
import type { JsonObject, JsonValue, ResourceState } from "../../sdk/types.ts";

export const OBJECT_API_VERSION = "kubernetes.m.crossplane.io/v1alpha1";

/**
 * Management policies, named for why each is used. Namespaced (v2) managed
 * resources have no `deletionPolicy`: whether the cluster object survives the
 * Object's deletion is decided by the presence of `Delete` here alone.
 * Every set is one crossplane-runtime supports.
 */
export const POLICIES = {
  /** Create, keep in sync, delete with the Object. */
  all: ["*"],
  /** Create and keep in sync, but orphan on deletion (shared or retained things). */
  keep: ["Observe", "Create", "Update", "LateInitialize"],
  /** Create once, never patch (immutable Jobs, ConfigMaps someone else writes), delete with the Object. */
  createOnce: ["Observe", "Create", "Delete"],
  /** Read only: never create, change or delete. */
  observe: ["Observe"],
} as const satisfies Record<string, readonly string[]>;
export type PolicyName = keyof typeof POLICIES;

export interface ProviderConfigRef {
  kind: "ProviderConfig" | "ClusterProviderConfig";
  name: string;
}

export interface ObjectOptions {
  policy: PolicyName;
  /** A CEL query over `object` that must be true for the Object to be Ready. */
  readyWhen?: string;
}

export function wrapObject(manifest: JsonObject, providerConfigRef: ProviderConfigRef, opts: ObjectOptions): JsonObject {
  const spec: JsonObject = {
    managementPolicies: [...POLICIES[opts.policy]],
    providerConfigRef: { kind: providerConfigRef.kind, name: providerConfigRef.name },
    forProvider: { manifest },
  };
  if (opts.readyWhen !== undefined) spec["readiness"] = { policy: "DeriveFromCelQuery", celQuery: opts.readyWhen };
  return { apiVersion: OBJECT_API_VERSION, kind: "Object", spec };
}

/** What one observed Object tells us. `exists` is undefined while unknown. */
export interface Observation {
  /** The Object itself was observed (Crossplane created it). */
  composed: boolean;
  exists: boolean | undefined;
  /** The cluster object as provider-kubernetes last read it. */
  manifest: JsonObject | undefined;
  /** The Object's Ready condition is True. */
  ready: boolean;
  /** The Object's management policies as observed. */
  policies: string[];
  /** The Synced condition's message when it is False (e.g. an apply error). */
  syncError: string | undefined;
}

const NOT_OBSERVED: Observation = { composed: false, exists: undefined, manifest: undefined, ready: false, policies: [], syncError: undefined };

export function conditions(v: JsonValue | undefined): JsonObject[] {
  const c = field(v, "status", "conditions");
  return Array.isArray(c) ? c.filter(isObject) : [];
}

export function condition(v: JsonValue | undefined, type: string): JsonObject | undefined {
  return conditions(v).find((c) => c["type"] === type);
}

/**
 * crossplane-runtime reports an Observe-only resource that is absent as a
 * Synced=False ReconcileError saying "external resource does not exist".
 */
const DOES_NOT_EXIST = /does not exist/i;

export function observe(state: ResourceState | undefined): Observation {
  if (state === undefined) return NOT_OBSERVED;
  const obj = state.resource;
  const manifest = field(obj, "status", "atProvider", "manifest");
  const ready = condition(obj, "Ready")?.["status"] === "True";
  const synced = condition(obj, "Synced");
  const syncError = synced?.["status"] === "False" ? (str(synced["message"]) ?? str(synced["reason"]) ?? "not synced") : undefined;
  const policiesV = field(obj, "spec", "managementPolicies");
  const policies = Array.isArray(policiesV) ? policiesV.filter((p): p is string => typeof p === "string") : [];
  let exists: boolean | undefined;
  if (isObject(manifest)) exists = true;
  else if (syncError !== undefined && DOES_NOT_EXIST.test(syncError)) exists = false;
  return { composed: true, exists, manifest: isObject(manifest) ? manifest : undefined, ready, policies, syncError };
}
