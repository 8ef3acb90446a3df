// ModelCache at the fleet level: select clusters, fan out one
// ModelCacheReplica per selected cluster, pin the bytes, report the fleet.
// Pure: the same request always gives the same response.
import type { Input } from "../../api/input.ts";
import { EXPLAIN_ANNOTATION, type ClusterStatus, type ModelCacheStatus } from "../../api/modelcache.ts";
import type { ModelCacheSpec } from "../../api/modelcache.ts";
import { needsSharedClass } from "../replica/node-seed.ts";
import { fatal, passThrough, withResult } from "../../sdk/response.ts";
import type { FunctionRequest, FunctionResponse, JsonObject, KnownResource, ResourceSelector, ResourceState, Result } from "../../sdk/types.ts";
import type { CompileSelector, SelectorProgram } from "./cel.ts";
import { compileWithCelEnvironment, replayAlwaysFits } from "./cel-environment.ts";
import { pinnedCondition, readyCondition, selectedCondition, waitingCondition, nameList } from "./conditions.ts";
import { transitionEvents } from "./events.ts";
import { fleetPreviousClaims, replicaContract } from "./contract.ts";
import { desiredContracts, observedContracts, withEveryContractKept } from "./contract-maps.ts";
import { replicaResource, type FanoutContext } from "./fanout.ts";
import { identityHash, sourceLine } from "./identity.ts";
import { replicaKey } from "./names.ts";
import { parseCache, parseInput, parseSpec, type Cache } from "./parse.ts";
import { decidePin } from "./pin.ts";
import { keepUnchanged, observedReplicas, withEveryReplicaKept, type ObservedReplica } from "./replicas.ts";
import { byName, selectDelivered, type Delivered, type Outcome } from "./select.ts";
import { contextDigest, type SelectionCache } from "./selection-cache.ts";
import { decideCluster, type ClusterNotes, type DecisionContext } from "./cluster-decision.ts";
import { compositeStatus, isAllReady, summarize } from "./status.ts";
import { applyEviction, readUses, useRequirement } from "./eviction.ts";
import { compileNodeSelector, withNodes, type NodeProgram } from "./nodes.ts";
import { clampedHydration, clampedWarning, fleetTenancy, refusal, TENANCY_REASON, volumeName, type FleetTenancy } from "./tenancy.ts";

/** The required-resources key the clusters are delivered under. */
export const CLUSTERS_REQUIREMENT = "clusters";
/** The key of the requirement, by name, for a replica's cluster that the narrowed answer does not hold: `cluster:<name>`. */
export const CLUSTER_BY_NAME_PREFIX = "cluster:";

/** The requirements whose objects the fleet reads from their bytes itself (decode-request.ts, `encoded`; select.ts). */
export function isClusterRequirement(key: string): boolean {
  return key === CLUSTERS_REQUIREMENT || key.startsWith(CLUSTER_BY_NAME_PREFIX);
}
/** Requeue sooner while bytes are moving, so progress in status stays fresh. */
export const HYDRATING_TTL_SECONDS = 15;
export const DEFAULT_TTL_SECONDS = 60;

export interface FleetOptions {
  defaultHydratorImage: string;
  /** The CEL environment; tests may hand in another. */
  compileSelector?: CompileSelector;
  /** Milliseconds since the epoch; read only with spec.eviction, to time disuse. */
  now?: () => number;
  /**
   * Remembers each cluster's selection by its bytes (selection-cache.ts); one per worker. Used for
   * clusters delivered as bytes (request.encodedResources), and only with the project's own CEL
   * environment (a compileSelector handed in is not part of the cache's key).
   */
  selectionCache?: SelectionCache;
}

/**
 * The clusters that can match: the Input's labels (the platform's scope) and the cache's own
 * `clusterSelector.matchLabels`, which Crossplane's label selector applies as well, so it sends only
 * those. On a key both set, the Input's value is asked for: the cache's then matches nothing, and its
 * own selector says so, cluster by cluster. Without the cache (an unreadable one), or when the cache
 * asks for its selection explained (status.notSelected lists every cluster, the labels' reasons too),
 * the Input's alone.
 */
