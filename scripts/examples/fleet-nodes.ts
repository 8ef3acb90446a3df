// Writes examples/fleet-nodes-*/ (replication: AllMatchingNodes at the fleet level) from the builders the
// tests use: the fleet's InferenceClusters with the node list their controller publishes (status.nodes:
// name, labels, cordon, readiness, the node's DRA devices), the ModelCache, and for the roll-up the
// replicas as composed with the status their clusters report.
// Run: node scripts/examples/fleet-nodes.ts && npm run render:update -- fleet-nodes-first-pass fleet-nodes-rollup fleet-nodes-source
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { compositionWithInput } from "./composition.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { composeFleet } from "../../functions/composition/fleet/compose.ts";
import { COMMIT, DIGEST, fleet, modelCache, request } from "../../test/support/fleet-builders.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const IMAGE = "ghcr.io/function-model-cache/function-model-cache:v0.1.0";

/** The platform offers node copies on its local NVMe class, on nodes it labels for them. */
export const INPUT: JsonObject = {
  apiVersion: "modelcache.fn.crossplane.io/v1alpha1",
  kind: "Input",
  tenancy: {
    nodeLocal: { storageClassNames: ["local-nvme"], maxSize: "100Gi", maxNodesPerCluster: 16, nodeSelector: { "example.com/local-nvme": "true" } },
  },
};

/** Each pool's nodes as the cluster's controller publishes them: the devices of `<pool>-node-<i>` are that node's. */
function withNodes(cluster: JsonObject, flags: Record<string, JsonObject> = {}): JsonObject {
  const status = cluster["status"] as JsonObject;
  const nodes: JsonObject[] = [];
  for (const p of (status["gpuPools"] as JsonObject[] | undefined) ?? []) {
    const pool = String(p["name"]);
    for (let i = 0; i < Number(p["nodes"]); i++) {
      const name = `${pool}-node-${i}`;
      const devices = (p["devices"] as JsonObject[]).filter((d) => String(d["name"]).startsWith(`${name}-`));
      nodes.push({ name, labels: { "example.com/local-nvme": "true", "kubernetes.io/arch": "amd64" }, ...(flags[name] ?? {}), devices });
    }
  }
  return { ...cluster, status: { ...status, nodes } };
}

const H100_NODES = `node.devices.exists(device, device.driver == "gpu.nvidia.com" &&
  device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`;
const spec: JsonObject = {
  replication: "AllMatchingNodes",
  clusterSelector: { matchLabels: { tier: "prod" } },
  nodeSelector: { cel: H100_NODES },
  nodeLocal: { size: "40Gi" },
};
const clusters = (): JsonObject[] => {
  const [gke, eks, aks, onprem] = fleet();
  // The AKS cluster's controller does not publish nodes yet: Blocked, never read as "no nodes".
  return [
    withNodes(gke as JsonObject, { "hopper-0-node-1": { unschedulable: true } }),
    withNodes(eks as JsonObject),
    aks as JsonObject,
    withNodes(onprem as JsonObject),
  ];
};

interface Scenario {
  name: string;
  comment: string;
  xr: JsonObject;
  /** The status each cluster's replica reports, keyed by cluster. */
  observed?: Record<string, JsonObject>;
  /** The Composition's Input (INPUT by default) and the fleet (clusters() by default). */
  input?: JsonObject;
  clusters?: () => JsonObject[];
}

/** The platform also lets nodes hydrate from the source where a cluster has no shared copy. */
const SOURCE_INPUT: JsonObject = {
  ...INPUT,
  tenancy: { nodeLocal: { ...((INPUT["tenancy"] as JsonObject)["nodeLocal"] as JsonObject), seedFromSource: "Allow" } },
};
/** The GKE cluster publishes no class for a shared copy (only local NVMe on its GPU nodes). */
const noSharedClassOnGke = (): JsonObject[] =>
  clusters().map((c) => {
    const name = String((c["metadata"] as JsonObject)["name"]);
    if (!name.startsWith("gke")) return c;
    const { cache: _none, ...status } = c["status"] as JsonObject;
    return { ...c, status };
  });

