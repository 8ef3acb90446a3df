// The Custom backend at the cluster level: the one resource the function
// hands a third-party substrate (its kind is the platform's choice, from the
// Input), and what the substrate's status means for the replica. The
// function's own promises sit on top: Ready only when the substrate says
// Ready, serves the claim it was handed, that claim is Bound, and the
// manifest digest it serves is the pinned one. Pure: decideCustom holds the
// rules, custom.test.ts one row per way a substrate can be.
import type { CustomBackend } from "../../api/custom-backend.ts";
import { CUSTOM_FAILED_REASON, CUSTOM_READY, CustomVolumeStatus } from "../../api/custom-backend.ts";
import type { ReplicaPhase } from "../../api/modelcache.ts";
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import type { JsonObject, JsonValue } from "../../sdk/types.ts";
import { progress, TTL_IN_PROGRESS_SECONDS, TTL_SETTLED_SECONDS } from "./decide.ts";
import { commonLabels } from "./job.ts";

/** provider-kubernetes' words when the kind is not served by the cluster (its CRD is not installed). */
const NO_KIND = /no matches for kind|could not find the requested resource|the server could not find|is not registered|resource mapping not found/i;

/** Ready on the composed Object when the substrate says Ready. */
export const CUSTOM_READY_QUERY =
  "has(object.status) && has(object.status.conditions) && object.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')";

export interface CustomVolumeParams {
  spec: ModelCacheReplicaSpec;
  backend: CustomBackend;
  /** The cache's namespace on the control plane. */
  controlPlaneNamespace: string;
}

/**
 * The custom volume: everything the substrate needs, nothing it could use to
 * reach further (Secret names only, as the spec has them, resolved by the
 * substrate in this same namespace).
 */
export function customVolume(p: CustomVolumeParams): JsonObject {
  const { spec, backend } = p;
  const custom = spec.storage.custom;
  const out: JsonObject = {
    cache: { name: spec.cacheRef.name, namespace: p.controlPlaneNamespace, cluster: spec.cluster.name },
    artifact: JSON.parse(JSON.stringify(spec.artifact)) as JsonValue,
    claimName: spec.claimName,
    mountPath: spec.mountPath,
  };
  if (spec.pin !== undefined) {
    out["revision"] = spec.pin.resolvedRevision;
    if (spec.pin.manifestDigest !== undefined) out["expectedManifestDigest"] = spec.pin.manifestDigest;
  }
  if (custom?.size !== undefined) out["size"] = custom.size;
  if (spec.refetch !== undefined) out["refetch"] = spec.refetch;
  if (custom?.parameters !== undefined) out["parameters"] = { ...custom.parameters };
  return {
    apiVersion: backend.apiVersion,
    kind: backend.kind,
    metadata: {
      name: spec.claimName,
      namespace: spec.namespace,
      labels: { ...commonLabels("cache"), "modelcache.dev/substrate": backend.name },
      annotations: { "modelcache.dev/cache": spec.cacheRef.name, "modelcache.dev/mount-path": spec.mountPath },
    },
    spec: out,
  };
}

export interface CustomObservations {
  /** "blobcache (ModelVolume mc-ml-team/qwen-abc)", for messages. */
  resource: string;
  substrate: string;
  cluster: string;
  /** The Object is among the observed resources. */
  composed: boolean;
  /** The resource as provider-kubernetes last read it, if it did. */
  manifest: JsonObject | undefined;
  syncError: string | undefined;
  /** The claim the substrate was handed (spec.claimName) and its namespace. */
  claim: { namespace: string; name: string };
  /** That claim is Bound; undefined while not read. */
  claimBound: boolean | undefined;
  pinnedDigest: string | undefined;
}

export interface CustomDecision {
  phase: ReplicaPhase;
  message: string;
  ttlSeconds: number;
  drift: boolean;
  /** Set on failure: the last error; undefined clears it. */
  lastError: string | undefined;
  /** What the substrate reports, for the replica's status. */
  reported: Pick<CustomVolumeStatus, "bytesDone" | "bytesTotal" | "bytesPerSecond" | "etaSeconds" | "resolvedRevision" | "manifestDigest">;
}

type Outcome = Pick<CustomDecision, "phase" | "message"> & Partial<CustomDecision>;

const CONTRACT = "(docs/api.md, the Custom backend contract)";

