// A hand-written reading of ClusterFacts for the common case: well-formed
// facts, whose attribute and capacity records are shared, not copied. zod's record parsing costs milliseconds per cluster with DRA pools
// (every device carries two records), which at 5,000 clusters is most of a
// reconcile. This check is conservative: it accepts only what the zod schema
// accepts, builds the same output, and answers undefined for anything else,
// so the caller falls back to zod, whose error message stays the one users see.
// fast-facts.test.ts holds both readings to the same answers.
import type { AttributeFacts, ClusterFacts, DeviceFacts, PoolFacts } from "./cluster-facts.ts";

type Plain = Record<string, unknown>;

export function isPlain(v: unknown): v is Plain {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const INT_STRING = /^-?[0-9]+$/;

/**
 * The attribute as zod would output it: `v` itself, since only the four known keys are accepted. The one fast
 * reading of a DRA attribute, shared with the fleet's reading of cluster objects (composition/fleet/read-cluster.ts).
 */
export function attribute(v: unknown): AttributeFacts | undefined {
  if (!isPlain(v)) return undefined;
  let set = 0;
  for (const k in v) {
    const x = v[k];
    if (x === undefined) continue;
    set++;
    if (k === "string" || k === "version") {
      if (typeof x !== "string") return undefined;
    } else if (k === "bool") {
      if (typeof x !== "boolean") return undefined;
    } else if (k === "int") {
      if (!((typeof x === "number" && Number.isSafeInteger(x)) || (typeof x === "string" && INT_STRING.test(x)) || typeof x === "bigint")) return undefined;
    }
    // An unknown key: z.object would strip it, but stay conservative and let zod decide.
    else return undefined;
  }
  return set === 1 ? (v as AttributeFacts) : undefined;
}

/** A record whose every value `read` accepts unchanged, shared rather than copied. */
function sameRecord<T>(v: unknown, read: (x: unknown) => T | undefined): Record<string, T> | undefined {
  if (!isPlain(v)) return undefined;
  for (const k in v) if (k === "__proto__" || read(v[k]) !== v[k]) return undefined;
  return v as Record<string, T>;
}

function capacityValue(c: unknown): { value: string | number } | undefined {
  if (!isPlain(c)) return undefined;
  let keys = 0;
  for (const _ in c) keys++;
  const value = c["value"];
  // Only `{value}` itself: z.object would strip any other key, so a copy would differ.
  if (keys !== 1) return undefined;
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value)) ? (c as { value: string | number }) : undefined;
}

function device(v: unknown): DeviceFacts | undefined {
  if (!isPlain(v)) return undefined;
  const { name, driver, attributes, capacity, allowMultipleAllocations } = v;
  if (typeof name !== "string" || name.length === 0) return undefined;
  if (driver !== undefined && (typeof driver !== "string" || driver.length === 0)) return undefined;
  if (allowMultipleAllocations !== undefined && typeof allowMultipleAllocations !== "boolean") return undefined;
  const attrs = attributes === undefined ? {} : sameRecord(attributes, attribute);
  const caps = capacity === undefined ? {} : sameRecord(capacity, capacityValue);
  if (attrs === undefined || caps === undefined) return undefined;
  const out: DeviceFacts = { name, attributes: attrs, capacity: caps };
  if (driver !== undefined) out.driver = driver;
  if (allowMultipleAllocations !== undefined) out.allowMultipleAllocations = allowMultipleAllocations;
  return out;
}

function pool(v: unknown): PoolFacts | undefined {
  if (!isPlain(v)) return undefined;
  const { name, driver, nodeName, devices } = v;
  if (typeof name !== "string" || name.length === 0) return undefined;
  if (driver !== undefined && typeof driver !== "string") return undefined;
  if (nodeName !== undefined && typeof nodeName !== "string") return undefined;
  const out: PoolFacts = { name, devices: [] };
  if (driver !== undefined) out.driver = driver;
  if (nodeName !== undefined) out.nodeName = nodeName;
  if (devices !== undefined) {
    const parsed = listOf(devices, device);
    if (parsed === undefined) return undefined;
    out.devices = parsed;
  }
  return out;
}

/** Every item parsed, or undefined (not a list, or one item zod should judge). */
function listOf<T>(v: unknown, parse: (item: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: T[] = [];
  for (const item of v as unknown[]) {
    const parsed = parse(item);
    if (parsed === undefined) return undefined;
    out.push(parsed);
  }
  return out;
}

/** ClusterFacts.parse(input) when input is well-formed; undefined when zod should decide. */
export function fastClusterFacts(input: unknown): ClusterFacts | undefined {
  if (!isPlain(input)) return undefined;
  const { name, labels, pools } = input;
  if (typeof name !== "string" || name.length === 0) return undefined;
  const out: ClusterFacts = { name, labels: {}, pools: [] };
  if (labels !== undefined) {
    if (!isPlain(labels)) return undefined;
    for (const k in labels) {
      const l = labels[k];
      if (typeof l !== "string" || k === "__proto__") return undefined;
      out.labels[k] = l;
    }
  }
  if (pools !== undefined) {
    const parsed = listOf(pools, pool);
    if (parsed === undefined) return undefined;
    out.pools = parsed;
  }
  return out;
}
