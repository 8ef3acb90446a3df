// One cluster object (any type, via the Input's field paths) read into the
// normalized facts selection and fan-out need. A field that is present but of
// the wrong shape makes the cluster "unreadable": reported, never guessed at.
import { formatIssues } from "../../common/zod-issues.ts";
import { readPath } from "../../common/json.ts";
import { obj, str } from "../../common/json.ts";
import { z } from "zod";
import type { ClusterFields } from "../../api/input.ts";
import { CSI_CAPABILITIES, type ReplicaCluster } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import type { ReplicaNode } from "../../api/node-local.ts";
import { AttributeFacts } from "../../cel/cluster-facts.ts";
import { attribute, isPlain } from "../../cel/fast-facts.ts";

export const PoolDevice = z
  .object({
    name: z.string().optional(),
    claim: z.string().optional(),
    driver: z.string().optional(),
    deviceClassName: z.string().optional(),
    count: z.number().int().nonnegative().optional(),
    // The DRA attribute as the CEL environment reads it (exactly one of string, version, bool, int): one model.
    attributes: z.record(z.string(), AttributeFacts).optional(),
    capacity: z.record(z.string(), z.object({ value: z.union([z.string(), z.number()]) }).loose()).optional(),
  })
  .loose();
export type PoolDevice = z.infer<typeof PoolDevice>;

export const GpuPool = z
  .object({
    name: z.string(),
    nodes: z.union([z.number().int().nonnegative(), z.array(z.string())]).optional(),
    devices: z.array(PoolDevice).default([]),
  })
  .loose();
export type GpuPool = z.infer<typeof GpuPool>;

export const GpuPools = z.array(GpuPool);

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const optString = (v: unknown) => v === undefined || typeof v === "string";

/** Whether `v` is what the loose PoolDevice schema accepts unchanged (no default to fill in). */
function okDevice(v: unknown): boolean {
  if (!isPlain(v)) return false;
  if (!optString(v["name"]) || !optString(v["claim"]) || !optString(v["driver"]) || !optString(v["deviceClassName"])) return false;
  const count = v["count"];
  if (count !== undefined && !(isInt(count) && count >= 0)) return false;
  const attributes = v["attributes"];
  if (attributes !== undefined) {
    if (!isPlain(attributes)) return false;
    for (const k in attributes) if (k === "__proto__" || attribute(attributes[k]) === undefined) return false;
  }
  const capacity = v["capacity"];
  if (capacity !== undefined) {
    if (!isPlain(capacity)) return false;
    for (const k in capacity) {
      const q = capacity[k];
      if (k === "__proto__" || !isPlain(q)) return false;
      const value = q["value"];
      if (!(typeof value === "string" || (typeof value === "number" && Number.isFinite(value)))) return false;
    }
  }
  return true;
}

/**
 * GpuPools.parse(v) for well-formed pools, without zod: its record parsing
 * costs milliseconds per cluster of DRA devices, most of a 5,000-cluster
 * reconcile. The schemas are loose or strict, never stripping, so a valid
 * value is returned as it is (a pool without devices gets the default list),
 * sharing the request's objects rather than copying every device. Conservative:
 * undefined for anything it is not sure of, and the caller asks zod, whose
 * message names the bad field (the test compares both).
 */
export function fastGpuPools(v: unknown): GpuPool[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: GpuPool[] = [];
  for (const p of v as unknown[]) {
    if (!isPlain(p) || typeof p["name"] !== "string") return undefined;
    const nodes = p["nodes"];
    if (nodes !== undefined && !(isInt(nodes) && nodes >= 0) && !(Array.isArray(nodes) && nodes.every((n) => typeof n === "string"))) return undefined;
    const devices = p["devices"];
    if (devices === undefined) {
      out.push({ ...p, name: p["name"], devices: [] });
      continue;
    }
    if (!Array.isArray(devices)) return undefined;
    for (const d of devices as unknown[]) if (!okDevice(d)) return undefined;
    out.push(p as GpuPool);
  }
  return out;
}

const ProviderConfigKind = z.enum(["ProviderConfig", "ClusterProviderConfig"]);

