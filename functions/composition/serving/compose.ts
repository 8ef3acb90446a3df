// The serving capability: a step placed after a platform's own steps in a
// serving composition. For each workload those steps composed that asks for
// caches (annotation modelcache.dev/caches), it reads each ModelCache as a
// required resource, gates the workload on the cache being verified with the
// pinned digest on the workload's cluster, and injects the volumes. Pure:
// the same request gives the same response. Everything else earlier steps
// desired passes through untouched.
import type { Serving } from "../../api/serving.ts";
import { API_VERSION, MODEL_CACHE_KIND } from "../../api/group.ts";
import { CLUSTER_ANNOTATION, MOUNTS_ANNOTATION } from "../../api/serving.ts";
import { capText } from "../../sdk/messages.ts";
import { passThrough } from "../../sdk/response.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, ResourceSelector, ResourceState } from "../../sdk/types.ts";
import { type ProviderConfigRef } from "../replica/objects.ts";
import { field, isObject, str } from "../../common/json.ts";
import { planBridge, claimSeenFrom, BRIDGE_KEY_PREFIX } from "./bridge.ts";
import { cacheOnCluster } from "./cache-view.ts";
import { decideGate, type CacheKnowledge, type GateDecision } from "./gate.ts";
import { clone, injectMounts, volumeName, type CacheMount } from "./inject.ts";
import { leaseKey, leaseResource } from "./leases.ts";
import { formatRecord, parseRecord, type MountRecord } from "./record.ts";
import { mayMount, parseCacheRef, requirementKey, type CacheRef } from "./refs.ts";
import { finish, type Line } from "./report.ts";

export { CONDITION_TYPE } from "./report.ts";
import { annotationsOf, findWorkloads, manifestOf, MAX_CACHES_PER_WORKLOAD, type Workload } from "./workloads.ts";

function cacheSelector(ref: CacheRef): ResourceSelector {
  return { apiVersion: API_VERSION, kind: MODEL_CACHE_KIND, match: { name: ref.name }, namespace: ref.namespace };
}

function knowledgeOf(req: FunctionRequest, ref: CacheRef, cluster: string): CacheKnowledge {
  const delivered = req.requiredResources[requirementKey(ref)];
  if (delivered === undefined) return { kind: "waiting" };
  const mc = delivered.find((r) => str(field(r, "metadata", "name")) === ref.name);
  if (mc === undefined) return { kind: "notFound" };
  const read = cacheOnCluster(mc, cluster);
  return read.ok ? { kind: "found", view: read.value } : { kind: "unreadable", message: read.error };
}

function providerConfigOf(w: Workload): ProviderConfigRef | undefined {
  const pc = field(w.resource, "spec", "providerConfigRef");
  const name = str(field(pc, "name"));
  if (!w.wrapped || name === undefined) return undefined;
  return { kind: str(field(pc, "kind")) === "ProviderConfig" ? "ProviderConfig" : "ClusterProviderConfig", name };
}

/** The observed workload as it was last composed: what a held-back change leaves in place. */
function lastComposed(observed: ResourceState): JsonObject {
  const r = observed.resource;
  const meta = isObject(r["metadata"]) ? r["metadata"] : {};
  const keep: JsonObject = {};
  for (const k of ["name", "namespace", "labels", "annotations"]) if (meta[k] !== undefined) keep[k] = meta[k] ?? null;
  const out: JsonObject = { apiVersion: r["apiVersion"] ?? null, kind: r["kind"] ?? null, metadata: keep };
  if (r["spec"] !== undefined) out["spec"] = r["spec"] ?? null;
  return out;
}

/** A copy of the workload's resource with `manifest` in place of its own. */
function withManifest(w: Workload, manifest: JsonObject): JsonObject {
  if (!w.wrapped) return manifest;
  const r = clone(w.resource);
  const spec = r["spec"] as JsonObject;
  spec["forProvider"] = { ...(spec["forProvider"] as JsonObject), manifest };
  return r;
}

function setAnnotation(m: JsonObject, key: string, value: string): void {
  const meta = isObject(m["metadata"]) ? m["metadata"] : {};
  m["metadata"] = meta;
  meta["annotations"] = { ...(isObject(meta["annotations"]) ? meta["annotations"] : {}), [key]: value };
}

interface Plan {
  ref: CacheRef;
  decision: GateDecision;
  /** The claim to inject (namespace on the cluster, name, digest), when the workload may keep or get one. */
  mount: MountRecord | undefined;
  mountPath: string | undefined;
  line: Line;
}