function outcome(o: CustomObservations, status: CustomVolumeStatus | undefined): Outcome {
  if (!o.composed) return { phase: "Pending", message: `creating ${o.resource} on cluster ${o.cluster}` };
  if (o.manifest === undefined) {
    if (o.syncError !== undefined && NO_KIND.test(o.syncError))
      return {
        phase: "Blocked",
        message: `${o.resource}: its kind is not served on cluster ${o.cluster} (${o.syncError}): install the substrate ${o.substrate} there (its CRD and controller), or select clusters that have it`,
      };
    if (o.syncError !== undefined) return { phase: "Pending", message: `${o.resource} is not applied on cluster ${o.cluster} yet: ${o.syncError}` };
    return { phase: "Pending", message: `waiting for ${o.resource} on cluster ${o.cluster} to be observed` };
  }
  const raw = o.manifest["status"];
  if (raw === undefined) return { phase: "Pending", message: `${o.resource} has not reported a status yet: the substrate's controller sets it ${CONTRACT}` };
  const parsed = CustomVolumeStatus.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      phase: "Blocked",
      message: `${o.resource} reports a status outside the contract (status.${first?.path.join(".") ?? ""}: ${first?.message ?? "invalid"}): the substrate ${o.substrate} must be fixed ${CONTRACT}`,
    };
  }
  const s = status ?? parsed.data;
  const ready = s.conditions?.find((c) => c.type === CUSTOM_READY);
  const said = ready?.message ?? s.message;
  if (ready?.status === "False" && ready.reason === CUSTOM_FAILED_REASON) {
    const error = `the substrate ${o.substrate} failed: ${said ?? "no message"}`;
    return {
      phase: "Failed",
      message: `${error}; set a new refetch value on the ModelCache to ask it again`,
      lastError: error,
      ttlSeconds: TTL_SETTLED_SECONDS,
    };
  }
  if (ready?.status !== "True") {
    if (s.bytesDone !== undefined)
      return { phase: "Hydrating", message: `${o.substrate} hydrating: ${progress(s.bytesDone, s.bytesTotal, s.etaSeconds)}${said ? ` (${said})` : ""}` };
    return { phase: "Pending", message: `${o.resource} is not Ready${said ? `: ${said}` : ""}` };
  }
  const where = `${o.claim.namespace}/${o.claim.name}`;
  if (s.claimName !== o.claim.name)
    return {
      phase: "Blocked",
      message: `${o.resource} is Ready but serves claim ${s.claimName ?? "(none)"}, not ${o.claim.name} it was handed in spec.claimName: serving pods mount ${where} ${CONTRACT}`,
    };
  if (s.manifestDigest === undefined)
    return {
      phase: "Blocked",
      message: `${o.resource} is Ready but reports no status.manifestDigest, so which bytes it serves cannot be checked: the substrate ${o.substrate} must report it ${CONTRACT}`,
    };
  if (o.pinnedDigest !== undefined && s.manifestDigest !== o.pinnedDigest) {
    const error = `${o.resource} serves manifest ${s.manifestDigest} but the cache is pinned to ${o.pinnedDigest} (handed as spec.expectedManifestDigest)`;
    return { phase: "Failed", message: error, lastError: error, drift: true, ttlSeconds: TTL_SETTLED_SECONDS };
  }
  if (o.claimBound !== true)
    return { phase: "Verifying", message: `${o.substrate} serves ${s.manifestDigest}; waiting for PersistentVolumeClaim ${where} to be Bound` };
  return { phase: "Ready", message: `${s.manifestDigest} served by ${o.substrate} on ${where}`, lastError: undefined, ttlSeconds: TTL_SETTLED_SECONDS };
}

export function decideCustom(o: CustomObservations, previousLastError: string | undefined): CustomDecision {
  const parsed = o.manifest?.["status"] === undefined ? undefined : CustomVolumeStatus.safeParse(o.manifest["status"]);
  const s = parsed?.success ? parsed.data : undefined;
  const out = outcome(o, s);
  const reported: CustomDecision["reported"] = {};
  for (const k of ["bytesDone", "bytesTotal", "bytesPerSecond", "etaSeconds", "resolvedRevision", "manifestDigest"] as const)
    if (s?.[k] !== undefined) Object.assign(reported, { [k]: s[k] });
  if (out.phase !== "Hydrating") {
    delete reported.bytesPerSecond;
    delete reported.etaSeconds;
  }
  const settled = out.phase === "Blocked" || out.phase === "Failed" || out.phase === "Ready";
  return {
    ttlSeconds: settled ? TTL_SETTLED_SECONDS : TTL_IN_PROGRESS_SECONDS,
    drift: false,
    lastError: previousLastError,
    reported,
    ...out,
  };
}
