// The record of what a workload mounts, written on the workload itself
// (annotation modelcache.dev/mounts) so it travels to its cluster and comes
// back in the observed state: the gate's memory of the previous mount during
// a rollout, and the per-cluster record of use.
//   ml-team/qwen3-8b=mc-ml-team/qwen3-8b-2a7f3c9e1d@sha256:...;ml-team/tok=...
export interface MountRecord {
  /** The claim's namespace on the cluster (the cache's; from another namespace the workload mounts its bridge, bridge.ts). */
  namespace: string;
  claimName: string;
  manifestDigest: string | undefined;
}

export function formatRecord(mounts: ReadonlyMap<string, MountRecord>): string {
  return [...mounts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([cache, m]) => `${cache}=${m.namespace}/${m.claimName}${m.manifestDigest !== undefined ? `@${m.manifestDigest}` : ""}`)
    .join(";");
}

/** What the record says; an entry that does not parse is left out (it is ours, and only memory). */
export function parseRecord(s: string | undefined): Map<string, MountRecord> {
  const out = new Map<string, MountRecord>();
  for (const entry of (s ?? "").split(";")) {
    const m = /^([a-z0-9-]+\/[a-z0-9.-]+)=([a-z0-9-]+)\/([a-z0-9.-]+)(?:@(\S+))?$/.exec(entry.trim());
    if (m === null) continue;
    out.set(m[1] ?? "", { namespace: m[2] ?? "", claimName: m[3] ?? "", manifestDigest: m[4] });
  }
  return out;
}
