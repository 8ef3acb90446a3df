// Where a cluster's node copies come from (replication: AllMatchingNodes): the
// cluster's shared copy (hydrated once, copied to every node: one download per
// cluster) or the source itself (one download per node, no shared copy). The
// tenant asks with spec.nodeLocal.seed; the platform allows the source with
// input.tenancy.nodeLocal.seedFromSource, since N nodes pulling is N egress
// paths, N uses of the credentials and N times the rate limit. From the
// source with no pin, firstCopy says which one node copies first. Pure:
// node-seed.test.ts has a row per case.
import type { NodeSeed } from "../../api/node-local.ts";

export type SeedMode = { kind: "SharedCopy" } | { kind: "Source"; why: string };

export interface SeedInputs {
  /** spec.nodeLocal.seed; undefined means Auto. */
  seed: NodeSeed | undefined;
  /** input.tenancy.nodeLocal.seedFromSource. */
  policy: "Deny" | "Allow";
  backend: "PVC" | "ExistingPVC" | "Custom";
  /** The class the shared claim would use (spec.storage.pvc.storageClassName, else the cluster's); undefined: none. */
  storageClassName: string | undefined;
  /** The shared copy's claim is observed on the cluster (it was composed before). */
  sharedObserved: boolean;
  cluster: string;
}

/**
 * The seed of this cluster's node copies. Auto turns to the source only where no shared copy can exist
 * (no class, none composed before) and the platform allows it: a cluster whose class is briefly missing from
 * its object never loses a shared copy it has. Source when not allowed never gets here (tenancy refuses it).
 */
export function decideSeed(i: SeedInputs): SeedMode {
  const seed = i.seed ?? "Auto";
  if (seed === "SharedCopy" || i.backend !== "PVC") return { kind: "SharedCopy" };
  if (seed === "Source") return { kind: "Source", why: "spec.nodeLocal.seed is Source: each node hydrates from the source, no shared copy is made" };
  if (i.storageClassName !== undefined || i.sharedObserved || i.policy !== "Allow") return { kind: "SharedCopy" };
  return {
    kind: "Source",
    why: `cluster ${i.cluster} has no storage class for a shared copy (spec.nodeLocal.seed Auto, input.tenancy.nodeLocal.seedFromSource Allow): each node hydrates from the source`,
  };
}

/**
 * The fleet's view: whether a selected cluster needs a class for a shared copy at all. Only a cache whose
 * nodes may seed from the source (Source, or Auto where the platform allows it) does without.
 */
export function needsSharedClass(seed: NodeSeed | undefined, policy: "Deny" | "Allow"): boolean {
  const s = seed ?? "Auto";
  if (s === "Source") return false;
  return !(s === "Auto" && policy === "Allow");
}

/** One node as the choice of the first copy from the source sees it. */
export interface FirstCopyCandidate {
  node: string;
  /** In the cluster's node list and not cordoned: a Job may start there. */
  schedulable: boolean;
  /** In the node list, its current Job composed: it holds the turn (running, or failed and waiting for its retry). */
  copying: boolean;
  /** Every attempt failed (the last one allowed), or one failed for good for a cause of its own (its volume): it tries again only after a refetch. */
  gaveUp: boolean;
  /** Its attempt failed for good for a cause of the source itself (refused credentials, not found, a digest mismatch): every node would meet it. */
  sourceFailed?: boolean;
}

export interface FirstCopy {
  /** The one node that hydrates unpinned now; undefined when none can. */
  node: string | undefined;
  /** The nodes that gave up, by name: the replica names them. */
  gaveUp: string[];
  /** The nodes on which the source itself failed for good, by name: while there is one, no other node starts the first copy. */
  sourceFailed: string[];
}

/**
 * Which node hydrates the first copy from the source, unpinned (its verified digest then pins every other
 * node): one at a time, so N nodes never download a moving source at once, nor verify two revisions of it.
 * The one already copying keeps the turn (a cordon does not evict its Job); else the first schedulable node by
 * name that has not given up. A node that gave up hands the turn on, so one bad node (its disk, its network)
 * does not hold every other node's copy until a refetch. A failure the hydrator says is the source's own and
 * permanent (a refused credential, a 404, a digest the source serves that does not match) is not handed on: every
 * node would meet it, so none starts until a refetch (one already copying keeps its Job: it is never killed). A
 * transient failure, or one of the node's own volume, hands on as above.
 */
export function firstCopy(candidates: readonly FirstCopyCandidate[]): FirstCopy {
  const byName = [...candidates].sort((x, y) => (x.node < y.node ? -1 : x.node > y.node ? 1 : 0));
  const gaveUp = byName.filter((c) => c.gaveUp && c.sourceFailed !== true).map((c) => c.node);
  const sourceFailed = byName.filter((c) => c.sourceFailed === true).map((c) => c.node);
  const over = (c: FirstCopyCandidate) => c.gaveUp || c.sourceFailed === true;
  const holder = byName.find((c) => c.copying && !over(c)) ?? (sourceFailed.length > 0 ? undefined : byName.find((c) => c.schedulable && !over(c)));
  return { node: holder?.node, gaveUp, sourceFailed };
}
