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

/**
 * Whose a failure that retrying cannot fix is (the hydrator's exit codes 2 and 3). Source: the source or the
 * request (authentication refused, not found, a digest the source serves that does not match the pin, a hostile
 * path, bad arguments): the same on every node and on every retry. Destination: the volume written (full, or
 * holding files not of the artifact): this volume's, another may do.
 */
export const PermanentFailure = z.enum(["Source", "Destination"]);
export type PermanentFailure = z.infer<typeof PermanentFailure>;

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
  /**
   * Only with phase Failed: the failure is permanent (exit code 2 or 3), and whose it is. Absent: worth retrying
   * (exit code 1), and what a hydrator older than this field writes for every failure.
   */
  permanent: PermanentFailure.optional(),
  startedAt: z.string(),
  updatedAt: z.string(),
});
export type HydrationReport = z.infer<typeof HydrationReport>;
