// A workload's cache references, resolved against the consumer's namespace,
// and the platform's verdict on each: a consumer mounts caches of its own
// control-plane namespace, and others only where input.serving.tenancy
// grants them.
import { DNS_LABEL, DNS_SUBDOMAIN } from "../../api/k8s.ts";
import type { CacheGrant } from "../../api/serving.ts";
import type { Checked } from "../../common/checked.ts";

export interface CacheRef {
  namespace: string;
  name: string;
  /** `namespace/name` */
  ref: string;
}

/** `name` (in the consumer's namespace) or `namespace/name`. */
export function parseCacheRef(written: string, consumerNamespace: string): Checked<CacheRef> {
  const parts = written.split("/");
  const [ns, name] = parts.length === 2 ? [parts[0] ?? "", parts[1] ?? ""] : [consumerNamespace, parts[0] ?? ""];
  if (parts.length > 2 || !DNS_LABEL.test(ns) || ns.length > 63 || !DNS_SUBDOMAIN.test(name) || name.length > 253)
    return { ok: false, error: `modelcache.dev/caches: ${JSON.stringify(written.slice(0, 300))} is not a ModelCache name or namespace/name` };
  return { ok: true, value: { namespace: ns, name, ref: `${ns}/${name}` } };
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

export function mayMount(ref: CacheRef, consumerNamespace: string, grants: readonly CacheGrant[]): Verdict {
  if (ref.namespace === consumerNamespace) return { allowed: true };
  const granted = grants.some(
    (g) =>
      g.cacheNamespace === ref.namespace && g.controlPlaneNamespaces.includes(consumerNamespace) && (g.caches.includes("*") || g.caches.includes(ref.name)),
  );
  return granted
    ? { allowed: true }
    : {
        allowed: false,
        reason: `ModelCache ${ref.ref} is in another namespace than the consumer (${consumerNamespace}) and no input.serving.tenancy.grants entry lets ${consumerNamespace} mount it`,
      };
}

/** The required-resources key a cache is asked for under. */
export function requirementKey(ref: CacheRef): string {
  // A namespace is a DNS label (no dots), so the first dot after the prefix ends it.
  return `modelcache.${ref.namespace}.${ref.name}`;
}
