// A zod error as one line a person can act on: each issue as the field's path
// (Kubernetes style, `spec.a.b[0].c`) and what is wrong, joined by `; ` and
// bounded (summarizeIssues), so a hostile spec cannot make a huge message.
import type { z } from "zod";
import { summarizeIssues } from "../sdk/messages.ts";

/** The path of an issue below `prefix`: `spec.clusterSelector.matchExpressions[0].operator`. */
export function issuePath(prefix: string, path: readonly PropertyKey[]): string {
  return [prefix, ...path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)))]
    .filter((p) => p !== "")
    .join(".")
    .replace(/\.\[/g, "[");
}

/** `spec.artifact.source.huggingFace.repo: must be ...`, one issue per `; `, at most `max` spelled out. */
export function formatIssues(prefix: string, err: z.ZodError, max?: number): string {
  return summarizeIssues(err.issues, (i) => `${issuePath(prefix, i.path)}: ${i.message}`, max);
}
