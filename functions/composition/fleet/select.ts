// Selection: labels, expressions and CEL (ANDed), then what the cache needs.
// Every delivered cluster ends in exactly one outcome, in name order, so the
// result is the same whatever order Crossplane delivered them in.
import type { ClusterFields } from "../../api/input.ts";
import type { ModelCacheSpec } from "../../api/modelcache.ts";
import type { EncodedResource, JsonObject } from "../../sdk/types.ts";
import type { Metered, SelectorProgram } from "./cel.ts";
import { bytesDigest, type CachedSelection, type SelectionCache } from "./selection-cache.ts";
import { readCluster, type ObservedCluster } from "./read-cluster.ts";
import { blockedReason } from "./eligibility.ts";
import { labelMismatch } from "./labels.ts";

export type Outcome =
  | { kind: "selected"; name: string; facts: ObservedCluster }
  | { kind: "blocked"; name: string; facts: ObservedCluster; reason: string }
  /** A clean "does not match": retention applies to a replica already there. */
  | { kind: "notSelected"; name: string; reason: string }
  /** We could not tell (unreadable object, CEL evaluation error): a replica already there is kept. */
  | { kind: "unknown"; name: string; reason: string };

export function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function metaKey(o: JsonObject): string {
  const m = o["metadata"];
  if (typeof m !== "object" || m === null || Array.isArray(m)) return "";
  return `${typeof m["name"] === "string" ? m["name"] : ""}\u0000${typeof m["namespace"] === "string" ? m["namespace"] : ""}`;
}

function rawLabels(o: JsonObject): Record<string, string> {
  const m = o["metadata"];
  const labels = typeof m === "object" && m !== null && !Array.isArray(m) ? m["labels"] : undefined;
  const out: Record<string, string> = {};
  if (typeof labels === "object" && labels !== null && !Array.isArray(labels))
    for (const [k, v] of Object.entries(labels)) if (typeof v === "string") out[k] = v;
  return out;
}

/** A delivered cluster: an object (tests, a request decoded whole), or the bytes Crossplane sent, decoded only if needed. */
export type Delivered = { object: JsonObject } | { encoded: EncodedResource };

/** The selection cache and this call's context digest (selection-cache.ts): what the outcome depends on besides the cluster. */
export interface SelectionMemo {
  cache: SelectionCache;
  context: string;
}

export type Selection = { ok: true; outcomes: Outcome[] } | { ok: false; message: string; refused: boolean };

/** One delivered cluster on its way through selection: its sort key, and either a remembered outcome or the object. */
interface Pending {
  metaKey: string;
  digest?: string;
  hit?: CachedSelection;
  object?: JsonObject;
  encoded?: EncodedResource;
}

/** Selection forgets the pools (their only reader is selection itself): what the cache keeps, and what it hands back. */
function slim(o: Outcome): Outcome {
  return o.kind === "selected" || o.kind === "blocked" ? { ...o, facts: { ...o.facts, pools: [] } } : o;
}

/** One cluster read and decided; undefined when its name was decided already (`seen`). */
function decide(
  obj: JsonObject,
  spec: ModelCacheSpec,
  fields: ClusterFields,
  cel: SelectorProgram | undefined,
  seen: Set<string>,
): { outcome: Outcome; cel?: Metered; transient?: true } | undefined {
  const read = readCluster(obj, fields);
  if (!read.ok) {
    // A cluster the labels already rule out is a clean "not selected", however broken the rest
    // of it is; otherwise we cannot tell, and it is reported as unreadable.
    const mismatch = labelMismatch(spec.clusterSelector, rawLabels(obj));
    const first = !seen.has(read.name);
    seen.add(read.name);
    if (!first) return undefined;
    return {
      outcome: mismatch === undefined ? { kind: "unknown", name: read.name, reason: read.reason } : { kind: "notSelected", name: read.name, reason: mismatch },
    };
  }
  const facts = read.facts;
  // A namespaced cluster type may deliver one name twice; the first wins, deterministically (sorted by name, then namespace).
  if (seen.has(facts.name)) return undefined;
  seen.add(facts.name);
  const mismatch = labelMismatch(spec.clusterSelector, facts.labels);
  if (mismatch !== undefined) return { outcome: { kind: "notSelected", name: facts.name, reason: mismatch } };
  let metered: Metered | undefined;
  if (cel !== undefined) {
    const r = cel.evaluate(facts);
    metered = r.metered;
    const m = metered !== undefined ? { cel: metered } : {};
    if (!r.ok)
      return {
        outcome: { kind: "unknown", name: facts.name, reason: `cel: evaluation failed: ${r.message}` },
        ...m,
        ...(r.transient ? { transient: true as const } : {}),
      };
    if (!r.value) return { outcome: { kind: "notSelected", name: facts.name, reason: "cel: the expression is false for this cluster" }, ...m };
  }
  const blocked = blockedReason(spec, facts, fields);
  const outcome: Outcome =
    blocked === undefined ? { kind: "selected", name: facts.name, facts } : { kind: "blocked", name: facts.name, facts, reason: blocked };
  return { outcome, ...(metered !== undefined ? { cel: metered } : {}) };
}

