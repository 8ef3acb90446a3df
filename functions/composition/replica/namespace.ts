// The cache's namespace on the cluster: never `default` (the schema refuses
// it), enforcing the restricted Pod Security Standard, and never deleted by a
// replica: other caches' volumes live in it too.
import type { JsonObject } from "../../sdk/types.ts";
import { commonLabels } from "./job.ts";
import { POD_SECURITY_LABELS } from "./pod-security.ts";

export function namespace(name: string): JsonObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { ...commonLabels("cache"), ...POD_SECURITY_LABELS } },
  };
}
