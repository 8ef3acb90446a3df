// The normalized facts about one cluster that selectors see, and their conversion into the CEL
// `cluster` value. The facts follow InferenceCluster.status.gpuPools (DRA ResourceSlice shape);
// whoever reads a cluster object maps it to ClusterFacts, this module knows nothing of CRDs.

import { z } from "zod";
import { fastClusterFacts } from "./fast-facts.ts";
import { CLUSTER_LIMITS } from "./limits.ts";
import { Quantity, QuantityParseError } from "./quantity.ts";
import { Semver, SemverParseError } from "./semver.ts";
import { CelCluster, CelDevice, CelPool, DomainMap, type AttributeValue } from "./values.ts";

/** A DRA device attribute: exactly one of string, version, bool, int. */
export const AttributeFacts = z
  .object({
    string: z.string().optional(),
    version: z.string().optional(),
    bool: z.boolean().optional(),
    // Integers arrive as JSON numbers (protobuf Struct) or as strings when beyond 2^53.
    int: z.union([z.number().int(), z.string().regex(/^-?[0-9]+$/), z.bigint()]).optional(),
  })
  .refine((a) => [a.string, a.version, a.bool, a.int].filter((v) => v !== undefined).length === 1, {
    message: "exactly one of string, version, bool, int must be set",
  });
export type AttributeFacts = z.infer<typeof AttributeFacts>;

export const DeviceFacts = z.object({
  name: z.string().min(1),
  /** The DRA driver; defaults to the pool's driver. */
  driver: z.string().min(1).optional(),
  attributes: z.record(z.string(), AttributeFacts).default({}),
  capacity: z.record(z.string(), z.object({ value: z.union([z.string(), z.number()]) })).default({}),
  /** DRA consumable capacity (ResourceSlice device.allowMultipleAllocations); false when unset. */
  allowMultipleAllocations: z.boolean().optional(),
});
export type DeviceFacts = z.infer<typeof DeviceFacts>;

export const PoolFacts = z.object({
  name: z.string().min(1),
  /** Defaults to the devices' driver when they all share one, "" otherwise. */
  driver: z.string().optional(),
  /** Set for node-local pools; "" for pools selected by nodeSelector or allNodes. */
  nodeName: z.string().optional(),
  devices: z.array(DeviceFacts).default([]),
});
export type PoolFacts = z.infer<typeof PoolFacts>;

export const ClusterFacts = z.object({
  name: z.string().min(1),
  labels: z.record(z.string(), z.string()).default({}),
  pools: z.array(PoolFacts).default([]),
});
export type ClusterFacts = z.infer<typeof ClusterFacts>;
/** What callers may pass (defaults not yet applied). */
export type ClusterFactsInput = z.input<typeof ClusterFacts>;

export type ToCelResult = { ok: true; cluster: CelCluster } | { ok: false; error: { kind: "Input"; message: string } };

/**
 * Convert a cluster's facts into the CEL `cluster` value. Pure. A cluster whose facts exceed the
 * declared maxima (limits.ts) is refused, not truncated: truncating devices would make `all()`
 * true and `exists()` false on data the selector never saw.
 */
export function toCelCluster(input: ClusterFactsInput): ToCelResult {
  // Well-formed facts skip zod (fast-facts.ts); anything else gets zod's verdict and message.
  let facts = fastClusterFacts(input);
  if (facts === undefined) {
    const parsed = ClusterFacts.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? issue.path.join(".") : "";
      return fail(`cluster facts are invalid at ${where || "(root)"}: ${issue?.message ?? "unknown error"}`);
    }
    facts = parsed.data;
  }
  try {
    checkLimits(facts);
    const labels = new Map(Object.entries(facts.labels));
    const pools = facts.pools.map((p) => toPool(p));
    return { ok: true, cluster: new CelCluster(facts.name, labels, pools) };
  } catch (e) {
    if (e instanceof FactsError) return fail(`cluster ${JSON.stringify(facts.name)}: ${e.message}`);
    throw e;
  }
}

class FactsError extends Error {}

function fail(message: string): ToCelResult {
  return { ok: false, error: { kind: "Input", message } };
}