export function selectClusters(clusters: readonly JsonObject[], spec: ModelCacheSpec, fields: ClusterFields, cel: SelectorProgram | undefined): Outcome[] {
  const s = selectDelivered(
    clusters.map((object) => ({ object })),
    spec,
    fields,
    cel,
  );
  // Objects need no decoding: nothing can fail.
  if (!s.ok) throw new Error(`unreachable: ${s.message}`);
  return s.outcomes;
}

/**
 * Every delivered cluster to exactly one outcome, in name order. With a memo, a cluster delivered as
 * bytes the cache knows (in this context) is not decoded: its outcome is the remembered one, and its
 * CEL cost is replayed in the same order evaluation would have spent it. A cluster that cannot be
 * decoded fails the whole selection, as it would have failed the whole request read at once.
 */
export function selectDelivered(
  clusters: readonly Delivered[],
  spec: ModelCacheSpec,
  fields: ClusterFields,
  cel: SelectorProgram | undefined,
  memo?: SelectionMemo,
): Selection {
  const pending: Pending[] = [];
  for (const c of clusters) {
    if ("object" in c) {
      pending.push({ metaKey: metaKey(c.object), object: c.object });
      continue;
    }
    const known = c.encoded.known;
    if (known !== undefined) {
      // Its bytes went as they arrived, this decision kept in their place (stream-request.ts): it stands only in
      // the context it was made in; otherwise the bytes are needed, and decode() says why they are not here.
      if (memo === undefined || known.context !== memo.context) {
        const d = c.encoded.decode();
        if (!d.ok) return d;
        pending.push({ metaKey: metaKey(d.resource), object: d.resource });
        continue;
      }
      const hit = known.value as CachedSelection;
      pending.push({ metaKey: hit.metaKey, hit, encoded: c.encoded });
      continue;
    }
    const digest = memo !== undefined ? (c.encoded.digest ?? bytesDigest(c.encoded.bytes)) : undefined;
    const hit = memo !== undefined && digest !== undefined ? memo.cache.get(memo.context, digest) : undefined;
    if (hit !== undefined) {
      pending.push({ metaKey: hit.metaKey, hit, encoded: c.encoded, ...(digest !== undefined ? { digest } : {}) });
      continue;
    }
    // Only its metadata now (its place in the order); the whole object when its turn comes, then let go:
    // a first pass holds one decoded cluster at a time, not the fleet.
    const m = c.encoded.decodeMetadata();
    if (!m.ok) return m;
    pending.push({ metaKey: metaKey(m.resource), encoded: c.encoded, ...(digest !== undefined ? { digest } : {}) });
  }
  // Stable: one name and namespace delivered twice keeps its delivery order, as sorting the objects did.
  pending.sort((a, b) => (a.metaKey < b.metaKey ? -1 : a.metaKey > b.metaKey ? 1 : 0));

  const out: Outcome[] = [];
  const seen = new Set<string>();
  for (const p of pending) {
    const hit = p.hit;
    if (hit !== undefined) {
      const name = hit.outcome.name;
      if (seen.has(name)) continue;
      if (hit.cel === undefined || cel?.replay?.(hit.cel) === true) {
        seen.add(name);
        out.push(hit.outcome);
        continue;
      }
      // This call's budget would not have let it finish: evaluate it after all (below).
    }
    if (p.object === undefined && p.encoded !== undefined) {
      const d = p.encoded.decode();
      if (!d.ok) return d;
      p.object = d.resource;
    }
    const obj = p.object;
    if (obj === undefined) continue;
    // Let the object go as soon as it is decided: only the outcome is kept.
    p.object = undefined;
    const decided = decide(obj, spec, fields, cel, seen);
    if (decided === undefined) continue;
    if (memo === undefined || p.digest === undefined) {
      out.push(decided.outcome);
      continue;
    }
    const outcome = slim(decided.outcome);
    if (decided.transient === undefined)
      memo.cache.set(memo.context, p.digest, { metaKey: p.metaKey, outcome, ...(decided.cel !== undefined ? { cel: decided.cel } : {}) });
    out.push(outcome);
  }
  return { ok: true, outcomes: out.sort(byName) };
}
