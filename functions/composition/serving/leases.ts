// The record of use the control plane can read: one small ConfigMap per
// workload and cache, composed beside the workload in the consumer XR's
// namespace for as long as a pod template of it mounts the cache's claim
// (use Mounted), or the workload waits for the cache on its cluster (use
// Waiting: the demand that brings a released cache back). Crossplane deletes
// it with the mount or the wait. Labels let a reader select every record of
// one cache, on one cluster, of one claim; data says who uses what. The
// per-cluster record on the workload itself is its modelcache.dev/mounts
// annotation (record.ts).
import type { JsonObject, ResourceState } from "../../sdk/types.ts";
import { digest, label } from "../replica/names.ts";
import type { MountRecord } from "./record.ts";

export const LEASE_KEY_PREFIX = "modelcache-mount-";
export const LEASE_LABELS = {
  cache: "modelcache.dev/cache",
  cacheNamespace: "modelcache.dev/cache-namespace",
  cluster: "modelcache.dev/cluster",
  claim: "modelcache.dev/claim",
  use: "modelcache.dev/use",
} as const;

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The value itself when it is a valid label value, else `h-` and a digest of it (data keeps the full value). */
export function labelValue(v: string): string {
  return LABEL_VALUE.test(v) ? v : `h-${digest(v)}`;
}

export interface Lease {
  consumer: { namespace: string; name: string; kind: string };
  /** The composition resource name of the workload. */
  resource: string;
  workload: string;
  cache: { namespace: string; name: string };
  cluster: string;
  /** What it mounts; absent while it waits for the cache. */
  mount: MountRecord | undefined;
}

export function leaseKey(resource: string, cacheRef: string): string {
  return `${LEASE_KEY_PREFIX}${digest(resource, cacheRef)}`;
}

export function leaseResource(l: Lease): ResourceState {
  const cacheRef = `${l.cache.namespace}/${l.cache.name}`;
  const cm: JsonObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: label(l.cache.name, "mount", l.consumer.namespace, l.consumer.name, l.resource, cacheRef),
      namespace: l.consumer.namespace,
      labels: {
        [LEASE_LABELS.cache]: labelValue(l.cache.name),
        [LEASE_LABELS.cacheNamespace]: l.cache.namespace,
        [LEASE_LABELS.cluster]: labelValue(l.cluster),
        [LEASE_LABELS.use]: l.mount !== undefined ? "Mounted" : "Waiting",
        ...(l.mount !== undefined ? { [LEASE_LABELS.claim]: labelValue(l.mount.claimName) } : {}),
      },
    },
    data: {
      cache: cacheRef,
      cluster: l.cluster,
      use: l.mount !== undefined ? "Mounted" : "Waiting",
      ...(l.mount !== undefined ? { claim: `${l.mount.namespace}/${l.mount.claimName}` } : {}),
      ...(l.mount?.manifestDigest !== undefined ? { manifestDigest: l.mount.manifestDigest } : {}),
      workload: l.workload,
      consumer: `${l.consumer.kind} ${l.consumer.namespace}/${l.consumer.name}`,
    },
  };
  return { resource: cm, connectionDetails: {}, ready: "True" };
}
