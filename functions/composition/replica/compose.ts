// ModelCacheReplica: everything one cluster needs to hold the verified bytes,
// composed through provider-kubernetes Objects, and the replica's status read
// back from what those Objects observed. Pure: the same request (and clock,
// which only decides whether a retry is due) gives the same response.
import { field, isObject, str } from "../../common/json.ts";
import { ownSpec } from "../../api/crossplane-owned.ts";
import { ModelCacheReplicaSpec, ModelCacheReplicaSpecForms, ModelCacheReplicaStatus } from "../../api/replica.ts";
import { formatIssues } from "../../common/zod-issues.ts";
import { fatal, withResult } from "../../sdk/response.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../sdk/types.ts";
import type { Input } from "../../api/input.ts";
import { parseInput } from "../fleet/parse.ts";
import { describeIssues as describeTenancyIssues } from "../tenancy/issues.ts";
import { contractRequirement, keepEveryObserved, resolveContract } from "./contract.ts";
import { replicaTenancy, TENANCY_REASON } from "./tenancy.ts";
import { csiDriverRef, decideCsi, storageClassRef } from "./csi.ts";
import { job, reportConfigMap, role, roleBinding, serviceAccount, sourceConfigMap } from "./job.ts";
import { decidePhase } from "./decide.ts";
import { currentAttempt } from "./lifecycle.ts";
import { KEY, VOLUME_KEY_PREFIX, hydratorAccountName, jobName, reportName, sourceConfigMapName } from "./names.ts";
import { PERMANENT_REASON, prune, replicaAnswer, warnWhenStuck } from "./answer.ts";
import { namespace } from "./namespace.ts";
import { condition, observe, wrapObject } from "./objects.ts";
import type { Observation } from "./objects.ts";
import { hydrationState } from "./phase.ts";
import { readReport } from "./report.ts";
import { decideOldVolume, mountsRequirement, readMounts } from "./mounts.ts";
import { sourceKindOf } from "../../sources/registry.ts";
import { composeNodes } from "./node-local.ts";
import { decideSeed } from "./node-seed.ts";
import { composeFromSource } from "./node-source.ts";
import { BOUND_QUERY, existingClaim, persistentVolumeClaim, planVolume, volumePolicy } from "./volume.ts";
import { cloneDataSource, planClone, withCloneHint, withSourcePin } from "./clone.ts";
import { claimSeenFrom } from "../serving/bridge.ts";
import { BACKEND_SWITCH_REASON, backendSwitch, composeCustom } from "./custom-compose.ts";
import { customBackendFor } from "../tenancy/pvc-clone.ts";

export interface ReplicaOptions {
  /** Milliseconds since the epoch; only decides whether a retry is due. */
  now?: () => number;
}

function isBound(o: Observation): boolean {
  return str(field(o.manifest, "status", "phase")) === "Bound";
}

function jobSucceeded(o: Observation): boolean {
  return condition(o.manifest, "Complete")?.["status"] === "True";
}

/**
 * A claim already provisioned keeps the class it was made with when neither the spec nor the cluster object names
 * one any more (a field missing for a moment): never a Blocked copy, nor a claim patched to no class.
 */
function withProvisionedClass(vol: ReturnType<typeof planVolume>, observed: Record<string, ResourceState>): ReturnType<typeof planVolume> {
  if (!vol.owned || vol.storageClassName !== undefined) return vol;
  const was = str(field(observed[KEY.volume(vol.claimName)]?.resource, "spec", "forProvider", "manifest", "spec", "storageClassName"));
  return was === undefined ? vol : { ...vol, storageClassName: was, storageClassFrom: `claim ${vol.claimName} as provisioned` };
}

/** The Warning that the hydration Job runs with less than asked, when the platform clamped it. */
function withClamped(rsp: FunctionResponse, clamped: Parameters<typeof describeTenancyIssues>[0]): FunctionResponse {
  if (clamped.length === 0) return rsp;
  return withResult(rsp, {
    severity: "Warning",
    reason: "HydrationClamped",
    message: `the hydration Job runs with less than asked (input.tenancy.hydration.onViolation: Clamp): ${describeTenancyIssues(clamped)}`,
    target: "Composite",
  });
}

