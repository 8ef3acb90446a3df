// replication: AllMatchingNodes at the fleet level: which nodes of a selected
// cluster get a copy on local disk. The nodes come from the cluster object
// itself (input.clusters.fields.nodes, `status.nodes` of an InferenceCluster),
// published by the platform's cluster controller, the same trusted path the
// cluster's DRA pools take (docs/design.md, "Node-local copies", says why not
// an Object per node or an agent). Pure: a table of cases in nodes.test.ts.
import { z } from "zod";
import type { NodeLocalPolicy, NodeSelector, ReplicaNode } from "../../api/node-local.ts";
import { compileSelector, evaluateSelector, toCelCluster } from "../../cel/index.ts";
import { field, readPath, str } from "../../common/json.ts";
import { formatIssues } from "../../common/zod-issues.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { Evaluated } from "./cel.ts";
import { CallBudget, celFacts } from "./cel-environment.ts";
import { labelMismatch } from "./labels.ts";
import { PoolDevice } from "./read-cluster.ts";
import type { Outcome } from "./select.ts";

/** One node as the cluster object publishes it. */
export const NodeFact = z
  .object({
    name: z.string().min(1).max(253),
    labels: z.record(z.string(), z.string()).default({}),
    unschedulable: z.boolean().default(false).describe("Cordoned (the Node's spec.unschedulable)."),
    ready: z.boolean().default(true).describe("The Node's Ready condition; false counts as unavailable, like a cordon."),
    devices: z.array(PoolDevice).default([]).describe("The DRA devices local to the node, each with its driver."),
  })
  .loose();
export type NodeFact = z.infer<typeof NodeFact>;

/** The most nodes read from one cluster object; a list longer than this is unreadable rather than cut. */
export const MAX_LISTED_NODES = 5000;

export type ReadNodes = { kind: "absent" } | { kind: "unreadable"; reason: string } | { kind: "ok"; nodes: NodeFact[] };

