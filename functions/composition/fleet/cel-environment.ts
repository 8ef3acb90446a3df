// Binds the fleet's selector seam to the project's CEL environment
// (functions/cel): the expression is compiled once (and cached by text there),
// each cluster's facts become the DRA-shaped `cluster` value, and the call's
// selector work is metered against a budget that grows with the clusters it
// evaluates (RUNTIME_LIMITS), so one expression cannot hold the service for
// longer than the request's own size warrants.
import type { z } from "zod";
import { CLUSTER_LIMITS, RUNTIME_LIMITS, compileSelector, evaluateSelector, toCelCluster, type ClusterFactsInput, type DeviceFacts } from "../../cel/index.ts";
import type { Compiled, SelectorProgram } from "./cel.ts";
import type { ObservedCluster, PoolDevice } from "./read-cluster.ts";

type DeviceInput = z.input<typeof DeviceFacts>;

export type CelFacts = { ok: true; facts: ClusterFactsInput; devices: number } | { ok: false; message: string };

const count = (d: PoolDevice): number => d.count ?? 1;

/**
 * How many devices a cluster's pools stand for, checked against the declared maxima before any
 * entry with a `count` is expanded: `count: 1e9` is refused here, not allocated.
 */
function deviceCountProblem(f: ObservedCluster): { total: number; problem?: string } {
  let total = 0;
  for (const p of f.pools) {
    let inPool = 0;
    for (const d of p.devices) inPool += count(d);
    if (inPool > CLUSTER_LIMITS.maxDevicesPerPool) {
      return {
        total,
        problem: `cluster ${JSON.stringify(f.name)}: pool ${JSON.stringify(p.name)} stands for ${inPool} devices (counts included), more than the ${CLUSTER_LIMITS.maxDevicesPerPool} a pool may hold for selectors`,
      };
    }
    total += inPool;
  }
  if (total > CLUSTER_LIMITS.maxDevicesPerCluster) {
    return {
      total,
      problem: `cluster ${JSON.stringify(f.name)}: its pools stand for ${total} devices (counts included), more than the ${CLUSTER_LIMITS.maxDevicesPerCluster} a cluster may hold for selectors`,
    };
  }
  return { total };
}

function devices(pool: string, ds: readonly PoolDevice[]): DeviceInput[] {
  const out: DeviceInput[] = [];
  for (const [i, d] of ds.entries()) {
    const name = d.name ?? `${pool}-${i}`;
    const capacity: Record<string, { value: string | number }> = {};
    for (const [k, v] of Object.entries(d.capacity ?? {})) capacity[k] = { value: v.value };
    const multi = d["allowMultipleAllocations"];
    const base = {
      ...(d.driver !== undefined ? { driver: d.driver } : {}),
      attributes: d.attributes ?? {},
      capacity,
      ...(typeof multi === "boolean" ? { allowMultipleAllocations: multi } : {}),
    };
    // An entry with a count stands for that many identical devices: selectors count devices.
    const n = count(d);
    if (n <= 1) out.push({ name, ...base });
    else for (let k = 0; k < n; k++) out.push({ name: `${name}-${k}`, ...base });
  }
  return out;
}

/** The CEL environment's facts for a cluster as this module read it; refused when it stands for too many devices. */
export function celFacts(f: ObservedCluster): CelFacts {
  const { total, problem } = deviceCountProblem(f);
  if (problem !== undefined) return { ok: false, message: problem };
  return {
    ok: true,
    facts: { name: f.name, labels: f.labels, pools: f.pools.map((p) => ({ name: p.name, devices: devices(p.name, p.devices) })) },
    devices: total,
  };
}

const units = (n: number): string => Math.round(n).toLocaleString("en-US");

/**
 * The call's selector budget: each cluster evaluated adds costPerCluster plus costPerDevice for each
 * of its devices, unspent credit carries over (clusters are evaluated in name order, so the same
 * request stops at the same place), and no single cluster may use more than maxCostPerCluster.
 */
export class CallBudget {
  #credit = 0;

  limitFor(devices: number): number {
    this.#credit += RUNTIME_LIMITS.costPerCluster + RUNTIME_LIMITS.costPerDevice * devices;
    return Math.min(this.#credit, RUNTIME_LIMITS.maxCostPerCluster);
  }

  spend(cost: number): void {
    this.#credit = Math.max(0, this.#credit - cost);
  }

  /** limitFor then spend, for an evaluation already known to cost `cost`; nothing changes when it would not have fit. */
  replay(devices: number, cost: number): boolean {
    const credit = this.#credit + RUNTIME_LIMITS.costPerCluster + RUNTIME_LIMITS.costPerDevice * devices;
    if (cost > Math.min(credit, RUNTIME_LIMITS.maxCostPerCluster)) return false;
    this.#credit = Math.max(0, credit - cost);
    return true;
  }
}

/**
 * Whether replaying `m` succeeds in any call, whatever credit earlier clusters left: its cost fits the credit the
 * cluster itself brings (and the per-cluster maximum). Such a remembered cluster never needs its bytes again.
 */
export function replayAlwaysFits(m: { devices: number; cost: number }): boolean {
  return m.cost <= RUNTIME_LIMITS.costPerCluster + RUNTIME_LIMITS.costPerDevice * m.devices && m.cost <= RUNTIME_LIMITS.maxCostPerCluster;
}

const BUDGET_RULE =
  `spec.clusterSelector.cel is metered as it runs: ${units(RUNTIME_LIMITS.costPerCluster)} cost units per cluster plus ` +
  `${units(RUNTIME_LIMITS.costPerDevice)} per DRA device, pooled over the call's clusters, at most ${units(RUNTIME_LIMITS.maxCostPerCluster)} ` +
  `on one cluster (Kubernetes' limit)`;

export function compileWithCelEnvironment(expression: string): Compiled {
  const compiled = compileSelector(expression);
  if (!compiled.ok) return { ok: false, message: `${compiled.error.kind.toLowerCase()} error: ${compiled.error.message}` };
  const program = compiled.program;
  // One budget per call: composeFleet compiles once per call and evaluates every cluster with it.
  const budget = new CallBudget();
  const evaluator: SelectorProgram = {
    evaluate(facts) {
      const input = celFacts(facts);
      if (!input.ok) return { ok: false, message: input.message };
      const cluster = toCelCluster(input.facts);
      if (!cluster.ok) return { ok: false, message: cluster.error.message };
      const r = evaluateSelector(program, cluster.cluster, budget.limitFor(input.devices));
      budget.spend(r.cost);
      const metered = { devices: input.devices, cost: r.cost };
      if (r.ok) return { ok: true, value: r.value, metered };
      if (r.error.kind === "Budget") return { ok: false, message: `${r.error.message}; ${BUDGET_RULE}`, metered, transient: true };
      // evaluateSelector words a fault of the environment itself (a bug, a stack overflow) this way: not the cluster's doing.
      if (r.error.message.includes(": internal error: ")) return { ok: false, message: r.error.message, metered, transient: true };
      return { ok: false, message: r.error.message, metered };
    },
    replay: (m) => budget.replay(m.devices, m.cost),
  };
  return { ok: true, program: evaluator };
}
