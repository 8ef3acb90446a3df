// replication: AllMatchingNodes at the cluster level: per selected node a
// claim of a node-local storage class (a local PersistentVolume with node
// affinity, provisioned when the node's Job, pinned to the node, first uses
// it) and a Job that copies the cluster's verified shared copy into it,
// through the hydrator (`file:///seed`, every file hashed, the manifest digest
// expected, published atomically), reporting through its own ConfigMap. No
// hostPath, so restricted pod security holds (docs/design.md says why).
// With no shared copy (nodeLocal.seed, node-seed.ts) each node's Job hydrates
// from the source itself, with the shared Job's source plan; the first node's
// verified copy pins the rest. The decision per node is node-decide.ts; this
// is the glue.
import type { Input } from "../../api/input.ts";
import type { ReplicaPhase } from "../../api/modelcache.ts";
import type { NodeRollup, NodeStatus } from "../../api/node-local.ts";
import type { ModelCacheReplicaSpec, ModelCacheReplicaStatus } from "../../api/replica.ts";
import { field, isObject, str } from "../../common/json.ts";
import type { JsonObject, ResourceState } from "../../sdk/types.ts";
import type { SourcePlan } from "../../sources/kind.ts";
import { checkNodeLocal } from "../tenancy/node-local.ts";
import { storageClassRef } from "./csi.ts";
import { commonLabels, job, reportConfigMap, role, roleBinding, serviceAccount } from "./job.ts";
import { MAX_ATTEMPTS } from "./lifecycle.ts";
import { label, reportName } from "./names.ts";
import { decideNode, type Seed } from "./node-decide.ts";
import { gaveUpBefore, PERMANENT_FIX, permanentBefore } from "./decide.ts";
import { PERMANENT_REASON } from "./answer.ts";
import { firstCopy } from "./node-seed.ts";
import { observe, wrapObject, type ProviderConfigRef } from "./objects.ts";
import { hydrationState, type Hydration } from "./phase.ts";
import { readReport } from "./report.ts";
import { BOUND_QUERY, volumePolicy } from "./volume.ts";

export const NODE_ANNOTATION = "modelcache.dev/node";
/** Where a node's Job mounts the cluster's shared copy, read-only. */
export const SEED_MOUNT = "/seed";

export const NODE_KEY = {
  storageClass: "node-storage-class",
  serviceAccount: "node-hydrator-serviceaccount",
  role: "node-hydrator-role",
  roleBinding: "node-hydrator-rolebinding",
  volume: (claim: string) => `nodevolume-${claim}`,
  job: (job: string) => `nodejob-${job}`,
  report: (job: string) => `nodereport-${job}`,
} as const;
const NODE_PREFIXES = ["nodevolume-", "nodejob-", "nodereport-"];

/** The node's claim: a new cluster claim (a new revision) makes new node claims too. */
export function nodeClaimName(claim: string, node: string): string {
  return label(claim, "n", claim, node);
}

export function nodeJobName(nodeClaim: string, refetch: string, attempt: number): string {
  return label(nodeClaim, `h${attempt}`, nodeClaim, refetch, String(attempt));
}

/** One account per cache on the cluster for every node's Job, apart from the shared copy's (whose Role names one report). */
export function nodeAccountName(cacheName: string, cacheNamespace: string): string {
  return label(cacheName, "node-hydrator", cacheNamespace, cacheName);
}

/** The latest attempt of the node's copy (its claim, the refetch token) whose Job or report is observed. */
function observedAttempt(observed: Record<string, ResourceState>, claim: string, token: string): number | undefined {
  for (let attempt = MAX_ATTEMPTS; attempt >= 1; attempt--) {
    const job = nodeJobName(claim, token, attempt);
    if (observed[NODE_KEY.job(job)] !== undefined || observed[NODE_KEY.report(job)] !== undefined) return attempt;
  }
  return undefined;
}