export function clustersRequirement(input: Input, cache?: Pick<Cache, "spec" | "annotations">): Record<string, ResourceSelector> {
  // Explaining the selection means every cluster of the type, each with why it is not selected: not narrowed.
  const narrow = cache !== undefined && cache.annotations[EXPLAIN_ANNOTATION] !== "true" ? cache.spec.clusterSelector.matchLabels : undefined;
  const sel: ResourceSelector = {
    apiVersion: input.clusters.apiVersion,
    kind: input.clusters.kind,
    match: { labels: { ...(narrow ?? {}), ...(input.clusters.matchLabels ?? {}) } },
  };
  if (input.clusters.namespace !== undefined) sel.namespace = input.clusters.namespace;
  return { [CLUSTERS_REQUIREMENT]: sel };
}

/** One cluster by name: for a replica whose cluster the narrowed answer does not hold (stopped matching, vanished, or a gap). */
export function clusterByNameRequirement(input: Input, name: string): Record<string, ResourceSelector> {
  const sel: ResourceSelector = { apiVersion: input.clusters.apiVersion, kind: input.clusters.kind, match: { name } };
  if (input.clusters.namespace !== undefined) sel.namespace = input.clusters.namespace;
  return { [`${CLUSTER_BY_NAME_PREFIX}${name}`]: sel };
}

function compact<T extends object>(v: T): JsonObject {
  // Status and specs are built from JSON and zod output; this drops undefined keys for the wire.
  return JSON.parse(JSON.stringify(v)) as JsonObject;
}

function withStatus(req: FunctionRequest, rsp: FunctionResponse, status: ModelCacheStatus, ready: ResourceState["ready"]): FunctionResponse {
  const observed = req.observed.composite?.resource ?? {};
  const base: JsonObject = req.desired.composite?.resource ?? { apiVersion: observed["apiVersion"] ?? null, kind: observed["kind"] ?? null };
  const earlier = base["status"];
  const merged = typeof earlier === "object" && earlier !== null && !Array.isArray(earlier) ? { ...earlier, ...compact(status) } : compact(status);
  return {
    ...rsp,
    desired: { ...rsp.desired, composite: { resource: { ...base, status: merged }, connectionDetails: req.desired.composite?.connectionDetails ?? {}, ready } },
  };
}

interface Entry {
  status: ClusterStatus;
  desired?: ResourceState;
}

/** A Fatal result that keeps every replica and contract already composed (withEveryReplicaKept says why). */
function fatalKeeping(req: FunctionRequest, message: string, reason?: string): FunctionResponse {
  const rsp = fatal(req, message, reason);
  const resources = withEveryContractKept(req.observed.resources, withEveryReplicaKept(req.observed.resources, rsp.desired.resources));
  return { ...rsp, desired: { ...rsp.desired, resources } };
}