function checkLimits(f: ClusterFacts): void {
  const L = CLUSTER_LIMITS;
  // The message is built only on failure: this runs for every attribute of every device.
  const over = (what: () => string, n: number, max: number) => {
    if (n > max) throw new FactsError(`${what()} is ${n}, more than the ${max} selectors are costed for`);
  };
  over(() => "name length", f.name.length, L.maxNameLength);
  const labels = Object.entries(f.labels);
  over(() => "label count", labels.length, L.maxLabels);
  for (const [k, v] of labels) {
    over(() => `label key ${JSON.stringify(k.slice(0, 40))} length`, k.length, L.maxLabelKeyLength);
    over(() => `label ${JSON.stringify(k)} value length`, v.length, L.maxLabelValueLength);
  }
  over(() => "pool count", f.pools.length, L.maxPools);
  let total = 0;
  for (const p of f.pools) {
    const pool = () => `pool ${JSON.stringify(p.name)}`;
    over(() => `${pool()} name length`, p.name.length, L.maxNameLength);
    over(() => `${pool()} node name length`, (p.nodeName ?? "").length, L.maxNameLength);
    over(() => `${pool()} driver length`, (p.driver ?? "").length, L.maxNameLength);
    over(() => `${pool()} device count`, p.devices.length, L.maxDevicesPerPool);
    total += p.devices.length;
    for (const d of p.devices) {
      const at = () => `device ${JSON.stringify(`${p.name}/${d.name}`)}`;
      over(() => `${at()} name length`, d.name.length, L.maxNameLength);
      over(() => `${at()} driver length`, (d.driver ?? "").length, L.maxNameLength);
      let n = 0;
      for (const _ in d.attributes) n++;
      for (const _ in d.capacity) n++;
      over(() => `${at()} attributes + capacities`, n, L.maxAttributesPerDevice);
      for (const name in d.attributes) {
        const a = d.attributes[name];
        over(() => `${at()} attribute ${name} key length`, name.length, L.maxLabelKeyLength);
        if (a?.string !== undefined) over(() => `${at()} attribute ${name} string length`, a.string.length, L.maxAttributeStringLength);
        if (a?.version !== undefined) over(() => `${at()} attribute ${name} version length`, a.version.length, L.maxAttributeStringLength);
      }
      for (const name in d.capacity) over(() => `${at()} capacity ${name} key length`, name.length, L.maxLabelKeyLength);
    }
  }
  over(() => "device count", total, L.maxDevicesPerCluster);
}

function toPool(p: PoolFacts): CelPool {
  const drivers = new Set(p.devices.map((d) => d.driver).filter((d): d is string => d !== undefined));
  const only = drivers.size === 1 ? [...drivers][0] : undefined;
  const poolDriver = p.driver ?? only ?? "";
  const devices = p.devices.map((d) => toDevice(d, p.name, d.driver ?? poolDriver));
  return new CelPool(poolDriver, p.name, p.nodeName ?? "", devices);
}

/**
 * DRA qualified names: `resource.kubernetes.io/pcieRoot` lives in its own domain, an unqualified
 * `productName` in the driver's.
 */
export function splitQualifiedName(name: string, driver: string): [domain: string, id: string] {
  const slash = name.lastIndexOf("/");
  return slash >= 0 ? [name.slice(0, slash), name.slice(slash + 1)] : [driver, name];
}

function toDevice(d: DeviceFacts, pool: string, driver: string): CelDevice {
  const where = `device ${JSON.stringify(`${pool}/${d.name}`)}`;
  const attributes = new DomainMap<AttributeValue>();
  for (const [name, a] of Object.entries(d.attributes)) {
    put(attributes, splitQualifiedName(name, driver), attributeValue(a, `${where} attribute ${name}`));
  }
  const capacity = new DomainMap<Quantity>();
  for (const [name, c] of Object.entries(d.capacity)) {
    let q: Quantity;
    try {
      q = Quantity.parse(String(c.value));
    } catch (e) {
      if (e instanceof QuantityParseError) throw new FactsError(`${where} capacity ${name}: ${e.message}`);
      throw e;
    }
    put(capacity, splitQualifiedName(name, driver), q);
  }
  return new CelDevice(driver, d.name, pool, attributes, capacity, d.allowMultipleAllocations ?? false);
}

function put<V>(m: DomainMap<V>, [domain, id]: [string, string], v: V): void {
  // Map.prototype.get: the override would hand back the shared empty map.
  const existing = Map.prototype.get.call(m, domain) as Map<string, V> | undefined;
  if (existing) existing.set(id, v);
  else m.set(domain, new Map([[id, v]]));
}

function attributeValue(a: AttributeFacts, where: string): AttributeValue {
  if (a.string !== undefined) return a.string;
  if (a.bool !== undefined) return a.bool;
  if (a.int !== undefined) return BigInt(a.int);
  try {
    return Semver.parse(a.version ?? "");
  } catch (e) {
    if (e instanceof SemverParseError) throw new FactsError(`${where}: ${e.message}`);
    throw e;
  }
}
