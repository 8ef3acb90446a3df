// A fleet's RunFunctionRequest as bytes, for the tests of what a worker keeps between calls (the selection cache,
// a request walked as it arrives): clusters of 4 H100s each, and the request carrying them as the required
// resource the composition asks for.
import type { JsonObject } from "../../functions/sdk/types.ts";
import { requestBytes, structBytes } from "../security/server-wire.ts";
import { GPUS, inferenceCluster } from "./fleet-builders.ts";

export const INPUT: JsonObject = { apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input" };

/** Every device H100: one device changed to another GPU turns the cluster away. */
export const EVERY_H100 = `cluster.devices.all(d, d.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`;

/** An InferenceCluster of the fleet: 4 H100s, labelled tier: prod, `patch` applied last. */
export function h100Cluster(i: number, patch: (c: JsonObject) => void = () => undefined): JsonObject {
  const c = inferenceCluster({
    name: `gke-${String(i).padStart(4, "0")}`,
    labels: { tier: "prod", region: ["us-east1", "europe-west4"][i % 2] ?? "us-east1" },
    cloud: "GKE",
    storageClassName: "filestore-rwx",
    pools: [{ gpu: GPUS.H100, nodes: 1, perNode: 4 }],
  });
  patch(c);
  return c;
}

/** The request of `xr` with `clusters` (each a Struct's bytes) as its required `clusters`. */
export function clustersRequest(xr: JsonObject, clusters: Buffer[], input: JsonObject = INPUT): Buffer {
  return requestBytes({ tag: "t", xr: structBytes(xr), input: structBytes(input), required: { clusters } });
}
