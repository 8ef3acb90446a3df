// Kubernetes label-selector semantics (metav1.LabelSelector): matchLabels and
// matchExpressions are ANDed; NotIn and DoesNotExist match a missing key.
// Returns why a cluster does not match, or undefined when it does.
import type { ClusterSelector } from "../../api/modelcache.ts";

export function labelMismatch(selector: Pick<ClusterSelector, "matchLabels" | "matchExpressions">, labels: Record<string, string>): string | undefined {
  for (const [key, want] of Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const got = labels[key];
    if (got !== want) return `matchLabels: ${key} is ${got === undefined ? "not set" : JSON.stringify(got)}, want ${JSON.stringify(want)}`;
  }
  for (const [i, req] of (selector.matchExpressions ?? []).entries()) {
    const got = labels[req.key];
    const values = req.values ?? [];
    const list = `[${values.join(", ")}]`;
    const where = `matchExpressions[${i}]`;
    switch (req.operator) {
      case "In":
        if (got === undefined || !values.includes(got))
          return `${where}: ${req.key} is ${got === undefined ? "not set" : JSON.stringify(got)}, want one of ${list}`;
        break;
      case "NotIn":
        if (got !== undefined && values.includes(got)) return `${where}: ${req.key} is ${JSON.stringify(got)}, want none of ${list}`;
        break;
      case "Exists":
        if (got === undefined) return `${where}: ${req.key} is not set, want it to exist`;
        break;
      case "DoesNotExist":
        if (got !== undefined) return `${where}: ${req.key} is ${JSON.stringify(got)}, want it not to exist`;
        break;
    }
  }
  return undefined;
}
