// The replica contract as its own object: a ConfigMap the fleet composes in
// the ModelCache's namespace, named after the contract's hash. The fleet
// writes it and the cluster level reads it, so both compute its name and
// check its content here, in one place. A replica fetching it reads a few KB,
// not its parent ModelCache, whose status lists every cluster of the fleet.
import { dnsLabel } from "../common/dns-label.ts";
import { canonicalJson, sha256Hex } from "../common/canonical-json.ts";
import { DNS_SUBDOMAIN } from "../api/k8s.ts";
import type { JsonObject } from "../sdk/types.ts";

export { canonicalJson };

/** The data key holding the contract spec's canonical JSON. */
export const CONTRACT_DATA_KEY = "contract.json";
/** Labels naming the cache and the hash, for `kubectl get cm -l`; Crossplane adds its own composite labels. */
export const CACHE_LABEL = "modelcache.dev/cache";
export const HASH_LABEL = "modelcache.dev/contract-hash";
/** The composition-resource-name prefix of a contract ConfigMap in the fleet's desired resources. */
export const CONTRACT_KEY_PREFIX = "contract-";
const MAX_SUBDOMAIN = 253;

/** 16 hex digits (64 bits) of sha256: unique among one cache's contracts, short enough to repeat per cluster. */
export function contractHash(spec: JsonObject): string {
  return sha256Hex(canonicalJson(spec)).slice(0, 16);
}

export function contractKey(hash: string): string {
  return `${CONTRACT_KEY_PREFIX}${hash}`;
}

export function isContractKey(key: string): boolean {
  return key.startsWith(CONTRACT_KEY_PREFIX);
}

/**
 * `<cache>-contract-<hash>`, a DNS subdomain of at most 253 characters. A
 * cache name too long for that keeps a head and gets 8 hex digits of its full
 * name, so two long names sharing a head never share a ConfigMap.
 */
export function contractConfigMapName(cache: string, hash: string): string {
  const tail = `-contract-${hash}`;
  const whole = `${cache}${tail}`;
  if (whole.length <= MAX_SUBDOMAIN && DNS_SUBDOMAIN.test(whole)) return whole;
  const suffix = `-${sha256Hex(cache).slice(0, 8)}`;
  const head = cache
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .slice(0, MAX_SUBDOMAIN - tail.length - suffix.length)
    .replace(/^[-.]+|[-.]+$/g, "");
  return `${head === "" ? "cache" : head}${suffix}${tail}`;
}

/** The ConfigMap the fleet composes for one contract. */
export function contractConfigMap(cache: string, namespace: string, hash: string, spec: JsonObject): JsonObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: contractConfigMapName(cache, hash), namespace, labels: { [CACHE_LABEL]: dnsLabel(cache, cache), [HASH_LABEL]: hash } },
    data: { [CONTRACT_DATA_KEY]: canonicalJson(spec) },
  };
}

export type ContractRead = { ok: true; spec: JsonObject } | { ok: false; problem: string };

/** The contract spec a ConfigMap holds, if it is readable and hashes to `hash`. */
export function readContract(configMap: JsonObject, hash: string): ContractRead {
  const data = configMap["data"];
  const raw = data !== null && typeof data === "object" && !Array.isArray(data) ? data[CONTRACT_DATA_KEY] : undefined;
  if (typeof raw !== "string") return { ok: false, problem: `has no data.${CONTRACT_DATA_KEY}` };
  let spec: unknown;
  try {
    spec = JSON.parse(raw);
  } catch {
    return { ok: false, problem: `has unreadable JSON in data.${CONTRACT_DATA_KEY}` };
  }
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return { ok: false, problem: `has no JSON object in data.${CONTRACT_DATA_KEY}` };
  const got = contractHash(spec as JsonObject);
  // The name already carries the hash; the content is checked anyway, since anyone may edit a ConfigMap.
  if (got !== hash) return { ok: false, problem: `holds contract ${got}, not ${hash}` };
  return { ok: true, spec: spec as JsonObject };
}