/** Our own earlier status is memory, not input: if it is unreadable, start over rather than fail. */
export function previousStatus(xr: JsonObject): ModelCacheReplicaStatus {
  const parsed = ModelCacheReplicaStatus.safeParse(xr["status"] ?? {});
  return parsed.success ? parsed.data : {};
}

/**
 * Either form of the spec: the full one is composed from as it is; the
 * compact one (what the fleet composes) asks Crossplane for the ConfigMap
 * of the contract it names on every call and is composed from it once that
 * is delivered and hashes to the name. Until then every
 * observed resource is kept exactly as it is.
 */
export function composeReplica(req: FunctionRequest, options: ReplicaOptions = {}): FunctionResponse {
  const xr = req.observed.composite?.resource;
  if (xr === undefined) return fatal(req, "no observed composite: a ModelCacheReplica is required");
  // What Crossplane owns under spec (spec.crossplane) is neither checked nor copied.
  const own = ownSpec(xr["spec"]);
  const forms = ModelCacheReplicaSpecForms.safeParse(own);
  if (!forms.success) return fatal(req, `invalid ModelCacheReplica: ${formatIssues("spec", forms.error, 5)}`);
  const input = parseInput(req.input);
  if (!input.ok) return fatal(req, `invalid function input: ${input.message}`);
  const written = forms.data;
  const xrNamespace = str(field(xr, "metadata", "namespace")) ?? "";
  // Who mounts which of this cache's volumes on this cluster: asked for only while more than one volume is observed
  // (an earlier revision's is still there), so thousands of settled replicas list nothing; derived from the
  // observed state alone, so the same on every call of a reconcile.
  const oldVolumeObserved = Object.keys(req.observed.resources).filter((k) => k.startsWith(VOLUME_KEY_PREFIX)).length > 1;
  const mounts = oldVolumeObserved ? mountsRequirement(written.cacheRef.name, xrNamespace, written.cluster.name) : {};
  if (written.contractHash === undefined)
    return { ...composeResolved(req, xr, own, "spec", { ...options, input: input.value }), requirements: { resources: mounts } };

  const ref = { cacheRef: written.cacheRef, contractHash: written.contractHash };
  const requirements = { resources: { ...contractRequirement(ref, xrNamespace), ...mounts } };
  const contract = resolveContract(req, ref, xrNamespace);
  if (contract.kind === "waiting") return { ...keepEveryObserved(req, previousStatus(xr), contract.message), requirements };
  // The contract's own fields, then the replica's: cacheRef and cluster can never come from the contract.
  const full: JsonObject = { ...contract.spec, cacheRef: field(xr, "spec", "cacheRef") ?? null, cluster: field(xr, "spec", "cluster") ?? null };
  return { ...composeResolved(req, xr, full, contract.root, { ...options, input: input.value }), requirements };
}