export function composeFleet(req: FunctionRequest, options: FleetOptions): FunctionResponse {
  const input = parseInput(req.input);
  if (!input.ok) return fatalKeeping(req, `invalid function input: ${input.message}`);
  const requirements = { resources: clustersRequirement(input.value) };
  const fail = (message: string, reason?: string) => ({ ...fatalKeeping(req, message, reason), requirements });

  const parsed = parseCache(req.observed.composite?.resource);
  if (!parsed.ok) return fail(`invalid ModelCache: ${parsed.message}`);
  const cache = parsed.value;
  requirements.resources = clustersRequirement(input.value, cache);
  // With spec.eviction, who uses the cache on which cluster (serving/leases.ts); the same on every call.
  if (cache.spec.eviction !== undefined) requirements.resources = { ...requirements.resources, ...useRequirement(cache.name, cache.namespace) };
  // The platform's policy before anything else: a cache outside it gets nothing new.
  const tenancy = fleetTenancy(cache, input.value);
  const refused = refusal(tenancy);
  if (refused !== undefined) return fail(refused, TENANCY_REASON);

  let program: SelectorProgram | undefined;
  const expr = cache.spec.clusterSelector.cel;
  if (expr !== undefined && expr.trim() !== "") {
    const compiled = (options.compileSelector ?? compileWithCelEnvironment)(expr);
    if (!compiled.ok) return fail(`invalid ModelCache: spec.clusterSelector.cel: ${compiled.message}`, "InvalidSelector");
    program = compiled.program;
  }
  // replication: AllMatchingNodes: the node selector compiles once per call too (fleet/nodes.ts).
  let nodeProgram: NodeProgram | undefined;
  const nodeExpr = cache.spec.nodeSelector?.cel;
  if (cache.spec.replication === "AllMatchingNodes" && nodeExpr !== undefined && nodeExpr.trim() !== "") {
    const compiled = compileNodeSelector(nodeExpr);
    if (!compiled.ok) return fail(`invalid ModelCache: spec.nodeSelector.cel: ${compiled.message}`, "InvalidSelector");
    nodeProgram = compiled.program;
  }

  const contracts = observedContracts(req.observed.resources);
  const replicas = observedReplicas(req.observed.resources, input.value.replica.kind, contracts);
  const base: FunctionResponse = { ...passThrough(req, DEFAULT_TTL_SECONDS), requirements };
  const narrow = deliveredClusters(req, CLUSTERS_REQUIREMENT);
  if (narrow === undefined) {
    // Before the answer: ask already for the clusters the last reconcile found stopped matching, so a
    // fleet that holds retained replicas settles in two calls, as one without does.
    for (const line of cache.observedStatus.clusters ?? [])
      if (line.selected === false && replicas.has(line.name)) Object.assign(requirements.resources, clusterByNameRequirement(input.value, line.name));
    return waiting(req, base, cache, input.value, replicas);
  }
  // Node replication reads each selected cluster's node list from its object (nodes.ts): those calls decode
  // every delivered cluster, and do not use the selection cache.
  const nodeLocal = cache.spec.replication === "AllMatchingNodes";
  const narrowed = nodeLocal ? decodedAll(narrow) : { ok: true as const, items: narrow };
  if (!narrowed.ok)
    return fail(
      `function-model-cache ${narrowed.refused ? "refused" : "could not read"} the request: ${narrowed.message}`,
      narrowed.refused ? "RequestRefused" : "InternalError",
    );
  const context = memoContext(cache.spec, input.value, options);
  const memo = options.selectionCache !== undefined && context !== undefined ? { cache: options.selectionCache, context } : undefined;
  const selected = selectDelivered(narrowed.items, selectionSpec(cache.spec, input.value), input.value.clusters.fields, program, memo);
  if (!selected.ok)
    return fail(
      `function-model-cache ${selected.refused ? "refused" : "could not read"} the request: ${selected.message}`,
      selected.refused ? "RequestRefused" : "InternalError",
    );
  const found = new Set(selected.outcomes.map((o) => o.name));
  // A replica whose cluster the narrowed answer does not hold: asked for by name (the same on every call
  // of this reconcile once the answer is in, so Crossplane's loop settles), then decided from what comes.
  const named: Delivered[] = [];
  for (const r of replicas.values()) {
    if (found.has(r.cluster)) continue;
    Object.assign(requirements.resources, clusterByNameRequirement(input.value, r.cluster));
    named.push(...inScope(deliveredClusters(req, `${CLUSTER_BY_NAME_PREFIX}${r.cluster}`), r.cluster, input.value));
  }
  const more = selectDelivered(named, selectionSpec(cache.spec, input.value), input.value.clusters.fields, program);
  if (!more.ok)
    return fail(
      `function-model-cache ${more.refused ? "refused" : "could not read"} the request: ${more.message}`,
      more.refused ? "RequestRefused" : "InternalError",
    );
  const outcomes = [...selected.outcomes, ...more.outcomes.filter((o) => !found.has(o.name))].sort(byName);
  const clusters = nodeLocal ? [...narrowed.items, ...named].flatMap((d) => ("object" in d ? [d.object] : [])) : [];
  return compose(req, base, { cache, input: input.value, tenancy, options, replicas, contracts, outcomes, clusters, program, nodeProgram });
}

