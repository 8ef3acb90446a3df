// The Kubernetes "restricted" Pod Security Standard, applied to the hydration
// pod: non-root, no privilege escalation, no capabilities, RuntimeDefault
// seccomp, and a read-only root filesystem (scratch space is an emptyDir).
import type { JsonObject } from "../../sdk/types.ts";

/** The hydrator image's user (distroless `nonroot`). */
export const HYDRATOR_UID = 65532;

export function podSecurityContext(): JsonObject {
  return {
    runAsNonRoot: true,
    runAsUser: HYDRATOR_UID,
    runAsGroup: HYDRATOR_UID,
    // Lets the non-root hydrator write a freshly provisioned block volume; the
    // recursive chown only happens when the root's group differs, so a large
    // cache is not walked on every attempt.
    fsGroup: HYDRATOR_UID,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function containerSecurityContext(): JsonObject {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** The namespace we create enforces the same standard for everything in it. */
export const POD_SECURITY_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/enforce-version": "latest",
} as const;
