// The hydration Job and the least privilege it runs with. The hydrator is the
// function's own image, started with an argument list (never a shell), reading
// credentials only from Secret references in its environment, and writing its
// progress to exactly one ConfigMap it may update and nothing else.
import { DEFAULT_REFUSED_ADDRESSES, type AddressClass } from "../../api/address-classes.ts";
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";
import { containerSecurityContext, podSecurityContext } from "./pod-security.ts";
import { hydrateArgv, type HydrateArgs } from "../../hydrator/invocation.ts";
import type { SourcePlan } from "../../sources/kind.ts";

export const CACHE_MOUNT = "/cache";
export const CONTAINER_NAME = "hydrate";
export const TERMINATION_LOG = "/dev/termination-log";

/**
 * Hydrator exit codes (the contract, docs/design.md): 0 published and
 * verified; 1 failed, worth retrying (network, 5xx, 429, killed); 2 bad usage;
 * 3 permanent source error (not found, unauthorized, digest mismatch). A
 * permanent failure fails the Job at once instead of burning its backoff.
 */
export const EXIT_PERMANENT = [2, 3];

/** Defaults sized for a streaming hydrator: memory is bounded whatever the artifact size. */
export const DEFAULT_RESOURCES = {
  requests: { cpu: "250m", memory: "256Mi" },
  limits: { cpu: "2", memory: "1Gi" },
} as const;

export const LABELS = {
  name: "app.kubernetes.io/name",
  component: "app.kubernetes.io/component",
  managedBy: "app.kubernetes.io/managed-by",
  attempt: "modelcache.dev/attempt",
} as const;

export function commonLabels(component: string): Record<string, string> {
  return { [LABELS.name]: "model-cache", [LABELS.component]: component, [LABELS.managedBy]: "function-model-cache" };
}

export interface JobParams {
  spec: ModelCacheReplicaSpec;
  namespace: string;
  name: string;
  attempt: number;
  claimName: string;
  serviceAccount: string;
  report: string;
  source: SourcePlan;
  /** Only verify what the claim holds (ExistingPVC with hydrate: false). */
  verifyOnly: boolean;
  /** The platform's tenancy.sources.refusedAddresses: the hydrator checks every connection against them. */
  refusedAddresses: readonly AddressClass[];
}

/** The platform's list, only when it is not the hydrator's own default (so most Jobs read as before). */
function refuseAddresses(refused: readonly AddressClass[]): Pick<HydrateArgs, "refuseAddresses"> {
  const same = refused.length === DEFAULT_REFUSED_ADDRESSES.length && DEFAULT_REFUSED_ADDRESSES.every((c) => refused.includes(c));
  return same ? {} : { refuseAddresses: refused.join(",") };
}

/** The Job's command line, built as the hydrator's typed arguments (functions/hydrator/invocation.ts). */
export function hydratorArgs(p: JobParams): string[] {
  const pinDigest = p.spec.pin?.manifestDigest;
  const report: HydrateArgs = {
    ...(pinDigest ? { expectManifestDigest: pinDigest } : {}),
    reportConfigMap: `${p.namespace}/${p.report}`,
    terminationLog: TERMINATION_LOG,
  };
  if (p.verifyOnly) return ["verify", CACHE_MOUNT, ...hydrateArgv(report)];
  const args: HydrateArgs = {
    ...p.source.args,
    dest: CACHE_MOUNT,
    layout: p.spec.artifact.layout,
    concurrency: String(p.spec.hydration.concurrency),
    progress: "json",
    ...refuseAddresses(p.refusedAddresses),
    ...report,
  };
  return ["hydrate", ...hydrateArgv(args)];
}

function resources(spec: ModelCacheReplicaSpec): JsonObject {
  const r = spec.hydration.resources;
  return {
    requests: { ...DEFAULT_RESOURCES.requests, ...(r?.requests ?? {}) },
    limits: { ...DEFAULT_RESOURCES.limits, ...(r?.limits ?? {}) },
  };
}

export function job(p: JobParams): JsonObject {
  const { spec } = p;
  const labels = { ...commonLabels("hydrator"), [LABELS.attempt]: String(p.attempt) };
  const podSpec: JsonObject = {
    serviceAccountName: p.serviceAccount,
    // The token is how the hydrator updates its report ConfigMap; the Role allows nothing else.
    automountServiceAccountToken: true,
    enableServiceLinks: false,
    restartPolicy: "Never",
    securityContext: podSecurityContext(),
    containers: [
      {
        name: CONTAINER_NAME,
        image: spec.hydratorImage,
        imagePullPolicy: "IfNotPresent",
        args: hydratorArgs(p),
        env: [...p.source.env, { name: "TMPDIR", value: "/tmp" }],
        resources: resources(spec),
        securityContext: containerSecurityContext(),
        terminationMessagePath: TERMINATION_LOG,
        terminationMessagePolicy: "FallbackToLogsOnError",
        volumeMounts: [{ name: "cache", mountPath: CACHE_MOUNT, readOnly: p.verifyOnly }, { name: "tmp", mountPath: "/tmp" }, ...p.source.mounts],
      },
    ],
    volumes: [
      { name: "cache", persistentVolumeClaim: { claimName: p.claimName, readOnly: p.verifyOnly } },
      // The root filesystem is read-only; scratch space is bounded.
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      ...p.source.volumes,
    ],
  };
  if (spec.hydration.nodeSelector) podSpec["nodeSelector"] = { ...spec.hydration.nodeSelector };
  if (spec.hydration.tolerations) podSpec["tolerations"] = spec.hydration.tolerations.map((t) => ({ ...t }));
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: p.name, namespace: p.namespace, labels },
    spec: {
      backoffLimit: spec.hydration.backoffLimit,
      activeDeadlineSeconds: spec.hydration.activeDeadlineSeconds,
      ttlSecondsAfterFinished: spec.hydration.ttlSecondsAfterFinished,
      podFailurePolicy: {
        rules: [
          { action: "FailJob", onExitCodes: { containerName: CONTAINER_NAME, operator: "In", values: [...EXIT_PERMANENT] } },
          // A drained or preempted node is not the hydrator's failure.
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      },
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}

export function serviceAccount(name: string, namespace: string): JsonObject {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels: commonLabels("hydrator") } };
}

/**
 * The hydrator may read and update its own report ConfigMap, named, and
 * nothing else: `create` cannot be limited to a name in RBAC, so the function
 * creates the ConfigMap and the hydrator only writes into it.
 */
export function role(name: string, namespace: string, report: string): JsonObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name, namespace, labels: commonLabels("hydrator") },
    rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: [report], verbs: ["get", "update", "patch"] }],
  };
}

export function roleBinding(name: string, namespace: string): JsonObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace, labels: commonLabels("hydrator") },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace }],
  };
}

/** Created empty by the function; the hydrator fills `report.json`. */
export function reportConfigMap(name: string, namespace: string): JsonObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: commonLabels("hydration-report") } };
}

export function sourceConfigMap(name: string, namespace: string, data: Record<string, string>): JsonObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels: commonLabels("hydration-source") }, data: { ...data } };
}
