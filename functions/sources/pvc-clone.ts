// pvcClone: the bytes of a volume already on each cluster, published there
// earlier by the hydrator (it holds a .model-cache manifest). The cluster
// level makes the cache's volume a CSI clone of it (a PVC dataSource) where
// Kubernetes allows one (same namespace, same storage class) and verifies the
// clone with a Job; otherwise a Job copies from the source mounted read-only
// (pvc://, functions/hydrator/sources/volume.ts), checking every file against
// the source's manifest. Either way the cache verifies to the source's
// manifest digest: that digest is what the fleet pins. A volume can change
// under us, so without spec.manifestDigest the first cluster to verify fixes
// it; with it, every cluster must verify exactly that digest from the start.
// Which claims a tenant may name is the platform's decision
// (tenancy.pvcClone in the Input, composition/tenancy/pvc-clone.ts).
import { z } from "zod";
import { DNS_LABEL, ObjectName } from "../api/k8s.ts";
import { argsOnly, sourceMount, SOURCE_MOUNT, type SourceKind } from "./kind.ts";

export const PVC_CLONE_METHODS = ["Auto", "Clone", "Copy"] as const;

export const PvcCloneSource = z
  .object({
    claimName: ObjectName.describe("The PersistentVolumeClaim holding the published artifact on each cluster."),
    namespace: z
      .string()
      .max(63)
      .regex(DNS_LABEL, "must be a DNS label (lowercase letters, digits, '-')")
      .optional()
      .describe(
        "The source claim's namespace on each cluster; defaults to the cache's own namespace there. Another namespace needs the platform's grant (tenancy.pvcClone.grants) and is always copied, never cloned.",
      ),
    method: z
      .enum(PVC_CLONE_METHODS)
      .default("Auto")
      .describe(
        "Auto: a CSI clone when the source is in the cache's namespace and storage class, else a copy Job. Clone: a CSI clone or Blocked, saying why. Copy: always a copy Job.",
      ),
    manifestDigest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, "must be sha256: and 64 lowercase hex digits")
      .optional()
      .describe("The source's manifest digest, when known: every cluster must verify exactly it. Without it the first cluster to verify pins it."),
  })
  .strict();

/** The source as a line: pvc://<claim> in the cache's own namespace, pvc://<namespace>/<claim> elsewhere. */
function line(s: z.infer<typeof PvcCloneSource>): string {
  return `pvc://${s.namespace !== undefined ? `${s.namespace}/` : ""}${s.claimName}`;
}

export const pvcClone: SourceKind<typeof PvcCloneSource> = {
  key: "pvcClone",
  schema: PvcCloneSource,
  // The method is part of the identity, unlike other "how" settings: a clone is fixed when its claim is created
  // (a PVC's dataSource is immutable), so another method needs another volume.
  identity: (s) => ({ pvcClone: { claimName: s.claimName, namespace: s.namespace ?? null, method: s.method, manifestDigest: s.manifestDigest ?? null } }),
  line,
  immutableRevision: (s) => s.manifestDigest,
  // The hydrator reports the revision the source's manifest recorded (a hub commit, an OCI digest), not the digest.
  revisionComparable: false,
  pinnedManifest: (s) => s.manifestDigest,
  // Nothing is fetched over the network.
  fetches: () => [],
  // The copy: the source claim (or, from another namespace, its read-only bridge) at SOURCE_MOUNT.
  plan: (s, ctx) => ({
    ok: true,
    value: {
      ...argsOnly({ source: `pvc://${SOURCE_MOUNT}` }),
      ...sourceMount({ persistentVolumeClaim: { claimName: ctx.claimSeenByJob(s.namespace, s.claimName), readOnly: true } }),
    },
  }),
  fetcher: {
    schemes: ["pvc"],
    usage: ["--source pvc:///path                    a directory the hydrator published (a mounted volume): copied, every file checked against its manifest"],
    async create(uri) {
      const { createVolumeSource } = await import("../hydrator/sources/volume.ts");
      const s = createVolumeSource(uri);
      return s.ok ? { ok: true, value: { source: s.value, reference: uri } } : s;
    },
  },
};
