// Binds the fleet's selector seam to the project's CEL environment
// (functions/cel): the expression is compiled once (and cached by text there),
// each cluster's facts become the DRA-shaped `cluster` value.
import type { z } from "zod";
import { compileSelector, evaluateSelector, toCelCluster, type ClusterFactsInput, type DeviceFacts } from "../../cel/index.ts";
import type { Compiled } from "./cel.ts";
import type { ClusterFacts, PoolDevice } from "./cluster-facts.ts";

type DeviceInput = z.input<typeof DeviceFacts>;

function devices(pool: string, ds: readonly PoolDevice[]): DeviceInput[] {
  const out: DeviceInput[] = [];
  for (const [i, d] of ds.entries()) {
    const name = d.name ?? `${pool}-${i}`;
    const capacity: Record<string, { value: string | number }> = {};
    for (const [k, v] of Object.entries(d.capacity ?? {})) capacity[k] = { value: v.value };
    const base = { ...(d.driver !== undefined ? { driver: d.driver } : {}), attributes: d.attributes ?? {}, capacity };
    // An entry with a count stands for that many identical devices: selectors count devices.
    const n = d.count ?? 1;
    if (n <= 1) out.push({ name, ...base });
    else for (let k = 0; k < n; k++) out.push({ name: `${name}-${k}`, ...base });
  }
  return out;
}

/** The CEL environment's facts for a cluster as this module read it. */
export function celFacts(f: ClusterFacts): ClusterFactsInput {
  return { name: f.name, labels: f.labels, pools: f.pools.map((p) => ({ name: p.name, devices: devices(p.name, p.devices) })) };
}

export function compileWithCelEnvironment(expression: string): Compiled {
  const compiled = compileSelector(expression);
  if (!compiled.ok) return { ok: false, message: `${compiled.error.kind.toLowerCase()} error: ${compiled.error.message}` };
  const program = compiled.program;
  return {
    ok: true,
    program: {
      evaluate(facts) {
        const cluster = toCelCluster(celFacts(facts));
        if (!cluster.ok) return { ok: false, message: cluster.error.message };
        const r = evaluateSelector(program, cluster.cluster);
        return r.ok ? r : { ok: false, message: r.error.message };
      },
    },
  };
}
