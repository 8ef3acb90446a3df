// Bounds on what one RunFunctionRequest may hold, checked while it is read and
// before anything in it is expanded or echoed. Every request Crossplane sends
// for a real fleet fits well inside them: at 5,000 clusters with DRA pools
// (docs/benchmarks.md) the deepest value is about 10 levels, the largest
// object has tens of keys, the longest list (status.clusters) 5,000 items, and
// a map of composed resources 5,001 entries. Kubernetes itself keeps an
// object under 1.5 MiB (etcd) and a request body under 3 MiB.
import { capText } from "../sdk/messages.ts";

export const REQUEST_LIMITS = {
  /** Nesting of Struct and list values (protoc and protobufjs stop at 100 messages, about 33 objects). */
  depth: 100,
  /** Keys of one Struct. */
  fields: 65_536,
  /** Items of one list. */
  items: 262_144,
  /** Bytes of one string value: the largest a Kubernetes request body can carry. */
  stringBytes: 3 * 1024 * 1024,
  /** Bytes of one key of a Struct or map. */
  keyBytes: 16 * 1024,
  /** Entries of one map of resources (observed, desired) or items of one required-resources list. */
  resources: 100_000,
  /** Bytes of the request tag, which every log line and the response repeat (Crossplane's is 64). */
  tagBytes: 1024,
} as const;

/**
 * Nesting a response may have: the request's bound plus the levels the
 * composition wraps a value in (a provider-kubernetes Object around a
 * manifest). Checked while encoding, so no value overflows the stack.
 */
export const RESPONSE_DEPTH = REQUEST_LIMITS.depth + 28;

/** A path such as `context.a[0][1]`, shortened in the middle when deep: the start and the end say where. */
export function describePath(root: string, path: readonly (string | number)[]): string {
  const seg = (p: string | number) =>
    typeof p === "number" ? `[${p}]` : /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(capText(p, 64))}]`;
  const shown = path.length > 16 ? [...path.slice(0, 8).map(seg), `…(${path.length - 12} levels)…`, ...path.slice(-4).map(seg)] : path.map(seg);
  return root + shown.join("");
}
