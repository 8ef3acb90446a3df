// The reference substrate's reconcile, as a pure function: from a ModelVolume
// and what the cluster shows (its claim, its hydration Job, the Job's report)
// to the objects to apply and the status to write. It implements the Custom
// backend contract (docs/api.md) with a PersistentVolumeClaim and the
// function-model-cache hydrator: the same verified bytes and manifest digest
// the PVC backend would hold. Self-contained (Node built-ins only) so it can
// be copied; main.ts is the loop around it.
import { createHash } from "node:crypto";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };

export interface ModelVolume {
  metadata: { name: string; namespace: string; uid?: string };
  spec: {
    cache: { name: string; namespace: string; cluster: string };
    artifact: { kind?: string; layout?: string; source: Record<string, Obj | undefined> };
    claimName: string;
    mountPath: string;
    revision?: string;
    expectedManifestDigest?: string;
    size?: string;
    refetch?: string;
    parameters?: Record<string, string>;
  };
  status?: Obj;
}

/** What the cluster shows for one volume; undefined where the object does not exist. */
export interface Seen {
  claim: Obj | undefined;
  job: Obj | undefined;
  /** The report ConfigMap's data["report.json"], parsed. */
  report: Obj | undefined;
}

export interface Options {
  /** The hydrator image, pinned by digest (function-model-cache's own image). */
  image: string;
  /** The storage class to provision claims with; the cluster default when absent. */
  storageClassName?: string;
  /** parameters.size wins; else spec.size; else this. */
  defaultSize: string;
}

export interface Plan {
  /** Objects to server-side apply, in order. */
  apply: Obj[];
  status: Obj;
}

const get = (o: Json | undefined, ...path: string[]): Json | undefined =>
  path.reduce<Json | undefined>((v, k) => (v !== null && typeof v === "object" && !Array.isArray(v) ? v[k] : undefined), o);
const str = (v: Json | undefined): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: Json | undefined): number | undefined => (typeof v === "number" ? v : undefined);

/** A DNS label from a stem and what must change it. */
function name(stem: string, suffix: string, ...parts: string[]): string {
  const tail = `-${suffix}-${createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 8)}`;
  return `${stem.slice(0, 63 - tail.length).replace(/[^a-z0-9]+$/, "")}${tail}`;
}

/** The hydrator's arguments for the source kinds this reference supports, or why it cannot. */
export function sourceArgs(v: ModelVolume): { ok: true; args: string[]; env: Obj[] } | { ok: false; error: string } {
  const s = v.spec.artifact.source;
  const secretEnv = (env: string, secret: string, key: string, optional = false): Obj => ({
    name: env,
    valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } },
  });
  const hf = s["huggingFace"];
  if (hf !== undefined) {
    const revision = v.spec.revision ?? str(hf["revision"]) ?? "main";
    const args = ["--source", `hf://${str(hf["repo"]) ?? ""}@${revision}`];
    for (const g of (get(hf, "include") as Json[] | undefined) ?? []) args.push(`--include=${String(g)}`);
    for (const g of (get(hf, "exclude") as Json[] | undefined) ?? []) args.push(`--exclude=${String(g)}`);
    if (str(hf["endpoint"])) args.push("--endpoint", str(hf["endpoint"]) ?? "");
    const token = str(get(hf, "tokenSecretRef", "name"));
    return { ok: true, args, env: token ? [secretEnv("HF_TOKEN", token, "token")] : [] };
  }
  const s3 = s["s3"];
  if (s3 !== undefined) {
    const args = ["--source", str(s3["uri"]) ?? ""];
    if (str(s3["region"])) args.push("--s3-region", str(s3["region"]) ?? "");
    if (str(s3["endpoint"])) args.push("--endpoint", str(s3["endpoint"]) ?? "");
    if (s3["pathStyle"] === true) args.push("--s3-path-style");
    const secret = str(get(s3, "credentialsSecretRef", "name"));
    const env = secret
      ? [
          secretEnv("AWS_ACCESS_KEY_ID", secret, "AWS_ACCESS_KEY_ID"),
          secretEnv("AWS_SECRET_ACCESS_KEY", secret, "AWS_SECRET_ACCESS_KEY"),
          secretEnv("AWS_SESSION_TOKEN", secret, "AWS_SESSION_TOKEN", true),
        ]
      : [];
    return { ok: true, args, env };
  }
  const http = s["http"];
  if (http !== undefined && str(http["url"]) !== undefined)
    return { ok: true, args: ["--source", str(http["url"]) ?? "", ...(str(http["sha256"]) ? ["--sha256", str(http["sha256"]) ?? ""] : [])], env: [] };
  const oci = s["oci"];
  if (oci !== undefined && get(oci, "pullSecretRef") === undefined) return { ok: true, args: ["--source", `oci://${str(oci["reference"]) ?? ""}`], env: [] };
  const kind = Object.keys(s).find((k) => s[k] !== undefined) ?? "(none)";
  return { ok: false, error: `the reference substrate does not fetch ${kind} sources (it fetches huggingFace, s3, http url, and oci without a pull secret)` };
}

