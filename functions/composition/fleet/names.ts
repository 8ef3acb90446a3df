// Deterministic names. Kubernetes labels and many names stop at 63
// characters: a name that had to be shortened or cleaned carries a hash of
// what it was built from, so two caches or clusters never collide. Names on
// a cluster are unique per (control-plane namespace, cache) because each
// control-plane namespace has its own cluster namespace (../tenancy/namespaces.ts).
import { sha256Hex } from "../../common/canonical-json.ts";
import { cleanLabel, MAX_NAME } from "../../common/dns-label.ts";
import { DNS_LABEL } from "../../api/k8s.ts";

const REPLICA_KEY_PREFIX = "replica-";

/** The composition-resource-name (desired map key) of a cluster's replica. */
export function replicaKey(cluster: string): string {
  return `${REPLICA_KEY_PREFIX}${cluster}`;
}

export function isReplicaKey(key: string): boolean {
  return key.startsWith(REPLICA_KEY_PREFIX);
}

/**
 * The ModelCacheReplica's name: `<cache>-<cluster>-<8 hex of both>`, within
 * 63 characters. Always hashed: both parts may hold '-', so `a` + cluster
 * `b-c` and `a-b` + cluster `c` would otherwise both be `a-b-c`. A replica
 * composed before keeps the name it has (fanout.ts), so no replica is renamed.
 */
export function replicaName(cache: string, cluster: string): string {
  const suffix = `-${sha256Hex(`${cache}\u0000${cluster}`).slice(0, 8)}`;
  const stem = `${cache}-${cluster}`;
  const head = DNS_LABEL.test(stem) ? stem.slice(0, MAX_NAME - suffix.length) : cleanLabel(stem).slice(0, MAX_NAME - suffix.length);
  const trimmed = head.replace(/^-+|-+$/g, "");
  return `${trimmed === "" ? "x" : trimmed}${suffix}`;
}

const IDENTITY_SUFFIX = 11; // "-" and the 10 hex digits of the source identity

/**
 * The volume's name: `<cache>-<identity hash>`; a new source identity is a new
 * claim. A cache name that is not a short DNS label (dots, uppercase, over 52
 * characters) is cleaned and shortened, and so gets 8 hex digits of itself:
 * `llama-3.1` and `llama-3-1` must not share a volume.
 */
export function claimName(cache: string, identity: string): string {
  if (DNS_LABEL.test(cache) && cache.length <= MAX_NAME - IDENTITY_SUFFIX) return `${cache}-${identity}`;
  const tag = `-${sha256Hex(cache).slice(0, 8)}`;
  const head = cleanLabel(cache)
    .slice(0, MAX_NAME - IDENTITY_SUFFIX - tag.length)
    .replace(/^-+|-+$/g, "");
  return `${head === "" ? "cache" : head}${tag}-${identity}`;
}

/** The claim name earlier versions gave (cleaned and cut, no hash): a volume that exists under it keeps it. */
export function legacyClaimName(cache: string, identity: string): string {
  const suffix = `-${identity}`;
  const head = cleanLabel(cache)
    .slice(0, MAX_NAME - suffix.length)
    .replace(/^-+|-+$/g, "");
  return `${head === "" ? "cache" : head}${suffix}`;
}