/** Every node some observed object of this replica was composed for (read from our own annotation). */
export function observedNodes(observed: Record<string, ResourceState>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, state] of Object.entries(observed)) {
    if (!NODE_PREFIXES.some((p) => key.startsWith(p))) continue;
    const node = str(field(state.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION));
    if (node === undefined) continue;
    out.set(node, [...(out.get(node) ?? []), key]);
  }
  return out;
}

export interface NodeComposeArgs {
  observed: Record<string, ResourceState>;
  /** The spec as the tenancy policy allowed it. */
  spec: ModelCacheReplicaSpec & { nodeLocal: NonNullable<ModelCacheReplicaSpec["nodeLocal"]> };
  input: Input;
  pc: ProviderConfigRef;
  /** The namespace and claim of the cluster's shared copy (the seed); with `source`, only the base of the node claims' names. */
  namespace: string;
  seedClaim: string;
  /** The shared copy's phase, message and verified manifest digest (with `source`: Ready, and why there is none), and its condition reason if not its phase. */
  shared: { phase: ReplicaPhase; message: string; digest: string | undefined; reason?: string | undefined };
  /** No shared copy: each node hydrates from the source with this plan (the shared Job's), its line and Secrets. */
  source?: { plan: SourcePlan; line: string; secrets: readonly string[] } | undefined;
  prev: ModelCacheReplicaStatus;
  /** The replica's run is another one (new refetch token or claim): node attempts start again. */
  fresh: boolean;
  cacheName: string;
  cacheNamespace: string;
  nowMs: number;
  add: (key: string, resource: JsonObject, ready: boolean) => void;
}

export interface NodesComposed {
  /** The replica's phase once its nodes count, and the message (and the condition reason when not the phase). */
  phase: ReplicaPhase;
  message: string;
  reason?: string;
  nodes: NodeStatus[];
  summary: NodeRollup;
  ttlSeconds: number;
  /**
   * With `source`: the copy that pins the bytes, as the shared copy's would (status.sharedPhase, resolvedRevision,
   * manifestDigest, which the fleet's pin reads): a verified node's, else Pending.
   */
  pinning?: { phase: ReplicaPhase; resolvedRevision?: string; manifestDigest?: string };
}

function keepAsObserved(state: ResourceState): JsonObject {
  const r = state.resource;
  return { apiVersion: str(r["apiVersion"]) ?? "", kind: str(r["kind"]) ?? "", spec: isObject(r["spec"]) ? r["spec"] : {} };
}

function nodeClaim(a: NodeComposeArgs, name: string, node: string, storageClassName: string): JsonObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace: a.namespace,
      labels: commonLabels("node-cache"),
      annotations: { "modelcache.dev/cache": a.spec.cacheRef.name, [NODE_ANNOTATION]: node, "modelcache.dev/mount-path": a.spec.mountPath },
    },
    // One node's disk: ReadWriteOnce; WaitForFirstConsumer classes bind it on the node its Job is pinned to.
    spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: a.spec.nodeLocal.size } }, volumeMode: "Filesystem" },
  };
}

/** The seed: the shared copy's claim, read-only, read by the hydrator as a verified bundle (its manifest says what it holds). */
function seedPlan(claim: string): SourcePlan {
  return {
    args: { source: `file://${SEED_MOUNT}` },
    env: [],
    volumes: [{ name: "seed", persistentVolumeClaim: { claimName: claim, readOnly: true } }],
    mounts: [{ name: "seed", mountPath: SEED_MOUNT, readOnly: true }],
    secrets: [],
  };
}