/** One cluster as the fleet reads it (read-cluster.ts): what selection, eligibility and fan-out use. The CEL view of it is cel/ClusterFacts. */
export interface ObservedCluster {
  name: string;
  labels: Record<string, string>;
  providerConfigRef?: ReplicaCluster["providerConfigRef"];
  /** As the cluster spells it; checked against the known clouds by eligibility. */
  cloud?: string;
  storageClassName?: string;
  /** Known capabilities only, sorted. */
  csiDrivers: string[];
  cloudCluster?: ReplicaCluster["cloudCluster"];
  pools: GpuPool[];
  /** replication AllMatchingNodes: the selected nodes (fleet/nodes.ts), handed to the replica. */
  nodes?: ReplicaNode[];
}

export type ReadCluster = { ok: true; facts: ObservedCluster } | { ok: false; name: string; reason: string };

class Unreadable extends Error {}

function optionalString(cluster: JsonObject, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const r = readPath(cluster, path);
  if (!r.found) return undefined;
  if (typeof r.value !== "string") throw new Unreadable(`${path} is a ${Array.isArray(r.value) ? "list" : typeof r.value}, want a string`);
  return r.value === "" ? undefined : r.value;
}

function providerConfigKind(cluster: JsonObject, path: string | undefined): z.infer<typeof ProviderConfigKind> {
  const kind = optionalString(cluster, path);
  if (kind === undefined) return "ClusterProviderConfig";
  const parsed = ProviderConfigKind.safeParse(kind);
  if (!parsed.success) throw new Unreadable(`${path} is ${JSON.stringify(kind)}, want ProviderConfig or ClusterProviderConfig`);
  return parsed.data;
}

export function readCluster(cluster: JsonObject, fields: ClusterFields): ReadCluster {
  const meta = obj(cluster["metadata"]) ?? {};
  const name = str(meta["name"]) ?? "";
  if (name === "") return { ok: false, name: "(unnamed)", reason: "metadata.name is empty" };
  try {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(meta["labels"]) ?? {})) if (typeof v === "string") labels[k] = v;

    const pcName = optionalString(cluster, fields.providerConfigName);
    const facts: ObservedCluster = { name, labels, csiDrivers: [], pools: [] };
    if (pcName !== undefined) facts.providerConfigRef = { kind: providerConfigKind(cluster, fields.providerConfigKind), name: pcName };
    const cloud = optionalString(cluster, fields.cloud);
    if (cloud !== undefined) facts.cloud = cloud;
    const sc = optionalString(cluster, fields.storageClassName);
    if (sc !== undefined) facts.storageClassName = sc;

    const csi = readPath(cluster, fields.csiDrivers);
    if (csi.found) {
      if (!Array.isArray(csi.value) || !csi.value.every((v) => typeof v === "string")) throw new Unreadable(`${fields.csiDrivers} is not a list of strings`);
      // Unknown capabilities are ignored: a newer cluster type may declare more than we use.
      const known = new Set<string>(CSI_CAPABILITIES);
      facts.csiDrivers = [...new Set(csi.value.filter((v): v is string => typeof v === "string" && known.has(v)))].sort();
    }

    const pools = readPath(cluster, fields.gpuPools);
    if (pools.found) {
      const fast = fastGpuPools(pools.value);
      if (fast !== undefined) facts.pools = fast;
      else {
        const parsed = GpuPools.safeParse(pools.value);
        if (!parsed.success) throw new Unreadable(formatIssues(fields.gpuPools, parsed.error));
        facts.pools = parsed.data;
      }
    }

    const ccName = optionalString(cluster, fields.cloudClusterName);
    const ccPc = optionalString(cluster, fields.cloudProviderConfigName);
    if (ccName !== undefined && ccPc !== undefined) {
      const region = optionalString(cluster, fields.cloudRegion);
      facts.cloudCluster = {
        name: ccName,
        ...(region !== undefined ? { region } : {}),
        providerConfigRef: { kind: providerConfigKind(cluster, fields.cloudProviderConfigKind), name: ccPc },
      };
    }
    return { ok: true, facts };
  } catch (err) {
    if (err instanceof Unreadable) return { ok: false, name, reason: `cannot read cluster ${name}: ${err.message}` };
    throw err;
  }
}

/** The product names of every GPU the cluster's pools carry (any domain's `productName`). */
export function productNames(facts: ObservedCluster): Set<string> {
  const out = new Set<string>();
  for (const pool of facts.pools)
    for (const d of pool.devices)
      for (const [k, v] of Object.entries(d.attributes ?? {}))
        if ((k === "productName" || k.endsWith("/productName")) && v.string !== undefined) out.add(v.string);
  return out;
}
