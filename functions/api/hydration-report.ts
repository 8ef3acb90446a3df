// The one contract between the hydrator (inside the cluster's Job) and the
// function (reading it back through a provider-kubernetes Object).
//
// The hydrator keeps a ConfigMap named by `--report-configmap <namespace>/<name>`
// up to date with this object, JSON-encoded under the data key `report.json`.
// The function observes that ConfigMap and copies the report into the
// ModelCacheReplica's status. The same JSON is printed as the last line of
// the hydrator's output and written to the Job's termination message.
import { z } from "zod";

export const HYDRATION_REPORT_KEY = "report.json";

export const HydrationPhase = z.enum(["Resolving", "Hydrating", "Verifying", "Ready", "Failed"]);
export type HydrationPhase = z.infer<typeof HydrationPhase>;

export const HydrationReport = z.object({
  phase: HydrationPhase,
  /** The source reference, credentials removed. */
  source: z.string(),
  /** Immutable identity the source resolved to (commit SHA, OCI digest, ...). */
  resolvedRevision: z.string().optional(),
  /** `sha256:<hex>` of the canonical manifest; identifies the bytes. */
  manifestDigest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/)
    .optional(),
  bytesDone: z.number().int().nonnegative(),
  bytesTotal: z.number().int().nonnegative().optional(),
  filesDone: z.number().int().nonnegative(),
  filesTotal: z.number().int().nonnegative().optional(),
  /** Moving average over the last seconds, bytes per second. */
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().int().nonnegative().optional(),
  /** Why it failed, or what it is doing; never contains credentials. */
  message: z.string().optional(),
  startedAt: z.string(),
  updatedAt: z.string(),
});
export type HydrationReport = z.infer<typeof HydrationReport>;
