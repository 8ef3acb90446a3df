import { describe, expect, it } from "vitest";
import { splitQualifiedName, toCelCluster, type ClusterFactsInput } from "./cluster-facts.ts";
import { CLUSTER_LIMITS } from "./limits.ts";
import { Quantity } from "./quantity.ts";
import { Semver } from "./semver.ts";
import { h100, h100Cluster, h100Pool, rackPool } from "../../test/support/cel-testdata.ts";

function convert(facts: ClusterFactsInput) {
  const r = toCelCluster(facts);
  if (!r.ok) throw new Error(r.error.message);
  return r.cluster;
}

describe("splitQualifiedName", () => {
  it.each([
    { name: "productName", domain: "gpu.nvidia.com", id: "productName", reason: "unqualified: the driver's domain" },
    { name: "resource.kubernetes.io/pcieRoot", domain: "resource.kubernetes.io", id: "pcieRoot", reason: "qualified: its own domain" },
    { name: "ext.example.com/family", domain: "ext.example.com", id: "family", reason: "a third-party domain" },
  ])("$name: $reason", ({ name, domain, id }) => {
    expect(splitQualifiedName(name, "gpu.nvidia.com")).toEqual([domain, id]);
  });
});

describe("toCelCluster", () => {
  it("builds the cluster value with all pools' devices in pool order", () => {
    const c = convert(h100Cluster);
    expect(c.name).toBe("h100-east");
    expect(c.labels.get("region")).toBe("us-east1");
    expect(c.pools.map((p) => p.name)).toEqual(["h100-node-0", "h100-node-1"]);
    expect(c.devices.map((d) => `${d.pool}/${d.name}`).slice(7, 9)).toEqual(["h100-node-0/gpu-7", "h100-node-1/gpu-0"]);
  });

  it("types attribute values: strings, Semver versions, bools, bigint ints; capacities as Quantity", () => {
    const c = convert({ name: "x", pools: [rackPool, h100Pool(0, 1)] });
    const [accel, gpu] = c.devices;
    expect(accel?.attributes.get("dra.example.com").get("healthy")).toBe(true);
    expect(accel?.attributes.get("dra.example.com").get("numaNode")).toBe(0n);
    expect(accel?.attributes.get("dra.example.com").get("firmware")).toBeInstanceOf(Semver);
    expect(accel?.attributes.get("ext.example.com").get("family")).toBe("x-series");
    expect(gpu?.attributes.get("gpu.nvidia.com").get("productName")).toBe("NVIDIA H100 80GB HBM3");
    expect(gpu?.attributes.get("resource.kubernetes.io").get("pcieRoot")).toBe("pci0000:10");
    const mem = gpu?.capacity.get("gpu.nvidia.com").get("memory");
    expect(mem).toBeInstanceOf(Quantity);
    expect(mem?.compareTo(Quantity.parse("81559Mi"))).toBe(0);
  });

  it("reads a domain the device lacks as an empty map", () => {
    const c = convert({ name: "x", pools: [rackPool] });
    expect(c.devices[0]?.attributes.get("gpu.nvidia.com").size).toBe(0);
  });

  it("takes the device driver from the pool, and the pool driver from uniform devices", () => {
    const c = convert({ name: "x", pools: [rackPool, h100Pool(0, 1), { name: "mixed", devices: [h100(0), { ...h100(1), driver: "other.example.com" }] }] });
    expect(c.devices[0]?.driver).toBe("dra.example.com");
    expect(c.pools[1]?.driver).toBe("gpu.nvidia.com");
    expect(c.pools[2]?.driver).toBe("");
    expect(c.pools[0]?.nodeName).toBe("");
  });

  const refused: { facts: ClusterFactsInput; contains: string; reason: string }[] = [
    {
      facts: { name: "big", pools: Array.from({ length: CLUSTER_LIMITS.maxPools + 1 }, (_, i) => ({ name: `p${i}` })) },
      contains: "pool count is 1025",
      reason: "more pools than costed for",
    },
    {
      facts: {
        name: "big",
        pools: [{ name: "p", devices: Array.from({ length: CLUSTER_LIMITS.maxDevicesPerPool + 1 }, (_, i) => ({ name: `d${i}`, driver: "x" })) }],
      },
      contains: "device count is 513",
      reason: "more devices in one pool than costed for",
    },
    {
      facts: {
        name: "big",
        pools: Array.from({ length: 17 }, (_, p) => ({ name: `p${p}`, devices: Array.from({ length: 512 }, (_, i) => ({ name: `d${i}`, driver: "x" })) })),
      },
      contains: "device count is 8704",
      reason: "more devices in the cluster than costed for",
    },
    {
      facts: { name: "x", labels: { a: "v".repeat(64) } },
      contains: "value length is 64",
      reason: "a label value longer than Kubernetes allows",
    },
    {
      facts: { name: "x", pools: [{ name: "p", devices: [{ name: "d", driver: "x", attributes: { v: { version: "1.2" } } }] }] },
      contains: "invalid semver",
      reason: "a version attribute that is not semver",
    },
    {
      facts: { name: "x", pools: [{ name: "p", devices: [{ name: "d", driver: "x", capacity: { memory: { value: "80GB" } } }] }] },
      contains: "capacity memory",
      reason: "a capacity that is not a quantity",
    },
    {
      facts: { name: "x", pools: [{ name: "p", devices: [{ name: "d", driver: "x", attributes: { s: { string: "s".repeat(65) } } }] }] },
      contains: "string length is 65",
      reason: "a string attribute longer than DRA allows",
    },
  ];
  it.each(refused)("refuses with a reason: $reason", ({ facts, contains }) => {
    const r = toCelCluster(facts);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("Input");
    expect(r.error.message).toContain(contains);
  });
});
