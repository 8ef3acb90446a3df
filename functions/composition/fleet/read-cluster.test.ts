// readCluster's pools: the hand-written reading (fastGpuPools) must agree with
// the zod schema, which stays the one that words errors.
import { describe, expect, it } from "vitest";
import { fastGpuPools, GpuPools } from "./read-cluster.ts";
import { GPUS, inferenceCluster } from "../../../test/support/fleet-builders.ts";

const pools = (c: ReturnType<typeof inferenceCluster>) => (c["status"] as { gpuPools: unknown })["gpuPools"];
const device = (over: Record<string, unknown>) => [
  { name: "p", devices: [{ name: "d", driver: "gpu.nvidia.com", attributes: { productName: { string: "x" } }, ...over }] },
];

describe("fastGpuPools", () => {
  it.each<{ reason: string; input: unknown }>([
    {
      reason: "H100 and L40S pools as the NVIDIA driver publishes them",
      input: pools(
        inferenceCluster({
          name: "c",
          pools: [
            { gpu: GPUS.H100, nodes: 2 },
            { gpu: GPUS.L40S, nodes: 1 },
          ],
        }),
      ),
    },
    { reason: "no pools", input: [] },
    { reason: "a pool without devices gets the default list", input: [{ name: "p" }] },
    { reason: "nodes as a list of names, unknown pool fields kept", input: [{ name: "p", nodes: ["n1", "n2"], zone: "a", devices: [] }] },
    {
      reason: "a counted device entry with a claim and class, unknown device fields kept",
      input: device({ count: 8, claim: "c", deviceClassName: "gpu.nvidia.com", vendor: "x" }),
    },
    {
      reason: "bool, int and version attributes; capacities with extra fields",
      input: device({
        attributes: { a: { bool: true }, b: { int: 3 }, c: { version: "1.2.3" } },
        capacity: { memory: { value: "80Gi", note: "x" }, n: { value: 4 } },
      }),
    },
    {
      reason: "an int attribute as a decimal string (beyond 2^53, as the CEL environment reads it: one DRA attribute model)",
      input: device({ attributes: { a: { int: "9007199254740993" } } }),
    },
  ])("accepts, as zod does: $reason", ({ input }) => {
    const fast = fastGpuPools(input);
    expect(fast).toBeDefined();
    expect(fast).toEqual(GpuPools.parse(input));
  });

  it.each<{ reason: string; input: unknown }>([
    { reason: "not a list", input: { name: "p" } },
    { reason: "a pool without a name", input: [{ devices: [] }] },
    { reason: "negative nodes", input: [{ name: "p", nodes: -1 }] },
    { reason: "devices not a list", input: [{ name: "p", devices: "x" }] },
    { reason: "a negative count", input: device({ count: -1 }) },
    { reason: "a driver that is not a string", input: device({ driver: 3 }) },
    { reason: "an attribute with none of string, version, bool, int", input: device({ attributes: { a: { text: "x" } } }) },
    { reason: "an attribute with two values (DRA allows exactly one)", input: device({ attributes: { a: { string: "x", bool: true } } }) },
    { reason: "an int attribute that is not a whole number", input: device({ attributes: { a: { int: "3.5" } } }) },
    { reason: "a capacity value that is an object", input: device({ capacity: { memory: { value: {} } } }) },
  ])("leaves to zod, which refuses: $reason", ({ input }) => {
    expect(fastGpuPools(input)).toBeUndefined();
    expect(GpuPools.safeParse(input).success).toBe(false);
  });
});
