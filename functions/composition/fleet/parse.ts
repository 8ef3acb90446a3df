// Validating what the function is given: the ModelCache XR and the step's
// Input. Errors are values carrying the field path, so the Fatal result names
// exactly what to fix.
import { obj, str } from "../../common/json.ts";
import { ownSpec } from "../../api/crossplane-owned.ts";
import { Input } from "../../api/input.ts";
import { INPUT_API_VERSION } from "../../api/input.ts";
import { ModelCacheSpec, ModelCacheStatus } from "../../api/modelcache.ts";
import { formatIssues } from "../../common/zod-issues.ts";
import type { JsonObject } from "../../sdk/types.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export interface Cache {
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  spec: ModelCacheSpec;
  /**
   * The spec as written (validated): handed to replicas without the defaults
   * zod filled in, which the replica's schema applies again. Keeps each
   * replica, and so the response at thousands of clusters, small.
   */
  written: JsonObject;
  /** The status as last written, read back so the pin and transitions persist. */
  observedStatus: ModelCacheStatus;
}

export function parseCache(xr: JsonObject | undefined): Parsed<Cache> {
  if (xr === undefined) return { ok: false, message: "the request has no observed composite resource" };
  const meta = obj(xr["metadata"]) ?? {};
  const name = str(meta["name"]);
  if (!name) return { ok: false, message: "metadata.name: the ModelCache has no name" };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(meta["annotations"]) ?? {})) if (typeof v === "string") annotations[k] = v;
  const own = ownSpec(xr["spec"] ?? {});
  const spec = ModelCacheSpec.safeParse(own);
  if (!spec.success) return { ok: false, message: formatIssues("spec", spec.error) };
  // Status is ours; an unreadable one (hand-edited) is ignored rather than fatal.
  const status = ModelCacheStatus.safeParse(xr["status"] ?? {});
  return {
    ok: true,
    value: {
      name,
      namespace: str(meta["namespace"]) ?? "default",
      annotations,
      spec: spec.data,
      written: obj(own) ?? {},
      observedStatus: status.success ? status.data : {},
    },
  };
}

export function parseInput(input: JsonObject | undefined): Parsed<Input> {
  // A step without input reads the default cluster type.
  const parsed = Input.safeParse(input ?? { apiVersion: INPUT_API_VERSION, kind: "Input" });
  if (!parsed.success) return { ok: false, message: formatIssues("input", parsed.error) };
  return { ok: true, value: parsed.data };
}