function nodeJob(
  a: NodeComposeArgs,
  p: { name: string; node: string; attempt: number; claim: string; account: string; digest: string | undefined },
): JsonObject {
  // Expect exactly the seed's bytes (or the pin's; none only for the first copy from the source, which makes the pin);
  // the node's own placement is its name, so the hydration nodeSelector does not apply.
  const spec: ModelCacheReplicaSpec = {
    ...a.spec,
    pin: p.digest !== undefined ? { resolvedRevision: a.spec.pin?.resolvedRevision ?? "", manifestDigest: p.digest } : a.spec.pin,
    hydration: { ...a.spec.hydration, nodeSelector: undefined },
  };
  const manifest = job({
    spec,
    namespace: a.namespace,
    name: p.name,
    attempt: p.attempt,
    claimName: p.claim,
    serviceAccount: p.account,
    report: reportName(p.name),
    source: a.source?.plan ?? seedPlan(a.seedClaim),
    verifyOnly: false,
    refusedAddresses: a.input.tenancy.sources.refusedAddresses,
  });
  const meta = manifest["metadata"] as JsonObject;
  meta["annotations"] = { [NODE_ANNOTATION]: p.node };
  const template = field(manifest, "spec", "template", "spec") as JsonObject;
  delete template["nodeSelector"];
  template["affinity"] = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [p.node] }] }],
      },
    },
  };
  return manifest;
}

function nodeReport(a: NodeComposeArgs, name: string, node: string): JsonObject {
  const cm = reportConfigMap(name, a.namespace);
  (cm["metadata"] as JsonObject)["annotations"] = { [NODE_ANNOTATION]: node };
  return cm;
}

const IN_PROGRESS = new Set<ReplicaPhase>(["Pending", "Hydrating", "Verifying"]);

export function rollup(nodes: readonly NodeStatus[]): NodeRollup {
  let selected = 0;
  let readyCount = 0;
  let hydrating = 0;
  let failed = 0;
  let cordoned = 0;
  let left = 0;
  let bytesDone: number | undefined;
  let bytesTotal: number | undefined;
  let eta: number | undefined;
  for (const n of nodes) {
    if (n.selected === false) {
      left++;
      continue;
    }
    if (n.bytesDone !== undefined) bytesDone = (bytesDone ?? 0) + n.bytesDone;
    if (n.bytesTotal !== undefined) bytesTotal = (bytesTotal ?? 0) + n.bytesTotal;
    if (n.cordoned === true) {
      cordoned++;
      continue;
    }
    selected++;
    if (n.phase === "Ready") readyCount++;
    if (n.phase === "Failed") failed++;
    if (IN_PROGRESS.has(n.phase)) hydrating++;
    if (n.etaSeconds !== undefined && n.phase !== "Ready") eta = Math.max(eta ?? 0, n.etaSeconds);
  }
  const out: NodeRollup = { ready: `${readyCount}/${selected}`, selected, readyCount };
  if (hydrating) out.hydrating = hydrating;
  if (failed) out.failed = failed;
  if (cordoned) out.cordoned = cordoned;
  if (left) out.left = left;
  if (bytesDone !== undefined) out.bytesDone = bytesDone;
  if (bytesTotal !== undefined) out.bytesTotal = bytesTotal;
  if (eta !== undefined) out.etaSeconds = eta;
  return out;
}

/** The replica's phase with its nodes: the shared copy first, then every schedulable selected node. */
export function combinedPhase(
  shared: { phase: ReplicaPhase; message: string; reason?: string | undefined },
  nodes: readonly NodeStatus[],
  s: NodeRollup,
): { phase: ReplicaPhase; message: string; reason?: string } {
  const line = `nodes ${s.ready} ready${s.cordoned ? `, ${s.cordoned} cordoned` : ""}${s.left ? `, ${s.left} no longer selected` : ""}`;
  if (shared.phase !== "Ready")
    return {
      phase: shared.phase,
      message: `${shared.message}; ${line} (they copy from this once it is verified)`,
      ...(shared.reason !== undefined ? { reason: shared.reason } : {}),
    };
  if (s.readyCount === s.selected) return { phase: "Ready", message: `${shared.message}; ${line}` };
  const names = (p: (n: NodeStatus) => boolean) =>
    nodes
      .filter((n) => n.selected !== false && n.cordoned !== true && p(n))
      .map((n) => n.name)
      .slice(0, 5)
      .join(", ");
  if (s.failed) {
    // Every failed node failed for good: say so in the reason, as the shared copy's would.
    const failed = nodes.filter((n) => n.selected !== false && n.cordoned !== true && n.phase === "Failed");
    const permanent = failed.every((n) => n.permanentFailure !== undefined);
    // The first failed node's cause, so the cluster's line on the ModelCache says why, not only where.
    const first = failed.find((n) => n.lastError !== undefined);
    const cause = first !== undefined ? ` (${first.name}: ${first.lastError ?? ""})` : "";
    return {
      phase: "Failed",
      message: `${shared.message}; ${line}; failed on: ${names((n) => n.phase === "Failed")}${cause}`,
      ...(permanent ? { reason: PERMANENT_REASON } : {}),
    };
  }
  const waiting = nodes.filter((n) => n.selected !== false && n.cordoned !== true && n.phase !== "Ready");
  // Every node still to do is Blocked (e.g. the node-local class is missing): the replica is, with the first reason.
  const firstBlocked = waiting.find((n) => n.phase === "Blocked");
  if (firstBlocked !== undefined && waiting.every((n) => n.phase === "Blocked"))
    return { phase: "Blocked", message: `${shared.message}; ${line}; blocked on ${names((n) => n.phase === "Blocked")}: ${firstBlocked.message ?? ""}` };
  const moving = waiting.some((n) => n.phase === "Hydrating" || n.phase === "Verifying");
  return { phase: moving ? "Hydrating" : "Pending", message: `${shared.message}; ${line}; copying to: ${names((n) => n.phase !== "Ready")}` };
}