export function composeServing(req: FunctionRequest, serving: Serving): FunctionResponse {
  const xr = req.observed.composite?.resource ?? {};
  const consumerNamespace = str(field(xr, "metadata", "namespace")) ?? "";
  const consumer = { namespace: consumerNamespace, name: str(field(xr, "metadata", "name")) ?? "", kind: str(xr["kind"]) ?? "" };
  /** The record of use for each cache a composed pod template of `w` mounts, or that `w` waits for (no mount). */
  const lease = (w: Workload, mounts: Iterable<[string, MountRecord | undefined]>) => {
    for (const [cacheRef, mount] of mounts) {
      const [namespace = "", name = ""] = cacheRef.split("/");
      rsp.desired.resources[leaseKey(w.key, cacheRef)] = leaseResource({
        consumer,
        resource: w.key,
        workload: w.display,
        cache: { namespace, name },
        cluster: w.cluster ?? "",
        mount,
      });
    }
  };
  const workloads = findWorkloads(req.desired.resources);
  const rsp = passThrough(req);
  const requirements: Record<string, ResourceSelector> = {};
  const lines: Line[] = [];
  const results: { severity: "Warning"; reason: string; message: string }[] = [];
  let anyHeld = false;

  for (const w of workloads) {
    const observed = req.observed.resources[w.key];
    const previous = parseRecord(annotationsOf(observed ? manifestOf(observed.resource) : undefined)[MOUNTS_ANNOTATION]);
    const blockAll = (message: string) =>
      w.caches
        .slice(0, MAX_CACHES_PER_WORKLOAD)
        .map((c) => ({ resource: w.key, workload: w.display, cache: c, ...(w.cluster ? { cluster: w.cluster } : {}), state: "Blocked" as const, message }));

    // What cannot be decided per cache: the workload itself.
    const refs: CacheRef[] = [];
    const bad: string[] = [];
    if (w.caches.length > MAX_CACHES_PER_WORKLOAD)
      bad.push(`modelcache.dev/caches names ${w.caches.length} caches; a workload may mount at most ${MAX_CACHES_PER_WORKLOAD}`);
    for (const c of w.caches.slice(0, MAX_CACHES_PER_WORKLOAD)) {
      const p = parseCacheRef(c, consumerNamespace);
      if (p.ok) refs.push(p.value);
      else bad.push(p.error);
    }
    // A cache the tenant may not use is not even read: its state is another tenant's business.
    const verdicts = new Map(refs.map((r) => [r.ref, mayMount(r, consumerNamespace, serving.tenancy.grants)]));
    let workloadBlock: string | undefined;
    if (w.kind === undefined)
      workloadBlock = `${w.display}: ${str(w.manifest["apiVersion"]) ?? ""} ${str(w.manifest["kind"]) ?? ""} is not a workload kind this step mounts into (Deployment, StatefulSet, LeaderWorkerSet, InferenceService)`;
    else if (bad.length > 0) workloadBlock = `${w.display}: ${bad.join("; ")}`;
    else if (w.cluster === undefined)
      workloadBlock = `${w.display}: no cluster: annotate ${w.wrapped ? "the Object" : "the workload"} with ${CLUSTER_ANNOTATION}: <cluster name as the ModelCache's status.clusters names it>`;
    if (workloadBlock !== undefined) {
      holdBack(w, observed, undefined, blockAll(workloadBlock), previous);
      continue;
    }
    const cluster = w.cluster ?? "";
    for (const r of refs) if (verdicts.get(r.ref)?.allowed === true) requirements[requirementKey(r)] = cacheSelector(r);

    const plans: Plan[] = refs.map((ref) => {
      const tenancy = verdicts.get(ref.ref) ?? { allowed: false, reason: `ModelCache ${ref.ref}: no tenancy verdict` };
      const knowledge: CacheKnowledge = tenancy.allowed ? knowledgeOf(req, ref, cluster) : { kind: "waiting" };
      const prevRecord = previous.get(ref.ref);
      const decision = decideGate({
        cache: ref.ref,
        cluster,
        knowledge,
        tenancy,
        previous: prevRecord ? { claimName: prevRecord.claimName, manifestDigest: prevRecord.manifestDigest } : undefined,
      });
      const view = knowledge.kind === "found" ? knowledge.view : undefined;
      const line: Line = { resource: w.key, workload: w.display, cache: ref.ref, cluster, state: decision.state, message: decision.reason };
      if (view?.phase !== undefined) line.phase = view.phase;
      if (view?.bytesDone !== undefined) line.bytesDone = view.bytesDone;
      if (view?.bytesTotal !== undefined) line.bytesTotal = view.bytesTotal;
      if (view?.etaSeconds !== undefined && view.phase !== "Ready") line.etaSeconds = view.etaSeconds;
      let mount: MountRecord | undefined;
      if (decision.action === "mount") mount = { namespace: view?.namespace ?? "", claimName: decision.claimName, manifestDigest: decision.manifestDigest };
      else if (decision.action === "keepPrevious") mount = prevRecord;
      // The mount path is intrinsic to the cache; while it cannot be read, the one last mounted stands.
      const mountPath = view?.mountPath ?? previousMountPath(observed, w, ref);
      return { ref, decision, mount, mountPath, line };
    });

    // Another namespace than the cache's on the cluster: share the volume read-only through a second claim.
    const pc = providerConfigOf(w);
    const bridged = (p: Plan, m: MountRecord): { kind: "ready" } | { kind: "pending" | "blocked"; message: string } => {
      if (m.namespace === "" || m.namespace === w.namespace) return { kind: "ready" };
      if (pc === undefined)
        return {
          kind: "blocked",
          message: `${w.display} runs in namespace ${w.namespace || "(none)"} and the cache's volume in ${m.namespace}: a workload composed bare cannot share it; wrap it in a provider-kubernetes Object or run it in ${m.namespace}`,
        };
      const knowledge = knowledgeOf(req, p.ref, cluster);
      const b = planBridge({
        cluster,
        providerConfigRef: pc,
        claimName: m.claimName,
        cacheNamespace: m.namespace,
        workloadNamespace: w.namespace,
        accessMode: knowledge.kind === "found" ? knowledge.view.accessMode : undefined,
        observed: req.observed.resources,
      });
      Object.assign(rsp.desired.resources, b.resources);
      return b.state;
    };
    for (const p of plans) {
      if (p.mount === undefined) continue;
      const b = bridged(p, p.mount);
      if (b.kind === "ready") continue;
      const prevRecord = previous.get(p.ref.ref);
      // A new revision's second claim not bound yet: stay on the previous one, whose bridge stands.
      if (p.decision.action === "mount" && prevRecord !== undefined && prevRecord.claimName !== p.mount.claimName && bridged(p, prevRecord).kind === "ready") {
        p.mount = prevRecord;
        p.line.state = "RolloutPending";
        p.line.message = `${p.line.message}, but ${b.message}; the workload keeps ${prevRecord.claimName}`;
        continue;
      }
      p.line.state = b.kind === "pending" ? "Held" : "Blocked";
      p.line.message = `${p.line.message}; ${b.message}`;
      p.mount = undefined;
    }

    if (plans.every((p) => p.mount !== undefined && p.mountPath !== undefined)) {
      const manifest = clone(w.manifest);
      const mounts: CacheMount[] = plans.map((p) => ({
        cache: p.ref.ref,
        volumeName: volumeName(p.ref.ref),
        claimName: p.mount === undefined ? "" : claimSeenFrom(p.mount.claimName, p.mount.namespace, w.namespace),
        mountPath: p.mountPath ?? "",
      }));
      const conflicts = w.kind
        ? injectMounts(
            w.kind.sites(manifest),
            mounts,
            serving.mountInto === "AllContainers" ? { mode: "AllContainers" } : { mode: "AnnotatedContainers", names: w.containers },
          )
        : [];
      if (conflicts.length > 0) {
        holdBack(w, observed, undefined, blockAll(`${w.display}: ${conflicts.join("; ")}`), previous);
        continue;
      }
      setAnnotation(manifest, MOUNTS_ANNOTATION, formatRecord(new Map(plans.map((p) => [p.ref.ref, p.mount as MountRecord]))));
      for (const p of plans) {
        if (p.mount !== undefined) p.line.claimName = claimSeenFrom(p.mount.claimName, p.mount.namespace, w.namespace);
        if (p.mount?.manifestDigest !== undefined) p.line.manifestDigest = p.mount.manifestDigest;
      }
      const earlier = req.desired.resources[w.key];
      rsp.desired.resources[w.key] = {
        resource: withManifest(w, manifest),
        connectionDetails: earlier?.connectionDetails ?? {},
        ready: earlier?.ready ?? "Unspecified",
      };
      lease(
        w,
        plans.map((p) => [p.ref.ref, p.mount as MountRecord]),
      );
      lines.push(...plans.map((p) => p.line));
      continue;
    }
    // Some cache is not verified for it: stop it if it serves bytes no longer vouched for, else hold the change back.
    const revoked = plans.some((p) => p.decision.action === "hold" && previous.has(p.ref.ref));
    holdBack(
      w,
      observed,
      revoked ? plans : undefined,
      plans.map((p) => p.line),
      previous,
    );
  }

  /**
   * Not composed when it never was; when it was: stopped (scaled to zero, or
   * KServe's stop) if it mounts bytes no longer vouched for, else left exactly
   * as last composed. Never deleted: removing a serving workload is not ours.
   */
  function holdBack(
    w: Workload,
    observed: ResourceState | undefined,
    stopWith: Plan[] | undefined,
    held: Line[],
    previous: ReadonlyMap<string, MountRecord> = new Map(),
  ): void {
    anyHeld = true;
    // The demand: a cache it waits for on its cluster (allowed, only not verified there yet) is recorded as Waiting,
    // which keeps the cache from being released and brings a released one back.
    const waiting = (except: ReadonlySet<string>) => {
      if (w.cluster === undefined) return;
      lease(
        w,
        held.filter((l) => l.state === "Held" && !except.has(l.cache)).map((l) => [l.cache, undefined] as [string, undefined]),
      );
    };
    if (observed === undefined) {
      waiting(new Set());
      rsp.desired.resources = Object.fromEntries(Object.entries(rsp.desired.resources).filter(([k]) => k !== w.key));
      lines.push(...held.map((l) => ({ ...l, message: `${l.message}; ${w.display} is not composed until then` })));
      return;
    }
    if (stopWith !== undefined && w.kind !== undefined) {
      // Keep the mounts it has (so the template does not roll; no pod runs to read them), then stop it.
      const manifest = clone(w.manifest);
      const kept = stopWith.flatMap((p) => {
        const m = p.mount ?? previous.get(p.ref.ref);
        return m !== undefined && p.mountPath !== undefined ? [{ ref: p.ref.ref, m, mountPath: p.mountPath }] : [];
      });
      const choice = serving.mountInto === "AllContainers" ? { mode: "AllContainers" as const } : { mode: "AnnotatedContainers" as const, names: w.containers };
      const conflicts = injectMounts(
        w.kind.sites(manifest),
        kept.map((k) => ({
          cache: k.ref,
          volumeName: volumeName(k.ref),
          claimName: claimSeenFrom(k.m.claimName, k.m.namespace, w.namespace),
          mountPath: k.mountPath,
        })),
        choice,
      );
      if (conflicts.length === 0 || kept.length === 0) {
        const how = w.kind.stop(manifest);
        setAnnotation(manifest, MOUNTS_ANNOTATION, formatRecord(new Map(kept.map((k) => [k.ref, k.m]))));
        const earlier = req.desired.resources[w.key];
        rsp.desired.resources[w.key] = { resource: withManifest(w, manifest), connectionDetails: earlier?.connectionDetails ?? {}, ready: "False" };
        for (const l of held) {
          const stopped = l.state === "Held" ? { state: "Stopped" as const } : {};
          lines.push({ ...l, ...stopped, message: `${l.message}; ${w.display} is ${how}` });
        }
        waiting(new Set());
        results.push({
          severity: "Warning",
          reason: "WorkloadStopped",
          message: capText(
            `${w.display} is ${how}: ${held
              .filter((l) => l.state !== "Mounted")
              .map((l) => l.message)
              .join("; ")}`,
            1024,
          ),
        });
        return;
      }
    }
    rsp.desired.resources[w.key] = { ...observed, resource: lastComposed(observed) };
    // As last composed, it still mounts what it recorded then.
    lease(w, previous);
    waiting(new Set(previous.keys()));
    lines.push(...held.map((l) => ({ ...l, message: `${l.message}; ${w.display} stays as last composed` })));
  }

  // The bridges an earlier call composed that this one did not: kept while observed (a transient gap must not unmount).
  for (const [key, st] of Object.entries(req.observed.resources))
    if (key.startsWith(BRIDGE_KEY_PREFIX) && rsp.desired.resources[key] === undefined && workloads.length > 0 && lines.some((l) => l.state !== "Mounted"))
      rsp.desired.resources[key] = { ...st, resource: lastComposed(st) };

  return finish(req, rsp, lines, results, anyHeld, requirements);
}

function previousMountPath(observed: ResourceState | undefined, w: Workload, ref: CacheRef): string | undefined {
  if (observed === undefined || w.kind === undefined) return undefined;
  const m = manifestOf(observed.resource);
  if (m === undefined) return undefined;
  const name = volumeName(ref.ref);
  for (const site of w.kind.sites(clone(m)))
    for (const { container } of site.containers) {
      const vms = container["volumeMounts"];
      if (!Array.isArray(vms)) continue;
      for (const vm of vms) if (isObject(vm) && vm["name"] === name && typeof vm["mountPath"] === "string") return vm["mountPath"];
    }
  return undefined;
}