/** The selection cache's context for this spec and Input (selection-cache.ts), or undefined where the cache is not used. */
function memoContext(spec: ModelCacheSpec, input: Input, options: FleetOptions): string | undefined {
  // Node replication decodes every cluster (nodes.ts); a CEL environment handed in is not part of the key.
  if (options.selectionCache === undefined || options.compileSelector !== undefined || spec.replication === "AllMatchingNodes") return undefined;
  return contextDigest({ spec, fields: input.clusters.fields });
}

/**
 * What the selection cache knows of a delivered cluster's bytes, for a request whose observed composite and Input
 * are these (read before its clusters arrive: stream-request.ts): its remembered selection, when composeFleet
 * would use it as it is, so the bytes need not be kept. Only outcomes whose CEL cost fits any call's budget
 * (replayAlwaysFits): another may have to be evaluated again (select.ts), which needs the bytes.
 */
export function knownSelections(
  composite: JsonObject | undefined,
  inputObject: JsonObject | undefined,
  options: FleetOptions,
): { known(digest: string): KnownResource | undefined } | undefined {
  const cache = options.selectionCache;
  const input = parseInput(inputObject);
  const spec = parseSpec(composite);
  if (cache === undefined || !input.ok || !spec.ok) return undefined;
  const context = memoContext(spec.value, input.value, options);
  if (context === undefined) return undefined;
  return {
    known(digest) {
      const hit = cache.peek(context, digest);
      return hit !== undefined && (hit.cel === undefined || replayAlwaysFits(hit.cel)) ? { context, value: hit } : undefined;
    },
  };
}

/**
 * The spec as eligibility reads it: node copies that may come from the source (nodeLocal.seed Source, or Auto
 * where input.tenancy.nodeLocal.seedFromSource allows it) need no class for a shared copy, so a cluster without
 * one is selected rather than Blocked; its replica decides the seed (replica/node-seed.ts).
 */
function selectionSpec(spec: ModelCacheSpec, input: Input): ModelCacheSpec {
  if (spec.replication !== "AllMatchingNodes" || spec.nodeLocal === undefined) return spec;
  if (needsSharedClass(spec.nodeLocal.seed, input.tenancy.nodeLocal.seedFromSource)) return spec;
  return { ...spec, nodeLocal: { ...spec.nodeLocal, seed: "Source" } };
}

/** Every item decoded (node replication needs the objects); the first that cannot be read fails them all. */
function decodedAll(items: Delivered[]): { ok: true; items: Delivered[] } | { ok: false; message: string; refused: boolean } {
  const out: Delivered[] = [];
  for (const item of items) {
    if ("object" in item) {
      out.push(item);
      continue;
    }
    const d = item.encoded.decode();
    if (!d.ok) return d;
    out.push({ object: d.resource });
  }
  return { ok: true, items: out };
}

/** A requirement's answer, as objects or as bytes; undefined when it has not been delivered (not the same as delivered empty). */
function deliveredClusters(req: FunctionRequest, key: string): Delivered[] | undefined {
  const encoded = req.encodedResources?.[key];
  if (encoded !== undefined) return encoded.map((e) => ({ encoded: e }));
  return req.requiredResources[key]?.map((object) => ({ object }));
}

/**
 * What a by-name answer may be decided on: the named cluster, if it is still in the platform's scope (the
 * Input's labels). One outside it is as if not delivered, exactly as it was before it was asked by name:
 * its replica is kept, never selected again by the cache's selector alone.
 */
function inScope(items: Delivered[] | undefined, name: string, input: Input): Delivered[] {
  const out: Delivered[] = [];
  for (const item of items ?? []) {
    let object: JsonObject;
    if ("object" in item) object = item.object;
    else {
      const d = item.encoded.decode();
      // Unreadable: left to selection, which words the error as for any cluster.
      if (!d.ok) {
        out.push(item);
        continue;
      }
      object = d.resource;
    }
    const meta = object["metadata"];
    const m = typeof meta === "object" && meta !== null && !Array.isArray(meta) ? meta : {};
    if (m["name"] !== name) continue;
    const labels = typeof m["labels"] === "object" && m["labels"] !== null && !Array.isArray(m["labels"]) ? m["labels"] : {};
    if (Object.entries(input.clusters.matchLabels ?? {}).every(([k, v]) => labels[k] === v)) out.push({ object });
  }
  return out;
}

