// Validating what the function is given: the ModelCache XR and the step's
// Input. Errors are values carrying the field path, so the Fatal result names
// exactly what to fix.
import type { z } from "zod";
import { obj, str } from "../../common/json.ts";
import { deepFreeze, memoizeParse } from "../../common/memo.ts";
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

/**
 * The same Input, spec and status come on every reconcile of an XR, and validating them is most of a small call's
 * composition (zod: about 40 us of 70 on a quiet core; docs/benchmarks.md, "The service under load"). So each
 * validation is remembered by its value's JSON text, from a copy made of that text (nothing of a request is kept),
 * its result frozen: calls share it. Not remembered: a value holding -0 (its JSON text is 0's), or larger than
 * CACHED_TEXT_CHARS (a fleet's status with thousands of clusters is measured as it is walked, never written out);
 * at most CACHED_VALUES of each kind per worker, so a tenant flooding distinct specs resets the cache, it does not
 * grow it.
 */
const CACHED_TEXT_CHARS = 16 * 1024;
const CACHED_VALUES = 256;

/** Whether `value`'s JSON text is at most `budget.chars` long (about: keys and strings counted, quoting roughly) and stands for it alone (no -0). */
function rememberable(value: unknown, budget: { chars: number }): boolean {
  if (typeof value === "string") return (budget.chars -= value.length + 3) >= 0;
  if (typeof value === "number") return !Object.is(value, -0) && (budget.chars -= 24) >= 0;
  if (typeof value !== "object" || value === null) return (budget.chars -= 6) >= 0;
  if (Array.isArray(value)) {
    for (const x of value) if (!rememberable(x, budget)) return false;
    return (budget.chars -= 2) >= 0;
  }
  for (const [k, x] of Object.entries(value)) if ((budget.chars -= k.length + 4) < 0 || !rememberable(x, budget)) return false;
  return budget.chars >= 0;
}

function remembered<T>(validate: (value: unknown) => z.ZodSafeParseResult<T>): (value: unknown) => z.ZodSafeParseResult<T> {
  const byText = memoizeParse((text: string) => {
    const result = validate(JSON.parse(text));
    if (result.success) deepFreeze(result.data);
    return result;
  }, CACHED_VALUES);
  return (value) => (value !== undefined && rememberable(value, { chars: CACHED_TEXT_CHARS }) ? byText(JSON.stringify(value)) : validate(value));
}

const validSpec = remembered((v) => ModelCacheSpec.safeParse(v));
const validStatus = remembered((v) => ModelCacheStatus.safeParse(v));
const validInput = remembered((v) => Input.safeParse(v));

/** The spec alone, exactly as parseCache reads it (and remembered the same way). */
export function parseSpec(xr: JsonObject | undefined): Parsed<ModelCacheSpec> {
  const spec = validSpec(ownSpec(xr?.["spec"] ?? {}));
  return spec.success ? { ok: true, value: spec.data } : { ok: false, message: formatIssues("spec", spec.error) };
}

export function parseCache(xr: JsonObject | undefined): Parsed<Cache> {
  if (xr === undefined) return { ok: false, message: "the request has no observed composite resource" };
  const meta = obj(xr["metadata"]) ?? {};
  const name = str(meta["name"]);
  if (!name) return { ok: false, message: "metadata.name: the ModelCache has no name" };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(meta["annotations"]) ?? {})) if (typeof v === "string") annotations[k] = v;
  const own = ownSpec(xr["spec"] ?? {});
  const spec = validSpec(own);
  if (!spec.success) return { ok: false, message: formatIssues("spec", spec.error) };
  // Status is ours; an unreadable one (hand-edited) is ignored rather than fatal.
  const status = validStatus(xr["status"] ?? {});
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
  const parsed = validInput(input ?? { apiVersion: INPUT_API_VERSION, kind: "Input" });
  if (!parsed.success) return { ok: false, message: formatIssues("input", parsed.error) };
  return { ok: true, value: parsed.data };
}
