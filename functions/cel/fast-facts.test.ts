// The hand-written reading of ClusterFacts must agree with the zod schema:
// whatever it accepts, zod accepts with the same output; whatever it is unsure
// of, it leaves to zod (undefined), so zod's message is the one users see.
import { describe, expect, it } from "vitest";
import { ClusterFacts } from "./cluster-facts.ts";
import { fastClusterFacts } from "./fast-facts.ts";
import { a100Cluster, emptyCluster, exampleOnlyCluster, h100, h100Cluster, mixedCluster } from "../../test/support/cel-testdata.ts";

const dev = (over: Record<string, unknown>) => ({ name: "h", pools: [{ name: "p", devices: [{ ...h100(0), ...over }] }] });

describe("fastClusterFacts", () => {
  it.each<{ reason: string; input: unknown }>([
    { reason: "H100 nodes, every NVIDIA attribute", input: h100Cluster },
    { reason: "MIG slices with three capacities", input: a100Cluster },
    { reason: "bool, int and version attributes, a pool-level driver, no nodeName", input: exampleOnlyCluster },
    { reason: "pools of three kinds", input: mixedCluster },
    { reason: "no pools, no devices: the defaults", input: emptyCluster },
    { reason: "only a name", input: { name: "bare" } },
    {
      reason: "an int attribute as a string beyond 2^53, and as a bigint",
      input: dev({ attributes: { big: { int: "123456789012345678901" }, b: { int: 7n } } }),
    },
    { reason: "a numeric capacity", input: dev({ capacity: { memory: { value: 1024 } } }) },
    { reason: "an attribute key set to undefined next to one that is set", input: dev({ attributes: { a: { string: "x", int: undefined } } }) },
  ])("accepts, as zod does: $reason", ({ input }) => {
    const fast = fastClusterFacts(input);
    expect(fast).toBeDefined();
    expect(fast).toEqual(ClusterFacts.parse(input));
  });

  it.each<{ reason: string; input: unknown }>([
    { reason: "an empty name", input: { name: "" } },
    { reason: "a label that is not a string", input: { name: "x", labels: { a: 1 } } },
    { reason: "pools that are not a list", input: { name: "x", pools: {} } },
    { reason: "a device without a name", input: dev({ name: "" }) },
    { reason: "an empty driver", input: dev({ driver: "" }) },
    { reason: "an attribute with two values", input: dev({ attributes: { a: { string: "x", bool: true } } }) },
    { reason: "an attribute with no value", input: dev({ attributes: { a: {} } }) },
    { reason: "a fractional int attribute", input: dev({ attributes: { a: { int: 1.5 } } }) },
    { reason: "a capacity without a value", input: dev({ capacity: { memory: {} } }) },
    { reason: "a capacity that is a bool", input: dev({ capacity: { memory: { value: true } } }) },
  ])("leaves to zod, which refuses: $reason", ({ input }) => {
    expect(fastClusterFacts(input)).toBeUndefined();
    expect(ClusterFacts.safeParse(input).success).toBe(false);
  });

  it("leaves an unknown attribute key to zod, which strips it", () => {
    const input = dev({ attributes: { a: { string: "x", extra: "y" } } });
    expect(fastClusterFacts(input)).toBeUndefined();
    expect(ClusterFacts.safeParse(input).success).toBe(true);
  });
});