/** Until the clusters arrive: keep every replica and contract, re-assert the last status, decide nothing. */
function waiting(req: FunctionRequest, base: FunctionResponse, cache: Cache, input: Input, replicas: Map<string, ObservedReplica>): FunctionResponse {
  const resources = withEveryContractKept(req.observed.resources, base.desired.resources);
  for (const r of replicas.values()) if (resources[r.key] === undefined) resources[r.key] = keepUnchanged(r);
  const rsp: FunctionResponse = {
    ...base,
    ttlSeconds: HYDRATING_TTL_SECONDS,
    desired: { ...base.desired, resources },
    conditions: [waitingCondition(input.clusters.kind, replicas.size)],
  };
  return withStatus(req, rsp, cache.observedStatus, "False");
}

interface ComposeArgs {
  cache: Cache;
  input: Input;
  tenancy: FleetTenancy;
  options: FleetOptions;
  replicas: Map<string, ObservedReplica>;
  /** Contract specs observed in their ConfigMaps, by hash. */
  contracts: ReadonlyMap<string, JsonObject>;
  /** Every delivered cluster's selection, in name order. */
  outcomes: Outcome[];
  /** The delivered clusters' objects, with replication AllMatchingNodes only (nodes.ts reads their node lists). */
  clusters: JsonObject[];
  program: SelectorProgram | undefined;
  nodeProgram: NodeProgram | undefined;
}