/** Every selected node's copy, and the nodes no longer selected while their grace lasts. */
export function composeNodes(a: NodeComposeArgs): NodesComposed {
  const check = checkNodeLocal(a.spec.nodeLocal, a.input.tenancy.nodeLocal, "spec");
  // Tenancy was checked already (replicaTenancy); the class is what it resolves to.
  const storageClassName = check.storageClassName ?? a.spec.nodeLocal.storageClassName ?? "";
  // The node-local class must exist on the cluster: observed, and absent means Blocked, never a claim that pends forever.
  const scObs = observe(a.observed[NODE_KEY.storageClass]);
  a.add(NODE_KEY.storageClass, wrapObject(storageClassRef(storageClassName), a.pc, { policy: "observe" }), scObs.exists === true);
  const blocked =
    scObs.exists === false
      ? `StorageClass ${storageClassName} (the node-local class, input.tenancy.nodeLocal.storageClassNames) does not exist on cluster ${a.spec.cluster.name}`
      : undefined;
  const listed = new Map((a.spec.cluster.nodes ?? []).map((n) => [n.name, { cordoned: n.cordoned === true }]));
  const observedBy = observedNodes(a.observed);
  const previous = new Map((a.prev.nodes ?? []).map((n) => [n.name, n]));
  const names = [...new Set([...listed.keys(), ...observedBy.keys()])].sort();
  const token = a.spec.refetch ?? "";
  // Where each node stands, before its seed is known (from the source, the first verified node's copy is the seed's digest).
  const seen = names.map((node) => {
    const claim = nodeClaimName(a.seedClaim, node);
    const prevLine = previous.get(node);
    // The attempt: the previous line's, or the latest whose Job or report is observed (their names carry the
    // claim, the token and the attempt, so they are this run's) when that line is missing, behind or of another run.
    const remembered = a.fresh || prevLine?.claimName !== claim ? undefined : Math.min(Math.max(prevLine.attempts ?? 1, 1), MAX_ATTEMPTS);
    const seenAttempt = observedAttempt(a.observed, claim, token);
    const fresh = remembered === undefined && seenAttempt === undefined;
    const attempt = Math.max(remembered ?? 1, seenAttempt ?? 1);
    const current = nodeJobName(claim, token, attempt);
    const jobObs = observe(a.observed[NODE_KEY.job(current)]);
    const reading = readReport(observe(a.observed[NODE_KEY.report(current)]));
    return { node, claim, prevLine, fresh, attempt, current, jobObs, reading };
  });
  const pinHydration = (x: (typeof seen)[number], digest: string | undefined) =>
    hydrationState(
      {
        ...a.spec,
        pin: digest !== undefined ? { resolvedRevision: a.spec.pin?.resolvedRevision ?? "", manifestDigest: digest } : a.source ? a.spec.pin : undefined,
      },
      x.jobObs,
      x.reading,
      x.current,
      reportName(x.current),
      a.nowMs,
    );
  const fromSource = a.source !== undefined ? sourceSeeds(a, seen, pinHydration, listed) : undefined;
  const shared: Seed =
    a.shared.phase === "Ready" && a.shared.digest !== undefined
      ? { ready: true, digest: a.shared.digest }
      : { ready: false, why: `${a.shared.phase}${a.shared.message ? `: ${a.shared.message}` : ""}` };
  const account = nodeAccountName(a.cacheName, a.cacheNamespace);
  const statuses: NodeStatus[] = [];
  const reports: string[] = [];
  let ttl = Number.MAX_SAFE_INTEGER;
  for (const x of seen) {
    const { node, claim, prevLine, fresh, attempt, current, jobObs } = x;
    const seed = fromSource?.seeds.get(node) ?? shared;
    const vol = observe(a.observed[NODE_KEY.volume(claim)]);
    const digest = seed.ready ? seed.digest : (prevLine?.manifestDigest ?? a.spec.pin?.manifestDigest);
    const h = pinHydration(x, digest);
    const bound = str(field(vol.manifest, "status", "phase")) === "Bound";
    const d = decideNode({
      node,
      listed: listed.get(node),
      seed,
      from: a.source !== undefined ? { line: a.source.line, secrets: a.source.secrets } : undefined,
      blocked,
      hydration: h,
      attempt,
      fresh,
      previous: prevLine,
      anythingObserved: observedBy.has(node),
      claimComposed: vol.composed,
      jobComposed: jobObs.composed,
      bound,
      claim: { namespace: a.namespace, name: claim },
      currentJob: current,
      nowMs: a.nowMs,
      grace: a.input.tenancy.nodeLocal.leftNodeGracePeriod,
    });
    ttl = Math.min(ttl, d.ttlSeconds);
    if (d.status !== undefined) statuses.push(d.status);
    if (d.objects === "keep") {
      for (const key of observedBy.get(node) ?? []) {
        const state = a.observed[key];
        if (state !== undefined) a.add(key, keepAsObserved(state), observe(state).ready);
        if (key.startsWith("nodereport-")) reports.push(str(field(state?.resource, "spec", "forProvider", "manifest", "metadata", "name")) ?? "");
      }
      continue;
    }
    if (d.objects === "release") continue;
    // An earlier revision's claim on this node stays until the new copy is Ready there, then goes as the
    // shared copy's earlier volume does: deletion allowed first, the Object dropped on the next pass. While the
    // node holds (its new claim not composed yet: no Job fills it now), it stays as observed.
    for (const key of observedBy.get(node) ?? []) {
      if (!key.startsWith("nodevolume-") || key === NODE_KEY.volume(claim)) continue;
      const state = a.observed[key];
      if (state === undefined) continue;
      const old = observe(state);
      if (d.status?.phase !== "Ready") a.add(key, keepAsObserved(state), old.ready);
      else if (!old.policies.includes("*") && !old.policies.includes("Delete")) {
        const kept = keepAsObserved(state);
        a.add(key, { ...kept, spec: { ...(kept["spec"] as JsonObject), managementPolicies: ["*"] } }, false);
      }
    }
    if (d.objects === "compose")
      a.add(
        NODE_KEY.volume(claim),
        wrapObject(nodeClaim(a, claim, node, storageClassName), a.pc, { policy: volumePolicy(a.spec), readyWhen: BOUND_QUERY }),
        vol.ready && bound,
      );
    // The Job of the attempt that runs, and the report of the one that decided the line (the record once its Job is gone).
    // A Job composed while the seed was verified, kept exactly as observed while it is not (decideNode's keepJob):
    // never composed anew without a verified digest to expect, never left out (Crossplane would delete it).
    const keptJob = d.keepJob === true ? current : undefined;
    const runJob = d.runAttempt !== undefined && seed.ready && keptJob === undefined ? nodeJobName(claim, token, d.runAttempt) : undefined;
    const recordJob = runJob ?? keptJob ?? (h.state === "notStarted" ? undefined : current);
    if (recordJob !== undefined) {
      const rep = reportName(recordJob);
      reports.push(rep);
      a.add(
        NODE_KEY.report(recordJob),
        wrapObject(nodeReport(a, rep, node), a.pc, { policy: "createOnce" }),
        observe(a.observed[NODE_KEY.report(recordJob)]).exists === true,
      );
    }
    const keptState = keptJob !== undefined ? a.observed[NODE_KEY.job(keptJob)] : undefined;
    if (keptJob !== undefined && keptState !== undefined) a.add(NODE_KEY.job(keptJob), keepAsObserved(keptState), observe(keptState).ready);
    if (runJob !== undefined && d.runAttempt !== undefined && seed.ready) {
      const manifest = nodeJob(a, { name: runJob, node, attempt: d.runAttempt, claim, account, digest: seed.digest });
      const jo = observe(a.observed[NODE_KEY.job(runJob)]);
      a.add(NODE_KEY.job(runJob), wrapObject(manifest, a.pc, { policy: "createOnce" }), jo.ready);
    }
  }
  // The node Jobs' account: its Role names each report it may write. Never composed with no name: an empty
  // resourceNames would grant every ConfigMap in the namespace.
  const named = [...new Set(reports.filter((r) => r !== ""))].sort();
  if (named.length > 0) {
    const r = role(account, a.namespace, named[0] ?? "");
    (r["rules"] as JsonObject[])[0] = { apiGroups: [""], resources: ["configmaps"], resourceNames: named, verbs: ["get", "update", "patch"] };
    a.add(
      NODE_KEY.serviceAccount,
      wrapObject(serviceAccount(account, a.namespace), a.pc, { policy: "all" }),
      observe(a.observed[NODE_KEY.serviceAccount]).ready,
    );
    a.add(NODE_KEY.role, wrapObject(r, a.pc, { policy: "all" }), observe(a.observed[NODE_KEY.role]).ready);
    a.add(NODE_KEY.roleBinding, wrapObject(roleBinding(account, a.namespace), a.pc, { policy: "all" }), observe(a.observed[NODE_KEY.roleBinding]).ready);
  }
  const summary = rollup(statuses);
  const combined = combinedPhase(a.shared, statuses, summary);
  return {
    ...combined,
    nodes: statuses,
    summary,
    ttlSeconds: ttl === Number.MAX_SAFE_INTEGER ? 60 : ttl,
    ...(fromSource !== undefined ? { pinning: fromSource.pinning } : {}),
  };
}