export function readNodes(cluster: JsonObject, path: string): ReadNodes {
  const r = readPath(cluster, path);
  if (!r.found) return { kind: "absent" };
  if (Array.isArray(r.value) && r.value.length > MAX_LISTED_NODES)
    return { kind: "unreadable", reason: `${path} lists ${r.value.length} nodes, more than the ${MAX_LISTED_NODES} read` };
  const parsed = z.array(NodeFact).safeParse(r.value);
  if (!parsed.success) return { kind: "unreadable", reason: formatIssues(path, parsed.error, 3) };
  const seen = new Set<string>();
  for (const n of parsed.data) {
    if (seen.has(n.name)) return { kind: "unreadable", reason: `${path} lists node ${n.name} twice` };
    seen.add(n.name);
  }
  return { kind: "ok", nodes: [...parsed.data].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
}

export interface NodeProgram {
  evaluate(node: NodeFact): Evaluated;
}

export type CompiledNodes = { ok: true; program: NodeProgram } | { ok: false; message: string };

/**
 * spec.nodeSelector.cel in the cluster selectors' environment, with `node` for `cluster`: the node's
 * name and labels, and its devices as DRA pools local to it (one per driver, nodeName set). Metered
 * like cluster selection, one budget per call.
 */
export function compileNodeSelector(expression: string): CompiledNodes {
  const compiled = compileSelector(expression, "node");
  if (!compiled.ok) return { ok: false, message: `${compiled.error.kind.toLowerCase()} error: ${compiled.error.message}` };
  const program = compiled.program;
  const budget = new CallBudget();
  return {
    ok: true,
    program: {
      evaluate(node) {
        const facts = celFacts({ name: node.name, labels: node.labels, csiDrivers: [], pools: [{ name: node.name, devices: node.devices }] });
        if (!facts.ok) return { ok: false, message: facts.message };
        // One DRA pool per driver, local to the node, as a driver publishes its ResourceSlices.
        const byDriver = new Map<string, NonNullable<typeof facts.facts.pools>[number]["devices"]>();
        for (const d of facts.facts.pools?.[0]?.devices ?? []) {
          const driver = d.driver ?? "";
          byDriver.set(driver, [...(byDriver.get(driver) ?? []), d]);
        }
        const pools = [...byDriver.entries()].map(([driver, devices]) => ({ name: node.name, driver, nodeName: node.name, devices }));
        const value = toCelCluster({ name: node.name, labels: node.labels, pools });
        if (!value.ok) return { ok: false, message: value.error.message };
        const r = evaluateSelector(program, value.cluster, budget.limitFor(facts.devices));
        budget.spend(r.cost);
        return r.ok ? { ok: true, value: r.value } : { ok: false, message: r.error.message };
      },
    },
  };
}

/** What happens to one cluster's nodes. */
export type NodeDecision =
  | {
      kind: "selected";
      /** Sorted by name; cordoned (or not Ready) nodes carry cordoned: true. */
      nodes: ReplicaNode[];
      /** Nodes not selected, with why (for status.notSelected when explained, and Warnings). */
      notSelected: { name: string; reason: string }[];
      /** CEL evaluation errors (not selected): for a Warning. */
      celErrors: string[];
      /** Matching nodes past input.tenancy.nodeLocal.maxNodesPerCluster: for a Warning. */
      overLimit: string[];
    }
  /** The cluster cannot hold node copies now: Blocked, its replica kept unchanged (a gap is never a deletion). */
  | { kind: "blocked"; reason: string };

export interface NodeContext {
  cluster: string;
  /** input.clusters.fields.nodes, for messages. */
  path: string;
  selector: NodeSelector;
  policy: NodeLocalPolicy;
  program: NodeProgram | undefined;
  /** Nodes the cluster's replica reports a copy on (selected): past the limit they keep their place before newcomers. */
  holding?: ReadonlySet<string>;
}

/**
 * The platform's node labels first (what a tenant may reach), then the tenant's matchLabels,
 * matchExpressions and CEL, ANDed, in name order; at most maxNodesPerCluster: the nodes that already hold
 * a copy first, then by name, so a node joining past the limit never pushes out a copy that is there.
 */
export function decideNodes(read: ReadNodes, c: NodeContext): NodeDecision {
  if (read.kind === "absent")
    return { kind: "blocked", reason: `cluster ${c.cluster} publishes no node list at ${c.path}: replication AllMatchingNodes needs one` };
  if (read.kind === "unreadable") return { kind: "blocked", reason: `cluster ${c.cluster}'s node list is unreadable: ${read.reason}` };
  const nodes: ReplicaNode[] = [];
  const notSelected: { name: string; reason: string }[] = [];
  const celErrors: string[] = [];
  const overLimit: string[] = [];
  const matching: NodeFact[] = [];
  for (const n of read.nodes) {
    const platform = labelMismatch({ matchLabels: c.policy.nodeSelector }, n.labels);
    if (platform !== undefined) {
      notSelected.push({ name: n.name, reason: `outside the platform's nodes (input.tenancy.nodeLocal.nodeSelector ${platform})` });
      continue;
    }
    const mismatch = labelMismatch(c.selector, n.labels);
    if (mismatch !== undefined) {
      notSelected.push({ name: n.name, reason: mismatch });
      continue;
    }
    if (c.program !== undefined) {
      const r = c.program.evaluate(n);
      if (!r.ok) {
        celErrors.push(`${c.cluster}/${n.name}: ${r.message}`);
        notSelected.push({ name: n.name, reason: `cel: evaluation failed: ${r.message}` });
        continue;
      }
      if (!r.value) {
        notSelected.push({ name: n.name, reason: "cel: the expression is false for this node" });
        continue;
      }
    }
    matching.push(n);
  }
  const holding = c.holding ?? new Set<string>();
  const kept = new Set(
    [...matching.filter((n) => holding.has(n.name)), ...matching.filter((n) => !holding.has(n.name))].slice(0, c.policy.maxNodesPerCluster).map((n) => n.name),
  );
  for (const n of matching) {
    if (!kept.has(n.name)) {
      overLimit.push(n.name);
      notSelected.push({ name: n.name, reason: `more than input.tenancy.nodeLocal.maxNodesPerCluster (${c.policy.maxNodesPerCluster}) nodes match` });
      continue;
    }
    nodes.push(n.unschedulable || !n.ready ? { name: n.name, cordoned: true } : { name: n.name });
  }
  if (nodes.length === 0)
    return {
      kind: "blocked",
      reason: `none of cluster ${c.cluster}'s ${read.nodes.length} node(s) matches spec.nodeSelector${notSelected[0] ? ` (${notSelected[0].name}: ${notSelected[0].reason})` : ""}`,
    };
  return { kind: "selected", nodes, notSelected, celErrors, overLimit };
}

export interface NodeSelectionArgs {
  outcomes: readonly Outcome[];
  /** The delivered cluster objects, read again for their node lists (only the selected ones are). */
  clusters: readonly JsonObject[];
  path: string;
  selector: NodeSelector;
  policy: NodeLocalPolicy;
  program: NodeProgram | undefined;
  /** Per cluster, the nodes its replica reports a copy on. */
  holding?: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Each selected cluster's nodes: its facts carry the selected ones (fan-out hands them to its replica),
 * or it becomes Blocked with the reason. Other outcomes are unchanged.
 */
export function withNodes(a: NodeSelectionArgs): {
  outcomes: Outcome[];
  celErrors: string[];
  overLimit: string[];
  /** Nodes of selected clusters not selected, as `<cluster>/<node>`, for status.notSelected when explained. */
  notSelected: { name: string; reason: string }[];
} {
  const raw = new Map<string, JsonObject>();
  for (const c of a.clusters) {
    const name = str(field(c, "metadata", "name"));
    // A namespaced type may deliver one name twice; selection took the first in name/namespace order, and so do we.
    if (name !== undefined && !raw.has(name)) raw.set(name, c);
  }
  const celErrors: string[] = [];
  const overLimit: string[] = [];
  const notSelected: { name: string; reason: string }[] = [];
  const outcomes = a.outcomes.map((o): Outcome => {
    if (o.kind !== "selected") return o;
    const obj = raw.get(o.name);
    const read: ReadNodes = obj === undefined ? { kind: "absent" } : readNodes(obj, a.path);
    const d = decideNodes(read, {
      cluster: o.name,
      path: a.path,
      selector: a.selector,
      policy: a.policy,
      program: a.program,
      ...(a.holding?.get(o.name) !== undefined ? { holding: a.holding.get(o.name) } : {}),
    });
    if (d.kind === "blocked") return { kind: "blocked", name: o.name, facts: o.facts, reason: d.reason };
    celErrors.push(...d.celErrors);
    overLimit.push(...d.overLimit.map((n) => `${o.name}/${n}`));
    notSelected.push(...d.notSelected.map((n) => ({ name: `${o.name}/${n.name}`, reason: `node: ${n.reason}` })));
    return { ...o, facts: { ...o.facts, nodes: d.nodes } };
  });
  return { outcomes, celErrors, overLimit, notSelected };
}