function compose(req: FunctionRequest, base: FunctionResponse, a: ComposeArgs): FunctionResponse {
  const { cache, input } = a;
  const artifact = cache.spec.artifact;
  const identity = identityHash(artifact);
  const storage = cache.spec.storage;
  const existing = storage.backend === "ExistingPVC" ? storage.existingPVC : undefined;
  const claimName = existing !== undefined ? existing.claimName : volumeName(cache, identity, a.replicas.values());
  const mountPath = cache.spec.mountPath ?? `/models/${cache.name}`;
  const source = sourceLine(artifact);
  // The tenant's own namespace on every cluster; an existing claim may live in a granted one.
  const namespace = a.tenancy.namespace;
  const volume = { claimName, namespace: existing?.namespace ?? namespace, mountPath };

  const clusterOutcomes = a.outcomes;
  const byNode =
    cache.spec.replication === "AllMatchingNodes"
      ? withNodes({
          outcomes: clusterOutcomes,
          clusters: a.clusters,
          path: input.clusters.fields.nodes,
          selector: cache.spec.nodeSelector ?? {},
          policy: input.tenancy.nodeLocal,
          program: a.nodeProgram,
          // The nodes each replica reports a copy on keep their place when more match than the platform allows.
          holding: new Map(
            [...a.replicas.values()].map((r) => [r.cluster, new Set((r.status.nodes ?? []).filter((n) => n.selected !== false).map((n) => n.name))]),
          ),
        })
      : { outcomes: clusterOutcomes, celErrors: [], overLimit: [], notSelected: [] };
  const outcomes = byNode.outcomes;
  const sortedReplicas = [...a.replicas.values()].sort((x, y) => (x.cluster < y.cluster ? -1 : x.cluster > y.cluster ? 1 : 0));
  const pin = decidePin({ artifact, identity, claimName, previous: cache.observedStatus.pin, replicas: sortedReplicas });
  // One contract for every replica this call composes; the volumes of earlier revisions any of them still keeps are listed in it.
  const selectedPrev = outcomes.filter((o) => o.kind === "selected").map((o) => a.replicas.get(o.name));
  const contract = replicaContract({
    cache,
    namespace,
    hydration: clampedHydration(cache.written, a.tenancy),
    claimName,
    mountPath,
    hydratorImage: input.hydratorImage ?? a.options.defaultHydratorImage,
    pin,
    previousClaimNames: fleetPreviousClaims(claimName, selectedPrev),
  });
  const ctx: FanoutContext = { cache, input, contractHash: contract.hash };

  // One decision per delivered cluster, and one per replica whose cluster was not delivered at all.
  const delivered = new Set(outcomes.map((o) => o.name));
  const dc: DecisionContext = { artifact, pin, volume, whenUnselected: cache.spec.retention.whenUnselected, clusterKind: input.clusters.kind };
  const decided = [
    ...outcomes.map((o) => decideCluster(o, a.replicas.get(o.name), dc)),
    ...sortedReplicas.filter((r) => !delivered.has(r.cluster)).map((r) => decideCluster({ kind: "undelivered", name: r.cluster }, r, dc)),
  ];
  // With spec.eviction, disuse may release a composed copy, and use brings a released one back (eviction.ts).
  const eviction = cache.spec.eviction;
  const evicted =
    eviction === undefined
      ? { decisions: decided, released: [] as string[], retryInSeconds: undefined }
      : applyEviction(decided, {
          eviction,
          uses: readUses(req, `${cache.namespace}/${cache.name}`),
          previous: cache.observedStatus.clusters ?? [],
          retention: cache.spec.retention.whenUnselected,
          now: (a.options.now ?? Date.now)(),
        });
  const decisions = evicted.decisions;
  const released = evicted.released;
  const evictionRetry = evicted.retryInSeconds;
  const facts = new Map(outcomes.flatMap((o) => (o.kind === "selected" ? [[o.name, o.facts] as const] : [])));
  const entries = new Map<string, Entry>();
  for (const d of decisions) {
    const prev = a.replicas.get(d.name);
    const ready: ResourceState["ready"] = d.status?.phase === "Ready" ? "True" : "False";
    const selectedFacts = facts.get(d.name);
    const desired: ResourceState | undefined =
      d.replica === "compose" && selectedFacts !== undefined
        ? { resource: replicaResource(ctx, selectedFacts, prev?.name), connectionDetails: {}, ready }
        : d.replica === "keep" && prev !== undefined
          ? keepUnchanged(prev)
          : undefined;
    if (d.status !== undefined) entries.set(d.name, { status: d.status, ...(desired ? { desired } : {}) });
  }
  const noted = (k: keyof ClusterNotes) => decisions.filter((d) => d.notes[k] !== undefined);
  const names = (k: keyof ClusterNotes) => noted(k).map((d) => d.name);
  const [created, drifted, kept, retained, removed] = [names("created"), names("drifted"), names("kept"), names("retained"), names("removed")];
  const evalErrors = noted("celError").map((d) => `${d.name}: ${d.notes.celError}`);
  const unreadable = noted("unreadable").map((d) => d.notes.unreadable as string);
  // With AllMatchingNodes, the nodes of selected clusters that are not selected too (`<cluster>/<node>`).
  const notSelected = [...noted("notSelected").map((d) => ({ name: d.name, reason: d.notes.notSelected as string })), ...byNode.notSelected];
  const results: Result[] = [];

  const clusters = [...entries.entries()].map(([name, e]) => ({ ...e.status, name })).sort(byName);
  const summary = summarize(clusters);
  const explain = cache.annotations[EXPLAIN_ANNOTATION] === "true";
  const status = compositeStatus({
    clusters,
    summary,
    source,
    pin,
    volume,
    contract: { hash: contract.hash },
    notSelected: explain ? notSelected.sort(byName) : undefined,
  });

  // A kept replica stays under the key it was observed with.
  const observedKeys = new Map([...a.replicas.values()].map((r) => [r.cluster, r.key]));
  // The contracts first: the current one, and each an observed replica still names (contract-maps.ts says why).
  const resources = { ...base.desired.resources, ...desiredContracts(cache, contract, selectedPrev.length > 0, a.replicas.values(), a.contracts) };
  for (const [name, e] of [...entries.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
    if (e.desired) resources[observedKeys.get(name) ?? replicaKey(name)] = e.desired;

  const clamped = clampedWarning(a.tenancy);
  if (clamped !== undefined) results.push(clamped);
  const prevPin = cache.observedStatus.pin;
  if (
    pin !== undefined &&
    (prevPin === undefined ||
      prevPin.identity !== pin.identity ||
      prevPin.resolvedRevision !== pin.resolvedRevision ||
      prevPin.manifestDigest !== pin.manifestDigest)
  )
    results.push({ severity: "Normal", reason: "ArtifactPinned", message: pinnedCondition(pin, source).message ?? "", target: "Composite" });
  if (drifted.length)
    results.push({
      severity: "Warning",
      reason: "DriftDetected",
      message: `${drifted.length} cluster(s) hold bytes other than the pinned manifest: ${nameList(drifted)}`,
      target: "Composite",
    });
  if (retained.length)
    results.push({
      severity: "Warning",
      reason: "ClusterUnselected",
      message: `${retained.length} cluster(s) no longer match spec.clusterSelector and keep their replica and data (spec.retention.whenUnselected: Retain): ${nameList(retained)}`,
      target: "Composite",
    });
  if (released.length)
    results.push({
      severity: "Normal",
      reason: "CacheReleased",
      message: `${released.length} cluster(s) released their copy after spec.eviction.ttl (${eviction?.ttl ?? ""}) unused; the volume is ${cache.spec.retention.whenUnselected === "Retain" ? "kept on the cluster, unmanaged" : "deleted"}: ${nameList(released)}`,
      target: "Composite",
    });
  if (removed.length)
    results.push({
      severity: "Normal",
      reason: "ReplicaRemoved",
      message: `${removed.length} cluster(s) no longer match spec.clusterSelector; their replicas are removed (spec.retention.whenUnselected: Delete): ${nameList(removed)}`,
      target: "Composite",
    });
  if (kept.length)
    results.push({
      severity: "Warning",
      reason: "ReplicaKept",
      message: `${kept.length} replica(s) kept unchanged because their cluster is missing, unreadable or blocked: ${nameList(kept)}`,
      target: "Composite",
    });
  if (evalErrors.length)
    results.push({
      severity: "Warning",
      reason: "SelectorEvaluationFailed",
      message: `spec.clusterSelector.cel failed on ${evalErrors.length} cluster(s), which are not selected: ${evalErrors.slice(0, 5).join("; ")}`,
      target: "Composite",
    });
  if (unreadable.length)
    results.push({
      severity: "Warning",
      reason: "ClusterUnreadable",
      message: `${unreadable.length} cluster(s) matching the labels could not be read and are not selected: ${unreadable.slice(0, 5).join("; ")}`,
      target: "Composite",
    });

  if (byNode.celErrors.length)
    results.push({
      severity: "Warning",
      reason: "NodeSelectorEvaluationFailed",
      message: `spec.nodeSelector.cel failed on ${byNode.celErrors.length} node(s), which are not selected: ${byNode.celErrors.slice(0, 5).join("; ")}`,
      target: "Composite",
    });
  if (byNode.overLimit.length)
    results.push({
      severity: "Warning",
      reason: "NodeLimit",
      message: `${byNode.overLimit.length} matching node(s) get no copy: more than input.tenancy.nodeLocal.maxNodesPerCluster (${input.tenancy.nodeLocal.maxNodesPerCluster}) match on their cluster: ${nameList(byNode.overLimit)}`,
      target: "Composite",
    });

  const ready = readyCondition(summary, clusters);
  results.push(...transitionEvents({ previous: cache.observedStatus, clusters, summary, created, notReadyMessage: ready.message ?? "" }));

  let rsp: FunctionResponse = {
    ...base,
    // Called again when a copy is due for release, if sooner.
    ttlSeconds: Math.min(summary.inProgress > 0 ? HYDRATING_TTL_SECONDS : DEFAULT_TTL_SECONDS, Math.max(1, evictionRetry ?? Number.MAX_SAFE_INTEGER)),
    desired: { ...base.desired, resources },
    conditions: [selectedCondition({ clusterKind: input.clusters.kind, delivered: outcomes.length, clusters, explain }), pinnedCondition(pin, source), ready],
  };
  for (const r of results) rsp = withResult(rsp, r);
  return withStatus(req, rsp, status, isAllReady(summary) ? "True" : "False");
}
