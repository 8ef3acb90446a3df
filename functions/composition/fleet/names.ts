// Deterministic names. Kubernetes labels and many names stop at 63
// characters: a name that had to be shortened or cleaned carries a hash of
// what it was built from, so two clusters never collide.
import { DNS_LABEL } from "../../api/k8s.ts";
import { sha256Hex } from "./identity.ts";

export const MAX_NAME = 63;
const REPLICA_KEY_PREFIX = "replica-";

/** The composition-resource-name (desired map key) of a cluster's replica. */
export function replicaKey(cluster: string): string {
  return `${REPLICA_KEY_PREFIX}${cluster}`;
}

export function isReplicaKey(key: string): boolean {
  return key.startsWith(REPLICA_KEY_PREFIX);
}

function clean(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, "-");
}

/** `stem` as a DNS label of at most 63 characters; hash-suffixed whenever it had to change. */
export function dnsLabel(stem: string, ...identity: string[]): string {
  if (stem.length <= MAX_NAME && DNS_LABEL.test(stem)) return stem;
  const suffix = `-${sha256Hex(identity.join("\u0000")).slice(0, 8)}`;
  const head = clean(stem).slice(0, MAX_NAME - suffix.length).replace(/^-+|-+$/g, "");
  return `${head === "" ? "x" : head}${suffix}`;
}

/** The ModelCacheReplica's name: `<cache>-<cluster>`, within 63 characters. */
export function replicaName(cache: string, cluster: string): string {
  return dnsLabel(`${cache}-${cluster}`, cache, cluster);
}

/** The volume's name: `<cache>-<identity hash>`; a new source identity is a new claim. */
export function claimName(cache: string, identity: string): string {
  const suffix = `-${identity}`;
  const head = clean(cache).slice(0, MAX_NAME - suffix.length).replace(/^-+|-+$/g, "");
  return `${head === "" ? "cache" : head}${suffix}`;
}
