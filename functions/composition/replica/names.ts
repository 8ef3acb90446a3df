// Names of everything composed on a cluster, and the composition-resource-names
// (desired-map keys) they travel under. Deterministic: the same spec always
// yields the same names, so a reconcile never replaces what is running.
import { createHash } from "node:crypto";

/** Short, stable digest of the parts, for names that must change when any part does. */
export function digest(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 10);
}

/** `prefix` cut to `max` characters, ending on an alphanumeric (DNS label rules). */
export function truncate(prefix: string, max: number): string {
  return prefix.slice(0, max).replace(/[^a-z0-9]+$/, "");
}

/** A DNS label (63) built from a readable stem and a digest of what identifies it. */
export function label(stem: string, suffix: string, ...identity: string[]): string {
  const tail = `-${suffix}-${digest(...identity)}`;
  // Dots are legal in claim names (subdomains) but not in labels such as Job names.
  return `${truncate(stem.replace(/\./g, "-"), 63 - tail.length)}${tail}`;
}

export interface JobIdentity {
  claimName: string;
  /** The refetch token ("" when never set). */
  refetch: string;
  attempt: number;
}

/** The Job's name: a new claim, refetch token or attempt makes a new Job; nothing else does. */
export function jobName(id: JobIdentity): string {
  return label(id.claimName, `h${id.attempt}`, id.claimName, id.refetch, String(id.attempt));
}

/** One report ConfigMap per Job, so a new attempt never reads an old result. */
export function reportName(job: string): string {
  return `${job}-report`;
}

/**
 * ServiceAccount, Role and RoleBinding of the hydrator: one set per cache on
 * the cluster, stable across revisions (the Role's rule follows the Job).
 */
export function hydratorAccountName(cacheName: string, cacheNamespace: string): string {
  return label(cacheName, "hydrator", cacheNamespace, cacheName);
}

/** The ConfigMap carrying inline files (or an HTTP file list) to the Job. */
export function sourceConfigMapName(claimName: string): string {
  return label(claimName, "source", claimName);
}

// Desired-map keys. A key holds one cluster object for its whole life: when
// the object's name changes (new claim, new attempt) the key changes too, so
// Crossplane deletes the old Object instead of renaming what it points at.
export const KEY = {
  namespace: "namespace",
  storageClass: "storage-class",
  csiDriver: "csi-driver",
  csiAddon: "csi-addon",
  serviceAccount: "hydrator-serviceaccount",
  role: "hydrator-role",
  roleBinding: "hydrator-rolebinding",
  source: (claim: string) => `source-${claim}`,
  volume: (claim: string) => `volume-${claim}`,
  job: (job: string) => `job-${job}`,
  report: (job: string) => `report-${job}`,
} as const;

export const VOLUME_KEY_PREFIX = "volume-";
export const JOB_KEY_PREFIX = "job-";
export const REPORT_KEY_PREFIX = "report-";
