// A replica on the Custom backend, composed: its namespace, the custom volume
// (custom.ts) the platform's substrate acts on, an Observe-only read of the
// claim it serves, volumes of earlier revisions kept as for any backend
// (mounts.ts), and the status from what was observed. No storage class, CSI
// driver or Job: the substrate does the work; the function pins and reports.
import type { CustomBackend } from "../../api/custom-backend.ts";
import type { ModelCacheReplicaStatus, ModelCacheReplicaSpec } from "../../api/replica.ts";
import { field, isObject, str } from "../../common/json.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../sdk/types.ts";
import { CUSTOM_READY_QUERY, customVolume, decideCustom } from "./custom.ts";
import { decideOldVolume, readMounts } from "./mounts.ts";
import { KEY, VOLUME_KEY_PREFIX } from "./names.ts";
import { prune, replicaAnswer, warnWhenStuck } from "./answer.ts";
import { namespace } from "./namespace.ts";
import { observe, wrapObject } from "./objects.ts";
import { volumePolicy } from "./volume.ts";

/** The desired-map key of the Observe-only read of the claim a substrate serves. */
export const customClaimKey = (claim: string) => `claim-${claim}`;

export interface CustomReplica {
  req: FunctionRequest;
  xr: JsonObject;
  spec: ModelCacheReplicaSpec;
  backend: CustomBackend;
  previous: ModelCacheReplicaStatus;
  namespaceLabels: Record<string, string> | undefined;
  now: number;
}

function rs(resource: JsonObject, ready: boolean): ResourceState {
  return { resource, connectionDetails: {}, ready: ready ? "True" : "False" };
}

export function composeCustom(c: CustomReplica): FunctionResponse {
  const { req, xr, spec, backend } = c;
  const pc = spec.cluster.providerConfigRef;
  const xrNamespace = str(field(xr, "metadata", "namespace")) ?? "";
  const composed: Record<string, ResourceState> = {};
  const obs = (key: string) => observe(req.observed.resources[key]);

  composed[KEY.namespace] = rs(wrapObject(namespace(spec.namespace, c.namespaceLabels), pc, { policy: "keep" }), obs(KEY.namespace).ready);
  const volKey = KEY.volume(spec.claimName);
  const vol = obs(volKey);
  // Retained like a composed claim: Retain leaves the substrate's resource (and what it holds) on the cluster.
  composed[volKey] = rs(
    wrapObject(customVolume({ spec, backend, controlPlaneNamespace: xrNamespace }), pc, { policy: volumePolicy(spec), readyWhen: CUSTOM_READY_QUERY }),
    vol.ready,
  );
  const claimKey = customClaimKey(spec.claimName);
  const claim = obs(claimKey);
  const claimBound = claim.exists === undefined ? undefined : str(field(claim.manifest, "status", "phase")) === "Bound";
  composed[claimKey] = rs(
    wrapObject({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: spec.claimName, namespace: spec.namespace } }, pc, { policy: "observe" }),
    claimBound === true,
  );

  const d = decideCustom(
    {
      resource: `${backend.name} (${backend.kind} ${spec.namespace}/${spec.claimName})`,
      substrate: backend.name,
      cluster: spec.cluster.name,
      composed: vol.composed,
      manifest: vol.manifest,
      syncError: vol.syncError,
      claim: { namespace: spec.namespace, name: spec.claimName },
      claimBound,
      pinnedDigest: spec.pin?.manifestDigest,
    },
    c.previous.lastError,
  );

  // Earlier revisions' volumes: every one kept until this one is Ready, then while mounted, then for spec.eviction.ttl.
  const mountedBy = readMounts(req, `${xrNamespace}/${spec.cacheRef.name}`, spec.cluster.name);
  const oldVolumes: JsonObject[] = [];
  let ttl = d.ttlSeconds;
  for (const [key, state] of Object.entries(req.observed.resources).sort(([a], [b]) => a.localeCompare(b))) {
    if (!key.startsWith(VOLUME_KEY_PREFIX) || key === volKey) continue;
    const old = observe(state);
    const oldSpec = field(state.resource, "spec");
    if (!isObject(oldSpec)) continue;
    const keep = (spec_: JsonObject, ready: boolean) =>
      (composed[key] = rs({ apiVersion: str(state.resource["apiVersion"]) ?? "", kind: str(state.resource["kind"]) ?? "", spec: spec_ }, ready));
    if (d.phase !== "Ready") {
      keep(oldSpec, old.ready);
      continue;
    }
    const oldClaim = str(field(oldSpec, "forProvider", "manifest", "metadata", "name")) ?? key.slice(VOLUME_KEY_PREFIX.length);
    const ov = decideOldVolume({
      claimName: oldClaim,
      mounts: mountedBy?.get(oldClaim) ?? (mountedBy === undefined ? undefined : []),
      eviction: spec.eviction,
      unusedSince: c.previous.oldVolumes?.find((v) => v.claimName === oldClaim)?.unusedSince,
      now: c.now,
    });
    oldVolumes.push(ov.status);
    if (ov.keep) {
      keep(oldSpec, old.ready);
      if (ov.retryInSeconds !== undefined) ttl = Math.max(1, Math.min(ttl, ov.retryInSeconds));
    } else if (!old.policies.includes("*") && !old.policies.includes("Delete")) keep({ ...oldSpec, managementPolicies: ["*"] }, false);
  }

  const status: Record<string, JsonValue | undefined> = {
    phase: d.phase,
    message: d.message,
    claimName: spec.claimName,
    namespace: spec.namespace,
    mountPath: spec.mountPath,
    lastError: d.lastError,
    observedRefetch: spec.refetch,
    drift: d.drift ? true : undefined,
    oldVolumes: oldVolumes.length > 0 ? oldVolumes.slice(0, 16) : undefined,
    ...d.reported,
  };

  return warnWhenStuck(replicaAnswer(req, xr, ttl, prune(status), composed, d), d);
}

export const BACKEND_SWITCH_REASON = "BackendChanged";

/**
 * Why the cache's volume cannot be composed for this backend: its key holds a
 * volume of the other kind (a claim the function provisioned, or a
 * substrate's resource). The claim name follows the source, not the backend,
 * so switching in place would hand the substrate the name of a claim that
 * exists, or turn its resource into a claim: refused, keeping both.
 */
export function backendSwitch(observed: Record<string, ResourceState>, claimName: string, custom: boolean): string | undefined {
  const state = observed[KEY.volume(claimName)];
  if (state === undefined) return undefined;
  const kind = str(field(state.resource, "spec", "forProvider", "manifest", "kind"));
  if (kind === undefined || (kind === "PersistentVolumeClaim") !== custom) return undefined;
  return `the volume ${claimName} on this cluster was composed as a ${kind}, for storage.backend ${custom ? "PVC or ExistingPVC" : "Custom"}: a cache cannot change between Custom and another backend in place: set spec.storage.backend back, and make a new ModelCache for the new backend (or change the source's revision too, which names a new volume)`;
}