const labels = (v: ModelVolume): Obj => ({ "app.kubernetes.io/managed-by": "modelvolume-controller", "volumes.example.com/volume": v.metadata.name });
const owner = (v: ModelVolume): Obj[] =>
  v.metadata.uid ? [{ apiVersion: "volumes.example.com/v1alpha1", kind: "ModelVolume", name: v.metadata.name, uid: v.metadata.uid, controller: true }] : [];
const meta = (v: ModelVolume, n: string): Obj => ({ name: n, namespace: v.metadata.namespace, labels: labels(v), ownerReferences: owner(v) });

function condition(status: "True" | "False", reason: string, message: string): Obj {
  return { type: "Ready", status, reason, message };
}

export function reconcile(v: ModelVolume, seen: Seen, o: Options): Plan {
  const ns = v.metadata.namespace;
  const claim = v.spec.claimName;
  const job = name(claim, "hydrate", claim, v.spec.refetch ?? "", v.spec.expectedManifestDigest ?? "");
  const report = `${job}-report`;
  const account = name(claim, "hydrator", claim);
  const src = sourceArgs(v);
  if (!src.ok) return { apply: [], status: { claimName: claim, conditions: [condition("False", "Failed", src.error)] } };

  const size = v.spec.parameters?.["size"] ?? v.spec.size ?? o.defaultSize;
  const pvc: Obj = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { ...meta(v, claim), ownerReferences: owner(v) },
    spec: {
      accessModes: ["ReadWriteMany"],
      resources: { requests: { storage: size } },
      ...(o.storageClassName ? { storageClassName: o.storageClassName } : {}),
    },
  };
  const apply: Obj[] = [
    pvc,
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(v, account) },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta(v, account),
      rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: [report], verbs: ["get", "update", "patch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(v, account),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: account },
      subjects: [{ kind: "ServiceAccount", name: account, namespace: ns }],
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta(v, report) },
  ];
  const args = [
    "hydrate",
    ...src.args,
    "--dest",
    "/cache",
    "--layout",
    v.spec.artifact.layout ?? "Flat",
    "--progress",
    "json",
    ...(v.spec.expectedManifestDigest ? ["--expect-manifest-digest", v.spec.expectedManifestDigest] : []),
    "--report-configmap",
    `${ns}/${report}`,
  ];
  const jobObj: Obj = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta(v, job),
    spec: {
      backoffLimit: 4,
      ttlSecondsAfterFinished: 86400,
      podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { containerName: "hydrate", operator: "In", values: [2, 3] } }] },
      template: {
        metadata: { labels: labels(v) },
        spec: {
          serviceAccountName: account,
          restartPolicy: "Never",
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "hydrate",
              image: o.image,
              args,
              env: [...src.env, { name: "TMPDIR", value: "/tmp" }],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "2", memory: "1Gi" } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [
                { name: "cache", mountPath: "/cache" },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "cache", persistentVolumeClaim: { claimName: claim } },
            { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
          ],
        },
      },
    },
  };

  const r = seen.report;
  const phase = str(r?.["phase"]);
  const progress: Obj = {};
  for (const k of ["bytesDone", "bytesTotal", "bytesPerSecond", "etaSeconds"]) if (num(r?.[k]) !== undefined) progress[k] = num(r?.[k]) ?? 0;
  const identity: Obj = {};
  for (const k of ["manifestDigest", "resolvedRevision"]) if (str(r?.[k]) !== undefined) identity[k] = str(r?.[k]) ?? "";
  const jobFailed = ((get(seen.job, "status", "conditions") as Json[] | undefined) ?? []).some(
    (c) => get(c, "type") === "Failed" && get(c, "status") === "True",
  );
  const bound = str(get(seen.claim, "status", "phase")) === "Bound";

  // Ready: the hydrator verified every byte (against the expected digest when one was handed) and the claim is Bound.
  if (phase === "Ready" && bound)
    return {
      apply,
      status: { claimName: claim, ...identity, ...progress, conditions: [condition("True", "Available", `serving ${str(identity["manifestDigest"]) ?? ""}`)] },
    };
  // The Job is kept (applied) until it is Ready, so a finished Job's TTL never makes it run again before then.
  const withJob = [...apply, jobObj];
  if (jobFailed || (phase === "Failed" && seen.job === undefined))
    return {
      apply: withJob,
      status: { claimName: claim, ...identity, ...progress, conditions: [condition("False", "Failed", str(r?.["message"]) ?? `Job ${job} failed`)] },
    };
  if (phase === "Ready")
    return {
      apply: withJob,
      status: { claimName: claim, ...identity, ...progress, conditions: [condition("False", "Binding", `waiting for ${claim} to be Bound`)] },
    };
  if (phase !== undefined)
    return { apply: withJob, status: { claimName: claim, ...progress, conditions: [condition("False", "Hydrating", `${phase.toLowerCase()}: Job ${job}`)] } };
  return { apply: withJob, status: { claimName: claim, conditions: [condition("False", "Pending", `Job ${job} starting`)] } };
}
