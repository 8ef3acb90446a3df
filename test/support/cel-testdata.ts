// Cluster facts for tests and the benchmark, after the DRA examples in docs/cel.md: the NVIDIA DRA
// driver's attribute set (cmd/gpu-kubelet-plugin/deviceinfo.go) with illustrative values.

import type { ClusterFactsInput } from "../../functions/cel/cluster-facts.ts";

type Device = NonNullable<NonNullable<ClusterFactsInput["pools"]>[number]["devices"]>[number];
type Pool = NonNullable<ClusterFactsInput["pools"]>[number];

/** An H100 80GB HBM3 as the NVIDIA DRA driver publishes it: memory 81559Mi, less than 80Gi. */
export function h100(i: number, node = 0): Device {
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  return {
    name: `gpu-${i}`,
    driver: "gpu.nvidia.com",
    attributes: {
      type: { string: "gpu" },
      uuid: { string: `GPU-7c664fc3-8a57-4c1e-9d44-${hex(node)}${hex(i)}3f7d0a1b11` },
      productName: { string: "NVIDIA H100 80GB HBM3" },
      brand: { string: "Nvidia" },
      architecture: { string: "Hopper" },
      cudaComputeCapability: { version: "9.0.0" },
      driverVersion: { version: "580.126.20" },
      cudaDriverVersion: { version: "13.0.0" },
      "resource.kubernetes.io/pciBusID": { string: `0000:${hex(0x18 + i * 0x12)}:00.0` },
      "resource.kubernetes.io/pcieRoot": { string: i < 4 ? "pci0000:10" : "pci0000:90" },
    },
    capacity: { memory: { value: "81559Mi" } },
  };
}

/** A MIG 3g.40gb slice of an A100-SXM4-80GB. */
export function a100Mig(i: number): Device {
  return {
    name: `gpu-0-mig-3g40gb-2-${i * 4}`,
    driver: "gpu.nvidia.com",
    attributes: {
      type: { string: "mig" },
      uuid: { string: `MIG-5a1b2c3d-0000-5111-8222-93334444555${i}` },
      parentUUID: { string: "GPU-ddf64803-f421-0e5b-883e-cd752de16db7" },
      profile: { string: "3g.40gb" },
      productName: { string: "NVIDIA A100-SXM4-80GB" },
      brand: { string: "Nvidia" },
      architecture: { string: "Ampere" },
      cudaComputeCapability: { version: "8.0.0" },
      driverVersion: { version: "580.95.5" },
      cudaDriverVersion: { version: "13.0.0" },
    },
    capacity: {
      multiprocessors: { value: "42" },
      copyEngines: { value: "3" },
      memory: { value: "40192Mi" },
    },
  };
}

export function h100Pool(node: number, gpus = 8): Pool {
  return { name: `h100-node-${node}`, nodeName: `h100-node-${node}`, devices: Array.from({ length: gpus }, (_, i) => h100(i, node)) };
}

/** A pool of a made-up driver, selected by nodeSelector (no nodeName), with a third-party domain. */
export const rackPool: Pool = {
  name: "rack-a",
  driver: "dra.example.com",
  devices: [
    {
      name: "accel-0",
      attributes: {
        model: { string: "X1000" },
        "ext.example.com/family": { string: "x-series" },
        healthy: { bool: true },
        numaNode: { int: 0 },
        firmware: { version: "2.3.1" },
      },
      capacity: { modules: { value: "4" }, memory: { value: "64Gi" } },
    },
  ],
};

/** One cluster with two 8 x H100 nodes. */
export const h100Cluster: ClusterFactsInput = {
  name: "h100-east",
  labels: { region: "us-east1", tier: "prod" },
  pools: [h100Pool(0), h100Pool(1)],
};

/** One node with A100 MIG slices only. */
export const a100Cluster: ClusterFactsInput = {
  name: "a100-west",
  labels: { region: "us-west1" },
  pools: [{ name: "a100-mig-node-0", nodeName: "a100-mig-node-0", devices: [a100Mig(0), a100Mig(1)] }],
};

/** H100s, A100 MIG slices and a non-NVIDIA pool in one cluster. */
export const mixedCluster: ClusterFactsInput = {
  name: "mixed",
  labels: { region: "us-east1" },
  pools: [rackPool, h100Pool(0, 2), { name: "a100-mig-node-0", nodeName: "a100-mig-node-0", devices: [a100Mig(0)] }],
};

/** Only the non-NVIDIA pool. */
export const exampleOnlyCluster: ClusterFactsInput = { name: "example-only", labels: { region: "eu-west1" }, pools: [rackPool] };

export const emptyCluster: ClusterFactsInput = { name: "cpu-only", labels: { region: "us-east1" } };

/** `nodes` nodes of 8 H100 each. */
export function h100Fleet(name: string, nodes: number): ClusterFactsInput {
  return { name, labels: { region: "us-east1" }, pools: Array.from({ length: nodes }, (_, n) => h100Pool(n)) };
}
