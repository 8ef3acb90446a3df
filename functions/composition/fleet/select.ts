// Selection: labels, expressions and CEL (ANDed), then what the cache needs.
// Every delivered cluster ends in exactly one outcome, in name order, so the
// result is the same whatever order Crossplane delivered them in.
import type { ClusterFields } from "../../api/input.ts";
import type { ModelCacheSpec } from "../../api/modelcache.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { SelectorProgram } from "./cel.ts";
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

function byMetadata(a: JsonObject, b: JsonObject): number {
  const x = metaKey(a);
  const y = metaKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function rawLabels(o: JsonObject): Record<string, string> {
  const m = o["metadata"];
  const labels = typeof m === "object" && m !== null && !Array.isArray(m) ? m["labels"] : undefined;
  const out: Record<string, string> = {};
  if (typeof labels === "object" && labels !== null && !Array.isArray(labels))
    for (const [k, v] of Object.entries(labels)) if (typeof v === "string") out[k] = v;
  return out;
}

export function selectClusters(clusters: readonly JsonObject[], spec: ModelCacheSpec, fields: ClusterFields, cel: SelectorProgram | undefined): Outcome[] {
  const out: Outcome[] = [];
  const seen = new Set<string>();
  for (const obj of [...clusters].sort(byMetadata)) {
    const read = readCluster(obj, fields);
    if (!read.ok) {
      // A cluster the labels already rule out is a clean "not selected", however broken the rest
      // of it is; otherwise we cannot tell, and it is reported as unreadable.
      const mismatch = labelMismatch(spec.clusterSelector, rawLabels(obj));
      if (!seen.has(read.name))
        out.push(
          mismatch === undefined ? { kind: "unknown", name: read.name, reason: read.reason } : { kind: "notSelected", name: read.name, reason: mismatch },
        );
      seen.add(read.name);
      continue;
    }
    const facts = read.facts;
    // A namespaced cluster type may deliver one name twice; the first wins, deterministically (sorted by name, then namespace).
    if (seen.has(facts.name)) continue;
    seen.add(facts.name);
    const mismatch = labelMismatch(spec.clusterSelector, facts.labels);
    if (mismatch !== undefined) {
      out.push({ kind: "notSelected", name: facts.name, reason: mismatch });
      continue;
    }
    if (cel !== undefined) {
      const r = cel.evaluate(facts);
      if (!r.ok) {
        out.push({ kind: "unknown", name: facts.name, reason: `cel: evaluation failed: ${r.message}` });
        continue;
      }
      if (!r.value) {
        out.push({ kind: "notSelected", name: facts.name, reason: "cel: the expression is false for this cluster" });
        continue;
      }
    }
    const blocked = blockedReason(spec, facts, fields);
    out.push(blocked === undefined ? { kind: "selected", name: facts.name, facts } : { kind: "blocked", name: facts.name, facts, reason: blocked });
  }
  return out.sort(byName);
}
