// The cache's namespace on the cluster: its tenant's own (one per
// control-plane namespace, ../tenancy/namespaces.ts), never `default`,
// enforcing the restricted Pod Security Standard, and never deleted by a
// replica: the tenant's other caches' volumes live in it too.
import type { JsonObject } from "../../sdk/types.ts";
import { commonLabels } from "./job.ts";
import { POD_SECURITY_LABELS } from "./pod-security.ts";

/** `tenant`: labels naming the control-plane namespace it belongs to (none for the shared one of earlier versions). */
export function namespace(name: string, tenant: Record<string, string> = {}): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { ...tenant, ...commonLabels("cache"), ...POD_SECURITY_LABELS } },
  };
}
