// Small Kubernetes building blocks shared by the API schemas, and helpers
// that carry Kubernetes-only schema facts (CEL validation rules) alongside
// the zod checks that enforce the same rule inside the function.
import { z } from "zod";

/** A DNS-1123 label: names of namespaces, and what we build resource names from. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A DNS-1123 subdomain: most object names. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Kubernetes quantity (resource.Quantity's grammar). */
export const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

export const ObjectName = z.string().min(1).max(253).regex(DNS_SUBDOMAIN, "must be a DNS-1123 subdomain (lowercase letters, digits, '-', '.')");

export const LocalObjectReference = z.object({ name: ObjectName }).strict();

export const SecretKeyReference = z
  .object({
    name: ObjectName,
    key: z.string().min(1).max(253).optional().describe("Key in the Secret; each source documents its default."),
  })
  .strict();

export const Quantity = z.string().regex(QUANTITY, "must be a Kubernetes quantity such as 40Gi or 500G");

/**
 * A map a tenant writes, bounded like every list in the API: the XRD says
 * maxProperties, so the API server refuses a larger one before the function
 * sees it, and the function refuses it too (a request does not have to come
 * through the API server).
 */
export function boundedMap<K extends z.ZodString, V extends z.ZodType>(key: K, value: V, max: number) {
  return z
    .record(key, value)
    .refine((m) => Object.keys(m).length <= max, { message: `must have at most ${max} entries` })
    .meta({ maxProperties: max });
}

/** Labels as a selector or a node selector names them: a key is a prefix (253) / a name (63); a value at most 63. */
export const LabelMap = boundedMap(z.string().min(1).max(317), z.string().max(63), 64);

export const LabelSelectorRequirement = z
  .object({
    key: z.string().min(1).max(317),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string().max(63)).max(256).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const needsValues = r.operator === "In" || r.operator === "NotIn";
    if (needsValues && !r.values?.length) ctx.addIssue({ code: "custom", path: ["values"], message: `operator ${r.operator} needs at least one value` });
    if (!needsValues && r.values?.length) ctx.addIssue({ code: "custom", path: ["values"], message: `operator ${r.operator} takes no values` });
  })
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
        message: "In and NotIn need values; Exists and DoesNotExist take none",
      },
    ],
  });

export const Toleration = z
  .object({
    key: z.string().optional(),
    operator: z.enum(["Exists", "Equal"]).optional(),
    value: z.string().optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict();

/** Resource names (cpu, memory, nvidia.com/gpu, ...): a pod's container has a handful. */
const ResourceList = boundedMap(z.string().min(1).max(253), Quantity, 16);

export const ResourceRequirements = z
  .object({
    requests: ResourceList.optional(),
    limits: ResourceList.optional(),
  })
  .strict();

/**
 * Exactly one of `keys` must be set. Returns the zod refinement and the
 * matching Kubernetes CEL rule so the XRD and the function agree.
 */
export function exactlyOne(keys: readonly string[]) {
  const rule = `[${keys.map((k) => `has(self.${k})`).join(", ")}].filter(x, x).size() == 1`;
  const message = `exactly one of ${keys.join(", ")} must be set`;
  return {
    meta: { "x-kubernetes-validations": [{ rule, message }] },
    refine: (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
      const set = keys.filter((k) => value[k] !== undefined);
      if (set.length !== 1) ctx.addIssue({ code: "custom", message: set.length === 0 ? `${message}; none is` : `${message}; ${set.join(" and ")} are` });
    },
  };
}
