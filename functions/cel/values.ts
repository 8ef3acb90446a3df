// The runtime values behind the CEL types Cluster, Pool and Device. Plain classes registered with
// the environment (so field access is type-checked and no JavaScript prototype property leaks into
// expressions), built once per cluster by toCelCluster and reused for every expression.

import { markInput } from "./meter.ts";
import type { Quantity } from "./quantity.ts";
import type { Semver } from "./semver.ts";

export type AttributeValue = bigint | boolean | string | Semver;

const EMPTY: ReadonlyMap<string, never> = Object.freeze(new Map<string, never>());

/**
 * map<domain, map<id, V>> where a domain the device lacks reads as an empty map, as in Kubernetes'
 * DRA CEL environment: `device.attributes["other.vendor"].x` is then a "no such key: x" error for
 * that device, not an error about the domain.
 */
export class DomainMap<V> extends Map<string, ReadonlyMap<string, V>> {
  override get(domain: string): ReadonlyMap<string, V> {
    return super.get(domain) ?? EMPTY;
  }
}
// cel-js recognises maps by `value.constructor === Map`; the subclass must look like one.
Object.defineProperty(DomainMap.prototype, "constructor", { value: Map, writable: false, enumerable: false });

export class CelDevice {
  readonly driver: string;
  readonly name: string;
  readonly pool: string;
  readonly attributes: DomainMap<AttributeValue>;
  readonly capacity: DomainMap<Quantity>;
  /** DRA consumable capacity: whether the device may be allocated to several requests at once. */
  readonly allowMultipleAllocations: boolean;

  constructor(
    driver: string,
    name: string,
    pool: string,
    attributes: DomainMap<AttributeValue>,
    capacity: DomainMap<Quantity>,
    allowMultipleAllocations = false,
  ) {
    this.driver = driver;
    this.name = name;
    this.pool = pool;
    this.attributes = attributes;
    this.capacity = capacity;
    this.allowMultipleAllocations = allowMultipleAllocations;
    // The meter prices a cluster's own maps by their size (their contents are bounded by the declared maxima).
    for (const m of [attributes, capacity]) {
      markInput(m);
      for (const inner of Map.prototype.values.call(m) as Iterable<object>) markInput(inner);
    }
  }
}

export class CelPool {
  readonly driver: string;
  readonly name: string;
  readonly nodeName: string;
  readonly devices: readonly CelDevice[];

  constructor(driver: string, name: string, nodeName: string, devices: readonly CelDevice[]) {
    this.driver = driver;
    this.name = name;
    this.nodeName = nodeName;
    this.devices = devices;
    markInput(devices);
  }
}

export class CelCluster {
  readonly name: string;
  readonly labels: ReadonlyMap<string, string>;
  readonly pools: readonly CelPool[];
  /** Every pool's devices, in pool order. */
  readonly devices: readonly CelDevice[];

  constructor(name: string, labels: ReadonlyMap<string, string>, pools: readonly CelPool[]) {
    this.name = name;
    this.labels = labels;
    this.pools = pools;
    this.devices = pools.flatMap((p) => p.devices);
    markInput(labels);
    markInput(pools);
    markInput(this.devices);
  }
}

/**
 * A node as node selectors see it (spec.nodeSelector.cel, variable `node`): the same fields as a
 * cluster, its pools being the DRA pools local to the node. Its own class so the type is named Node.
 */
export class CelNode extends CelCluster {}