const nodeLine = (name: string, phase: string, more: JsonObject = {}): JsonObject => ({ name, phase, ...more });
const scenarios: Scenario[] = [
  {
    name: "fleet-nodes-first-pass",
    comment:
      "replication AllMatchingNodes: clusters by labels, then on each the nodes the CEL expression picks over\n# the node's own DRA devices (the H100 nodes, not the L40S one), within the platform's node labels.\n# Each replica carries its cluster's selected nodes (a cordoned one marked); the AKS cluster publishes\n# no node list and is Blocked (a gap is never read as 'no nodes').",
    xr: modelCache(spec),
  },
  {
    name: "fleet-nodes-rollup",
    comment:
      "The replicas report their nodes; each cluster's line rolls them up: nodes ready over selected\n# (cordoned ones apart), bytes over every node, the slowest node's ETA. The cache is Ready only when\n# every selected cluster's shared copy and schedulable nodes are.",
    xr: modelCache(spec),
    observed: {
      "gke-us-east1-h100": {
        phase: "Ready",
        sharedPhase: "Ready",
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        bytesDone: 16_384_000_000,
        bytesTotal: 16_384_000_000,
        nodes: [nodeLine("hopper-0-node-0", "Ready"), nodeLine("hopper-0-node-1", "Ready", { cordoned: true })],
        nodeSummary: { ready: "1/1", selected: 1, readyCount: 1, cordoned: 1, bytesDone: 32_768_000_000, bytesTotal: 32_768_000_000 },
      },
      "eks-us-east-1-h100": {
        phase: "Hydrating",
        sharedPhase: "Ready",
        resolvedRevision: COMMIT,
        manifestDigest: DIGEST,
        bytesDone: 16_384_000_000,
        bytesTotal: 16_384_000_000,
        message: "nodes 0/1 ready; copying to: hopper-0-node-0",
        nodes: [nodeLine("hopper-0-node-0", "Hydrating", { bytesDone: 4_096_000_000, bytesTotal: 16_384_000_000, etaSeconds: 12 })],
        nodeSummary: { ready: "0/1", selected: 1, readyCount: 0, hydrating: 1, bytesDone: 4_096_000_000, bytesTotal: 16_384_000_000, etaSeconds: 12 },
      },
    },
  },
  {
    name: "fleet-nodes-source",
    comment:
      "The GKE cluster publishes no storage class for a shared copy. The platform lets nodes hydrate from the\n# source there (input.tenancy.nodeLocal.seedFromSource: Allow) and spec.nodeLocal.seed is unset (Auto): the\n# cluster is selected, not Blocked, and its replica (given no class) has each selected node hydrate from the\n# source, the first verified node pinning the rest; the other clusters still copy their shared copy to their nodes.",
    xr: modelCache(spec),
    input: SOURCE_INPUT,
    clusters: noSharedClassOnGke,
  },
];

function yamlStream(docs: JsonObject[]): string {
  return docs.map((d) => `---\n${stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("");
}

const FUNCTIONS = `apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: function-model-cache
  annotations:
    # Dial a function already running at localhost:9443 with --insecure.
    render.crossplane.io/runtime: Development
spec:
  package: ${IMAGE}
`;

for (const s of scenarios) {
  const dir = join(ROOT, "examples", s.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "xr.yaml"), `# ${s.comment}\n${stringify(s.xr, { lineWidth: 0 })}`);
  writeFileSync(
    join(dir, "required.yaml"),
    `# The fleet's InferenceClusters, with their node lists, delivered as required resources.\n${yamlStream((s.clusters ?? clusters)())}`,
  );
  rmSync(join(dir, "observed.yaml"), { force: true });
  if (s.observed !== undefined) {
    // The replicas (and contract) as this function composed them, with their clusters' status.
    const rsp = composeFleet(request(s.xr, { clusters: (s.clusters ?? clusters)(), input: s.input ?? INPUT }), { defaultHydratorImage: IMAGE });
    const docs: JsonObject[] = [];
    for (const [key, r] of Object.entries(rsp.desired.resources).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const meta = { ...(r.resource["metadata"] as JsonObject), annotations: { "crossplane.io/composition-resource-name": key } };
      const cluster = String(((r.resource["spec"] as JsonObject | undefined)?.["cluster"] as JsonObject | undefined)?.["name"] ?? "");
      const status = s.observed[cluster];
      docs.push({ ...r.resource, metadata: meta, ...(status ? { status } : {}) });
    }
    writeFileSync(
      join(dir, "observed.yaml"),
      `# The replicas and contract ConfigMap composed earlier, with the status their clusters report.\n${yamlStream(docs)}`,
    );
  }
  writeFileSync(join(dir, "functions.yaml"), FUNCTIONS);
  writeFileSync(join(dir, "composition.yaml"), compositionWithInput(ROOT, "modelcaches", s.input ?? INPUT));
  process.stdout.write(`wrote examples/${s.name}\n`);
}
