// Which namespace a tenant's caches get on every cluster. Derived from the
// control-plane namespace (never chosen by the tenant) and one-to-one: two
// control-plane namespaces never share a cluster namespace, so nothing one
// team's cache composes (volume, Job, report, Secrets it reads) can name
// another team's.
import { createHash } from "node:crypto";
import type { TenancyNamespaces } from "../../api/input.ts";
import { DNS_LABEL } from "../../api/k8s.ts";

/** Longest `<prefix><namespace>` used as it is; a longer one is hashed to exactly 63 characters. */
export const VERBATIM_MAX = 50;
const HASH_HEX = 12;

/** Labels on a tenant namespace, so the platform's Secret sync (or network policy) can select it. */
export const CONTROL_PLANE_NAMESPACE_LABEL = "modelcache.dev/control-plane-namespace";

/**
 * `<prefix><namespace>` when that is a DNS label of at most 50 characters;
 * otherwise its first 50 characters, '-', and 12 hex digits of the
 * namespace's sha256: always exactly 63, so a hashed name can never equal a
 * verbatim one (which a tenant could otherwise pick a namespace name to hit).
 */
export function derivedNamespace(controlPlaneNamespace: string, prefix: string): string {
  const full = `${prefix}${controlPlaneNamespace}`;
  if (full.length <= VERBATIM_MAX && DNS_LABEL.test(full)) return full;
  const hash = createHash("sha256").update(controlPlaneNamespace).digest("hex").slice(0, HASH_HEX);
  const head = full
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, VERBATIM_MAX)
    .padEnd(VERBATIM_MAX, "-");
  return `${head}-${hash}`;
}

/** The cluster namespace of a control-plane namespace: the platform's map, else derived. */
export function clusterNamespaceFor(controlPlaneNamespace: string, policy: TenancyNamespaces): string {
  return policy.map?.[controlPlaneNamespace] ?? derivedNamespace(controlPlaneNamespace, policy.prefix);
}

export function tenantNamespaceLabels(controlPlaneNamespace: string, policy: TenancyNamespaces): Record<string, string> {
  return { ...(policy.labels ?? {}), [CONTROL_PLANE_NAMESPACE_LABEL]: controlPlaneNamespace };
}
