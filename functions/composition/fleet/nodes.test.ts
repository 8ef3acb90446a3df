import { describe, expect, it } from "vitest";
import { NodeLocalPolicy } from "../../api/node-local.ts";
import type { JsonValue } from "../../sdk/types.ts";
import { compileNodeSelector, decideNodes, readNodes, type NodeContext, type NodeDecision, type ReadNodes } from "./nodes.ts";

const H100 = {
  name: "gpu-0",
  driver: "gpu.nvidia.com",
  attributes: { productName: { string: "NVIDIA H100 80GB HBM3" } },
  capacity: { memory: { value: "81559Mi" } },
};
const A100 = { ...H100, attributes: { productName: { string: "NVIDIA A100-SXM4-80GB" } } };
const nodes = (list: JsonValue[]): ReadNodes => readNodes({ status: { nodes: list } }, "status.nodes");
const policy = NodeLocalPolicy.parse({ storageClassNames: ["local-nvme"] });
const ctx = (over: Partial<NodeContext> = {}): NodeContext => ({ cluster: "east", path: "status.nodes", selector: {}, policy, program: undefined, ...over });
const h100Only = (() => {
  const c = compileNodeSelector('node.devices.exists(d, d.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))');
  if (!c.ok) throw new Error(c.message);
  return c.program;
})();

interface Row {
  reason: string;
  read: ReadNodes;
  ctx?: Partial<NodeContext>;
  want: NodeDecision;
}

const rows: Row[] = [
  {
    reason: "no node list on the cluster object: Blocked (its replica kept), never read as 'no nodes'",
    read: readNodes({ status: {} }, "status.nodes"),
    want: { kind: "blocked", reason: "cluster east publishes no node list at status.nodes: replication AllMatchingNodes needs one" },
  },
  {
    reason: "a node list of the wrong shape: Blocked with the field, nothing guessed",
    read: nodes([{ name: "n1", unschedulable: "yes" }]),
    want: {
      kind: "blocked",
      reason: "cluster east's node list is unreadable: status.nodes[0].unschedulable: Invalid input: expected boolean, received string",
    },
  },
  {
    reason: "every node, sorted, with an empty selector; a cordoned node and a NotReady one are selected but marked cordoned",
    read: nodes([{ name: "n3", ready: false }, { name: "n1" }, { name: "n2", unschedulable: true }]),
    want: {
      kind: "selected",
      nodes: [{ name: "n1" }, { name: "n2", cordoned: true }, { name: "n3", cordoned: true }],
      notSelected: [],
      celErrors: [],
      overLimit: [],
    },
  },
  {
    reason: "matchLabels narrows the nodes; the others are listed with the label that ruled them out",
    read: nodes([
      { name: "n1", labels: { pool: "gpu" } },
      { name: "n2", labels: { pool: "cpu" } },
    ]),
    ctx: { selector: { matchLabels: { pool: "gpu" } } },
    want: {
      kind: "selected",
      nodes: [{ name: "n1" }],
      notSelected: [{ name: "n2", reason: 'matchLabels: pool is "cpu", want "gpu"' }],
      celErrors: [],
      overLimit: [],
    },
  },
  {
    reason: "CEL over the node's DRA devices, in the cluster selectors' environment: only the H100 node",
    read: nodes([
      { name: "a100-0", devices: [A100] },
      { name: "h100-0", devices: [H100] },
    ]),
    ctx: { program: h100Only },
    want: {
      kind: "selected",
      nodes: [{ name: "h100-0" }],
      notSelected: [{ name: "a100-0", reason: "cel: the expression is false for this node" }],
      celErrors: [],
      overLimit: [],
    },
  },
  {
    reason: "the platform's node labels come first: a node outside them is never reachable, whatever the tenant selects",
    read: nodes([{ name: "n1", labels: { "modelcache.dev/local-disk": "true" } }, { name: "n2" }]),
    ctx: { policy: { ...policy, nodeSelector: { "modelcache.dev/local-disk": "true" } } },
    want: {
      kind: "selected",
      nodes: [{ name: "n1" }],
      notSelected: [
        {
          name: "n2",
          reason: 'outside the platform\'s nodes (input.tenancy.nodeLocal.nodeSelector matchLabels: modelcache.dev/local-disk is not set, want "true")',
        },
      ],
      celErrors: [],
      overLimit: [],
    },
  },
  {
    reason: "more matching nodes than the platform allows per cluster: the first by name, the rest reported",
    read: nodes([{ name: "n1" }, { name: "n2" }, { name: "n3" }]),
    ctx: { policy: { ...policy, maxNodesPerCluster: 2 } },
    want: {
      kind: "selected",
      nodes: [{ name: "n1" }, { name: "n2" }],
      notSelected: [{ name: "n3", reason: "more than input.tenancy.nodeLocal.maxNodesPerCluster (2) nodes match" }],
      celErrors: [],
      overLimit: ["n3"],
    },
  },
  {
    reason: "a node joins past the limit with a name before the others': the nodes that hold a copy keep their place, the newcomer gets none",
    read: nodes([{ name: "n0" }, { name: "n1" }, { name: "n2" }]),
    ctx: { policy: { ...policy, maxNodesPerCluster: 2 }, holding: new Set(["n1", "n2"]) },
    want: {
      kind: "selected",
      nodes: [{ name: "n1" }, { name: "n2" }],
      notSelected: [{ name: "n0", reason: "more than input.tenancy.nodeLocal.maxNodesPerCluster (2) nodes match" }],
      celErrors: [],
      overLimit: ["n0"],
    },
  },
  {
    reason: "no node matches: Blocked (not 'not selected'), so a copy already there is kept and the cache is not Ready",
    read: nodes([{ name: "n1", labels: { pool: "cpu" } }]),
    ctx: { selector: { matchLabels: { pool: "gpu" } } },
    want: { kind: "blocked", reason: 'none of cluster east\'s 1 node(s) matches spec.nodeSelector (n1: matchLabels: pool is "cpu", want "gpu")' },
  },
  {
    reason: "a node listed twice is an unreadable list, not two copies",
    read: nodes([{ name: "n1" }, { name: "n1" }]),
    want: { kind: "blocked", reason: "cluster east's node list is unreadable: status.nodes lists node n1 twice" },
  },
];

describe("decideNodes", () => {
  for (const r of rows)
    it(r.reason, () => {
      expect(decideNodes(r.read, ctx(r.ctx))).toEqual(r.want);
    });
});

describe("compileNodeSelector", () => {
  it("refuses `cluster` in a node selector: the variable is node", () => {
    const c = compileNodeSelector('cluster.labels["a"] == "b"');
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.message).toMatch(/cluster/);
  });
  it("a node's pools are local to it: nodeName is the node's name", () => {
    const c = compileNodeSelector("node.pools.all(p, p.nodeName == node.name) && node.pools.size() == 1");
    if (!c.ok) throw new Error(c.message);
    expect(c.program.evaluate({ name: "n1", labels: {}, unschedulable: false, ready: true, devices: [H100] })).toEqual({ ok: true, value: true });
  });
  it("an evaluation error names the node", () => {
    const c = compileNodeSelector('node.labels["missing"] == "x"');
    if (!c.ok) throw new Error(c.message);
    const r = c.program.evaluate({ name: "n1", labels: {}, unschedulable: false, ready: true, devices: [] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^node "n1"/);
  });
});