interface Seen {
  node: string;
  prevLine: NodeStatus | undefined;
  fresh: boolean;
  attempt: number;
  jobObs: { composed: boolean };
}

/**
 * With no shared copy, each node's seed: the pin's digest when there is one (the fleet's, else the first verified
 * node's: our own status says which when several are, else the first by name), so every copy verifies exactly
 * those bytes; before it, one node copies unpinned (node-seed.ts, firstCopy: the one already copying, else the
 * first schedulable by name that has not given up) and the others wait, so two nodes can never verify two
 * different revisions of a moving source, and one node that gave up does not hold the rest.
 */
function sourceSeeds<S extends Seen>(
  a: NodeComposeArgs,
  seen: readonly S[],
  hydration: (x: S, digest: string | undefined) => Hydration,
  listed: ReadonlyMap<string, { cordoned: boolean }>,
): { seeds: Map<string, Seed>; pinning: NonNullable<NodesComposed["pinning"]> } {
  const verified = seen.flatMap((x) => {
    const h = hydration(x, a.spec.pin?.manifestDigest);
    return h.state === "done" && h.report.manifestDigest !== undefined ? [{ node: x.node, report: h.report }] : [];
  });
  const first = verified.find((v) => v.report.manifestDigest === a.prev.manifestDigest) ?? verified[0];
  const digest = a.spec.pin?.manifestDigest ?? first?.report.manifestDigest;
  const seeds = new Map<string, Seed>();
  const pinning: NonNullable<NodesComposed["pinning"]> =
    first !== undefined
      ? {
          phase: "Ready",
          ...(first.report.resolvedRevision !== undefined ? { resolvedRevision: first.report.resolvedRevision } : {}),
          manifestDigest: first.report.manifestDigest ?? "",
        }
      : { phase: "Pending" };
  if (digest !== undefined) {
    for (const x of seen) seeds.set(x.node, { ready: true, digest });
    return { seeds, pinning };
  }
  // A permanent failure, this pass's or (its Job since dropped) the one the line remembers, and whose it is.
  const permanent = (x: S) => {
    const h = hydration(x, undefined);
    if (h.state === "failed" && h.permanent !== undefined) return h.permanent;
    const before = permanentBefore({ fresh: x.fresh, jobComposed: x.jobObs.composed, hydration: h, previousPermanent: x.prevLine?.permanentFailure });
    return before ? x.prevLine?.permanentFailure : undefined;
  };
  // Every attempt failed: this pass's last one, or (its Job since dropped) the line that said so (decide.ts); or
  // one failed for good for a cause of the node's own volume.
  const gaveUp = (x: S) => {
    const h = hydration(x, undefined);
    const before = gaveUpBefore({ fresh: x.fresh, attempt: x.attempt, jobComposed: x.jobObs.composed, hydration: h, previousPhase: x.prevLine?.phase });
    return before || (x.attempt >= MAX_ATTEMPTS && h.state === "failed" && h.reportPending !== true) || permanent(x) === "Destination";
  };
  const turn = firstCopy(
    seen.map((x) => {
      const at = listed.get(x.node);
      return {
        node: x.node,
        schedulable: at?.cordoned === false,
        copying: at !== undefined && x.jobObs.composed,
        gaveUp: at !== undefined && gaveUp(x),
        sourceFailed: at !== undefined && permanent(x) === "Source",
      };
    }),
  );
  const pioneer = turn.node;
  const gave =
    turn.gaveUp.length === 0
      ? ""
      : ` (${turn.gaveUp.length === 1 ? "node" : "nodes"} ${turn.gaveUp.slice(0, 5).join(", ")} gave up; set a new refetch value on the ModelCache to try ${turn.gaveUp.length === 1 ? "it" : "them"} again)`;
  const stopped = turn.sourceFailed.length > 0 && pioneer === undefined;
  const waiting = stopped
    ? `not started: the first copy from the source failed for good on node ${turn.sourceFailed.slice(0, 5).join(", ")}, a failure of the source itself that every node would meet (its line has the error); ${PERMANENT_FIX.Source}`
    : pioneer === undefined
      ? `waiting for a schedulable node to hydrate the first copy from the source (it pins the bytes every other node must match)${gave}`
      : `waiting for node ${pioneer} to verify the first copy from the source${gave}: every other node then hydrates exactly those bytes`;
  // The node whose turn it is reads the source unpinned, and so does one that gave up or failed for good (its line
  // says so; no retry is due). Any other node waits: a Job of its own still composed (copying when this rule came,
  // or a race) goes on, kept as observed, and no retry of it starts (decideNode's keepJob), so one at a time holds.
  const unpinned = new Set([...(pioneer !== undefined ? [pioneer] : []), ...turn.gaveUp, ...turn.sourceFailed]);
  for (const x of seen)
    seeds.set(
      x.node,
      unpinned.has(x.node) ? { ready: true, digest: undefined } : { ready: false, why: waiting, waiting, ...(stopped ? { stopped: true as const } : {}) },
    );
  const p = seen.find((x) => x.node === pioneer);
  const h = p !== undefined ? hydration(p, undefined) : undefined;
  pinning.phase =
    h?.state === "running" || h?.state === "started"
      ? "Hydrating"
      : h?.state === "failed" || (pioneer === undefined && (turn.gaveUp.length > 0 || turn.sourceFailed.length > 0))
        ? "Failed"
        : "Pending";
  return { seeds, pinning };
}