/** The cluster level proper, from a resolved (full) spec; `root` names where the spec came from in Fatal messages. */
function composeResolved(
  req: FunctionRequest,
  xr: JsonObject,
  specValue: JsonValue | undefined,
  root: string,
  options: ReplicaOptions & { input: Input },
): FunctionResponse {
  const now = options.now ?? Date.now;
  const parsed = ModelCacheReplicaSpec.safeParse(specValue);
  if (!parsed.success) return fatal(req, `invalid ModelCacheReplica: ${formatIssues(root, parsed.error, 5)}`);
  const prev = previousStatus(xr);
  // The platform's policy decides the namespace and what may reach the cluster; outside it, nothing new is composed.
  const tenancy = replicaTenancy({
    spec: parsed.data,
    controlPlaneNamespace: str(field(xr, "metadata", "namespace")) ?? "",
    observed: req.observed.resources,
    input: options.input,
    root,
  });
  if (tenancy.kind === "refused")
    return withResult(keepEveryObserved(req, prev, tenancy.message, { phase: "Blocked", reason: TENANCY_REASON }), {
      severity: "Warning",
      reason: TENANCY_REASON,
      message: tenancy.message,
      target: "Composite",
    });
  const kind = sourceKindOf(tenancy.spec.artifact.source);
  if (kind === undefined) return fatal(req, "invalid ModelCacheReplica: spec.artifact.source: exactly one source must be set");
  const spec = withSourcePin(tenancy.spec, kind.pinnedManifest());
  // A third-party substrate holds the bytes (custom-compose.ts); the tenancy check allowed its name.
  const backend =
    spec.storage.backend === "Custom" ? customBackendFor(spec.storage, options.input.tenancy, str(field(xr, "metadata", "namespace")) ?? "") : undefined;
  const switched = backendSwitch(req.observed.resources, spec.claimName, backend !== undefined);
  if (switched !== undefined)
    return withResult(keepEveryObserved(req, prev, switched, { phase: "Blocked", reason: BACKEND_SWITCH_REASON }), {
      severity: "Warning",
      reason: BACKEND_SWITCH_REASON,
      message: switched,
      target: "Composite",
    });
  if (backend !== undefined && spec.nodeLocal !== undefined)
    return fatal(req, "invalid ModelCacheReplica: spec.nodeLocal: is not allowed with storage.backend Custom: the substrate places the bytes");
  if (backend !== undefined) return composeCustom({ req, xr, spec, backend, previous: prev, namespaceLabels: tenancy.namespaceLabels, now: now() });

  const vol = withProvisionedClass(planVolume(spec), req.observed.resources);
  if (spec.storage.backend === "ExistingPVC" && spec.claimName !== vol.claimName)
    return fatal(
      req,
      `invalid ModelCacheReplica: spec.claimName: must equal spec.storage.existingPVC.claimName (${vol.claimName}) for the ExistingPVC backend`,
    );
  const xrNamespace = str(field(xr, "metadata", "namespace")) ?? "";
  const planned = kind.plan({
    pinnedRevision: spec.pin?.resolvedRevision,
    sourceConfigMap: sourceConfigMapName(vol.claimName),
    claimSeenByJob: (namespace, claimName) => claimSeenFrom(claimName, namespace ?? spec.namespace, vol.namespace),
  });
  if (!planned.ok) return fatal(req, `invalid ModelCacheReplica: ${planned.error.field}: ${planned.error.message}`);
  const source = planned.value;

  const clusterName = spec.cluster.name;
  // replication AllMatchingNodes with no shared copy: each node hydrates from the source (node-seed.ts, node-source.ts).
  const nodeSeed =
    spec.nodeLocal === undefined
      ? undefined
      : decideSeed({
          seed: spec.nodeLocal.seed,
          policy: options.input.tenancy.nodeLocal.seedFromSource,
          backend: spec.storage.backend,
          storageClassName: vol.storageClassName,
          sharedObserved: Object.keys(req.observed.resources).some((k) => k.startsWith(VOLUME_KEY_PREFIX)),
          cluster: clusterName,
        });
  if (nodeSeed?.kind === "Source" && spec.nodeLocal !== undefined)
    return withClamped(
      composeFromSource({
        req,
        xr,
        spec: { ...spec, nodeLocal: spec.nodeLocal },
        vol,
        source,
        line: kind.line(),
        why: nodeSeed.why,
        input: options.input,
        namespaceLabels: tenancy.namespaceLabels,
        prev,
        nowMs: now(),
      }),
      tenancy.clamped,
    );
  const pc = spec.cluster.providerConfigRef;
  const obs = (key: string) => observe(req.observed.resources[key]);
  const composed: Record<string, ResourceState> = {};
  const add = (key: string, resource: JsonObject, ready: boolean) => {
    composed[key] = { resource, connectionDetails: {}, ready: ready ? "True" : "False" };
  };
  const blocked: string[] = [];

  // 1. The namespace, when it is ours (an existing claim may live in the user's own).
  if (vol.namespace === spec.namespace)
    add(KEY.namespace, wrapObject(namespace(spec.namespace, tenancy.namespaceLabels), pc, { policy: "keep" }), obs(KEY.namespace).ready);

  // 2. The storage class and the CSI driver behind it.
  if (vol.owned) {
    if (vol.storageClassName === undefined) {
      blocked.push(`no storage class for the volume: spec.storage.pvc.storageClassName is not set and cluster ${clusterName} declares no storage class`);
    } else {
      const sc = obs(KEY.storageClass);
      add(KEY.storageClass, wrapObject(storageClassRef(vol.storageClassName), pc, { policy: "observe" }), sc.exists === true);
      if (sc.exists === false) blocked.push(`StorageClass ${vol.storageClassName} (${vol.storageClassFrom}) does not exist on cluster ${clusterName}`);
    }
  }
  const driver = obs(KEY.csiDriver);
  const addonObserved = req.observed.resources[KEY.csiAddon] !== undefined;
  const csi = decideCsi(spec, vol.accessMode, driver.exists === true ? "present" : driver.exists === false ? "missing" : "unknown", addonObserved);
  const mapping = csi.kind === "observe" ? csi.mapping : csi.kind === "blocked" ? csi.observe : undefined;
  if (mapping) add(KEY.csiDriver, wrapObject(csiDriverRef(mapping.driver), pc, { policy: "observe" }), driver.exists === true);
  if (csi.kind === "observe" && csi.addon) {
    const addonReady = condition(req.observed.resources[KEY.csiAddon]?.resource, "Ready")?.["status"] === "True";
    add(KEY.csiAddon, csi.addon, addonReady);
  }
  if (csi.kind === "blocked") blocked.push(csi.message);

  // 3. The volume; for a pvcClone source, a clone of the source claim or a volume to copy it into (clone.ts).
  const volKey = KEY.volume(vol.claimName);
  const volObs = obs(volKey);
  const bound = isBound(volObs);
  const clone = planClone(spec, vol, req.observed.resources, volKey);
  if (clone !== undefined) {
    Object.assign(composed, clone.resources);
    blocked.push(...clone.blocked);
  }
  const cloned = clone?.decision.kind === "clone";
  // Until a pvcClone source is read, no volume: whether it is a clone is fixed when it is created.
  const undecided = clone !== undefined && !cloned && clone.decision.kind !== "copy";
  if (vol.owned) {
    const claim = persistentVolumeClaim(spec, vol, cloned ? cloneDataSource(spec.artifact.source.pvcClone?.claimName ?? "") : undefined);
    if (!undecided) add(volKey, wrapObject(claim, pc, { policy: volumePolicy(spec), readyWhen: BOUND_QUERY }), volObs.ready && bound);
  } else {
    add(volKey, wrapObject(existingClaim(vol), pc, { policy: "observe" }), bound);
    if (volObs.exists === false)
      blocked.push(
        `PersistentVolumeClaim ${vol.claimName} (spec.storage.existingPVC.claimName) does not exist in namespace ${vol.namespace} on cluster ${clusterName}`,
      );
  }

  // 4. The hydration: which attempt, what it reported, what to do next.
  const token = spec.refetch ?? "";
  const { attempt, fresh } = currentAttempt(prev, token, vol.claimName);
  const currentJob = jobName({ claimName: vol.claimName, refetch: token, attempt });
  const jobObs = obs(KEY.job(currentJob));
  const reading = readReport(obs(KEY.report(currentJob)));
  const h = hydrationState(spec, jobObs, reading, currentJob, reportName(currentJob), now());

  const decided = decidePhase({
    blocked,
    waiting: clone?.waiting,
    hydration: h,
    attempt,
    fresh,
    previous: { phase: prev.phase, lastError: prev.lastError, permanent: prev.permanentFailure },
    jobComposed: jobObs.composed,
    bound,
    claim: { namespace: vol.namespace, name: vol.claimName },
    currentJob,
    source: kind.line(),
    secrets: source.secrets,
    reportProblem: reading.kind === "invalid" ? reading.message : undefined,
    nowMs: now(),
  });
  const d = cloned ? withCloneHint(decided, bound, vol.claimName) : decided;
  const { phase, runAttempt: jobAttempt } = d;
  const report = h.state === "running" || h.state === "done" ? h.report : h.state === "failed" ? h.report : undefined;

  // 5. The Job and what it needs. The report ConfigMap of the attempt that
  //    decided the phase stays composed after its Job is gone: it is the record.
  const runJob = jobAttempt !== undefined ? jobName({ claimName: vol.claimName, refetch: token, attempt: jobAttempt }) : undefined;
  const recordJob = runJob ?? (h.state === "notStarted" ? undefined : currentJob);
  if (recordJob !== undefined) {
    const account = hydratorAccountName(spec.cacheRef.name, xrNamespace);
    const rep = reportName(recordJob);
    const ns = vol.namespace;
    const so = obs(KEY.serviceAccount);
    add(KEY.serviceAccount, wrapObject(serviceAccount(account, ns), pc, { policy: "all" }), so.ready);
    add(KEY.role, wrapObject(role(account, ns, rep), pc, { policy: "all" }), obs(KEY.role).ready);
    add(KEY.roleBinding, wrapObject(roleBinding(account, ns), pc, { policy: "all" }), obs(KEY.roleBinding).ready);
    add(KEY.report(recordJob), wrapObject(reportConfigMap(rep, ns), pc, { policy: "createOnce" }), obs(KEY.report(recordJob)).exists === true);
    if (source.configMap) {
      const key = KEY.source(vol.claimName);
      add(key, wrapObject(sourceConfigMap(sourceConfigMapName(vol.claimName), ns, source.configMap.data), pc, { policy: "all" }), obs(key).ready);
    }
    if (runJob !== undefined && jobAttempt !== undefined) {
      const manifest = job({
        spec,
        namespace: ns,
        name: runJob,
        attempt: jobAttempt,
        claimName: vol.claimName,
        serviceAccount: account,
        report: reportName(runJob),
        // A clone's verification reads nothing but the clone: the source may be gone by then.
        source: cloned ? { ...source, volumes: [], mounts: [] } : source,
        // A clone holds the source's bytes already: the Job verifies them against the source's manifest.
        verifyOnly: vol.verifyOnly || cloned,
        refusedAddresses: options.input.tenancy.sources.refusedAddresses,
      });
      const jo = obs(KEY.job(runJob));
      // Created once, never patched: an unrelated change to the desired state leaves a running Job alone.
      add(KEY.job(runJob), wrapObject(manifest, pc, { policy: "createOnce" }), jobSucceeded(jo));
    }
  }

  // 6. Earlier volumes (an earlier revision's claim) stay until this one is Ready, and after that while a
  //    workload mounts them (as the serving step records it), then for spec.eviction.ttl (mounts.ts).
  const mountedBy = readMounts(req, `${xrNamespace}/${spec.cacheRef.name}`, clusterName);
  const oldVolumes: JsonObject[] = [];
  // Called again when an old volume is due for release, if that is sooner than the phase asks.
  let ttl = d.ttlSeconds;
  for (const [key, state] of Object.entries(req.observed.resources).sort(([a], [b]) => a.localeCompare(b))) {
    if (!key.startsWith(VOLUME_KEY_PREFIX) || key === volKey) continue;
    const old = observe(state);
    const oldSpec = field(state.resource, "spec");
    if (!isObject(oldSpec)) continue;
    const observeOnly = old.policies.length === 1 && old.policies[0] === "Observe";
    const oldClaim = str(field(oldSpec, "forProvider", "manifest", "metadata", "name")) ?? key.slice(VOLUME_KEY_PREFIX.length);
    const keepAsIs = () =>
      add(key, { apiVersion: str(state.resource["apiVersion"]) ?? "", kind: str(state.resource["kind"]) ?? "", spec: oldSpec }, old.ready && isBound(old));
    if (phase !== "Ready") {
      keepAsIs();
      continue;
    }
    if (observeOnly) continue; // a claim we only read: nothing to release
    const ov = decideOldVolume({
      claimName: oldClaim,
      mounts: mountedBy?.get(oldClaim) ?? (mountedBy === undefined ? undefined : []),
      eviction: spec.eviction,
      unusedSince: prev.oldVolumes?.find((v) => v.claimName === oldClaim)?.unusedSince,
      now: now(),
    });
    oldVolumes.push(ov.status);
    if (ov.keep) {
      keepAsIs();
      if (ov.retryInSeconds !== undefined) ttl = Math.max(1, Math.min(ttl, ov.retryInSeconds));
    } else if (!old.policies.includes("*") && !old.policies.includes("Delete")) {
      // Superseded and verified past: allow deletion first, drop the Object on the next pass.
      add(
        key,
        { apiVersion: str(state.resource["apiVersion"]) ?? "", kind: str(state.resource["kind"]) ?? "", spec: { ...oldSpec, managementPolicies: ["*"] } },
        false,
      );
    }
  }

  // 6b. replication AllMatchingNodes: a copy on each selected node's local disk, copied from this one once it is
  //     verified; the replica is Ready when both are (node-local.ts).
  const nodeLocal = spec.nodeLocal;
  const nodes =
    nodeLocal === undefined
      ? undefined
      : composeNodes({
          observed: req.observed.resources,
          spec: { ...spec, nodeLocal },
          input: options.input,
          pc,
          namespace: vol.namespace,
          seedClaim: vol.claimName,
          shared: {
            phase,
            message: d.message,
            digest: phase === "Ready" ? report?.manifestDigest : undefined,
            reason: phase === "Failed" && d.permanent !== undefined ? PERMANENT_REASON : undefined,
          },
          prev,
          fresh,
          cacheName: spec.cacheRef.name,
          cacheNamespace: xrNamespace,
          nowMs: now(),
          add,
        });
  if (nodes !== undefined) ttl = Math.max(1, Math.min(ttl, nodes.ttlSeconds));
  const sharedPhase = phase;
  const overall = nodes ?? { phase, message: d.message, ...(phase === "Failed" && d.permanent !== undefined ? { reason: PERMANENT_REASON } : {}) };

  // 7. Status, from observation only.
  const status = prune({
    phase: overall.phase,
    message: overall.message,
    sharedPhase: nodes !== undefined ? sharedPhase : undefined,
    nodes: nodes?.nodes as JsonValue | undefined,
    nodeSummary: nodes?.summary as JsonValue | undefined,
    claimName: vol.claimName,
    namespace: vol.namespace,
    mountPath: spec.mountPath,
    attempts: d.attempts,
    lastError: d.lastError,
    permanentFailure: d.permanent,
    observedRefetch: spec.refetch,
    jobName: runJob ?? recordJob,
    drift: d.drift ? true : undefined,
    oldVolumes: oldVolumes.length > 0 ? oldVolumes.slice(0, 16) : undefined,
    bytesDone: report?.bytesDone,
    bytesTotal: report?.bytesTotal,
    bytesPerSecond: sharedPhase === "Hydrating" ? report?.bytesPerSecond : undefined,
    etaSeconds: sharedPhase === "Hydrating" ? report?.etaSeconds : undefined,
    resolvedRevision: report?.resolvedRevision,
    manifestDigest: report?.manifestDigest,
  });

  return warnWhenStuck(withClamped(replicaAnswer(req, xr, ttl, status, composed, overall), tenancy.clamped), overall);
}
