// replication: AllMatchingNodes: how big one cluster's ModelCacheReplica response and status get with its nodes,
// in serialized protobuf bytes (the function's own encoder), against Crossplane's 4 MiB response limit. The worst
// case: every node copying at once (claim, Job, report per node), with 45-character node names as EKS writes them;
// and every node Ready (the Jobs gone). Sizes only: nothing here is timed.
//
//   node bench/nodes/response-size.ts [--nodes 1,16,64,256]
import { parseArgs } from "node:util";
import { encodeResponse } from "../../functions/protocol/encode-response.ts";
import type { JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { baseXr, compose, observedObject, reportData, type ObservedAs } from "../../test/support/replica-builders.ts";

const { values } = parseArgs({ options: { nodes: { type: "string", default: "1,16,64,256" } } });
const DIGEST = "sha256:5b1e2f7c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";
const TOTAL = 16_389_206_016;
const report = (phase: string, done: number): JsonObject =>
  reportData({
    phase,
    source: "file:///seed",
    resolvedRevision: "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4",
    manifestDigest: DIGEST,
    bytesDone: done,
    bytesTotal: TOTAL,
    filesDone: 3,
    filesTotal: 7,
    bytesPerSecond: 1_073_741_824,
    etaSeconds: 9,
    startedAt: "2026-12-03T10:00:00Z",
    updatedAt: "2026-12-03T10:00:05Z",
  });

function row(n: number, state: "copying" | "ready"): string {
  const nodes = Array.from({ length: n }, (_, i) => ({ name: `ip-10-0-${Math.floor(i / 250)}-${i % 250}.us-east-2.compute.internal` }));
  const xr = baseXr({
    cluster: {
      name: "prod-east",
      providerConfigRef: { kind: "ClusterProviderConfig", name: "prod-east" },
      cloud: "Existing",
      storageClassName: "nfs",
      csiDrivers: ["SharedFilesystem"],
      nodes,
    },
    nodeLocal: { size: "40Gi" },
    pin: { resolvedRevision: "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4", manifestDigest: DIGEST },
  });
  const input = {
    apiVersion: "modelcache.fn.crossplane.io/v1alpha1",
    kind: "Input",
    tenancy: { nodeLocal: { storageClassNames: ["local-nvme"], maxNodesPerCluster: 256 } },
  };
  let rsp = compose(xr, {}, undefined, {}, input);
  // Observe what was composed, as the cluster shows it, until it settles (the shared copy first, then the nodes).
  for (let pass = 0; pass < 4; pass++) {
    const observed: Record<string, ResourceState> = {};
    for (const [k, s] of Object.entries(rsp.desired.resources)) {
      const as: ObservedAs =
        k.startsWith("volume-") || k.startsWith("nodevolume-")
          ? { status: { phase: "Bound" } }
          : k.startsWith("report-")
            ? { extra: report("Ready", TOTAL) }
            : k.startsWith("job-")
              ? { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }
              : k.startsWith("nodereport-")
                ? { extra: report(state === "ready" ? "Ready" : "Hydrating", state === "ready" ? TOTAL : TOTAL / 2) }
                : k.startsWith("nodejob-")
                  ? state === "ready"
                    ? { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }
                    : { status: { active: 1 } }
                  : {};
      observed[k] = observedObject(k, s.resource, as);
    }
    rsp = compose(xr, observed, undefined, {}, input);
  }
  const bytes = encodeResponse(rsp);
  if (!bytes.ok) throw new Error(bytes.error.message);
  const status = Buffer.byteLength(JSON.stringify(rsp.desired.composite?.resource["status"] ?? {}));
  const size = bytes.value.length;
  const st = rsp.desired.composite?.resource["status"] as JsonObject;
  return `| ${n} | ${state} | ${String(st["phase"])} | ${Object.keys(rsp.desired.resources).length} | ${size.toLocaleString("en-US")} | ${Math.round(size / n).toLocaleString("en-US")} | ${status.toLocaleString("en-US")} | ${size <= 4 * 1024 * 1024 ? "yes" : "no"} |`;
}

process.stdout.write(
  "| nodes | nodes are | replica phase | composed resources | response bytes | per node | status JSON bytes | fits 4 MiB |\n|---|---|---|---|---|---|---|---|\n",
);
for (const n of (values.nodes ?? "").split(",").map(Number)) for (const state of ["copying", "ready"] as const) process.stdout.write(`${row(n, state)}\n`);
