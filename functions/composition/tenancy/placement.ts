// The ceiling on where a hydration pod may run and what it may use. A tenant
// must not tolerate every taint, pin itself to control-plane nodes, or claim
// GPUs for a download: what is allowed is the platform's list, and anything
// else is refused or, by the platform's choice, dropped or lowered.
import type { z } from "zod";
import type { HydrationCeiling } from "../../api/input.ts";
import type { Toleration } from "../../api/k8s.ts";
import { Quantity } from "../../cel/quantity.ts";
import type { Issue } from "./issues.ts";

type Tol = z.infer<typeof Toleration>;
type ResourceList = Record<string, string>;

/** The placement part of spec.hydration, as the tenant wrote it. */
export interface Placement {
  tolerations?: Tol[] | undefined;
  nodeSelector?: Record<string, string> | undefined;
  resources?: { requests?: ResourceList | undefined; limits?: ResourceList | undefined } | undefined;
}

export interface PlacementCheck {
  issues: Issue[];
  /** The same placement with everything refused dropped and every amount lowered to the ceiling. */
  clamped: Placement;
}

const key = (t: Tol) => [t.key ?? "", t.operator ?? "Equal", t.value ?? "", t.effect ?? ""].join("\u0000");

/** Equal to an allowed toleration, and tolerating a NoExecute taint no longer than it. */
function tolerationAllowed(t: Tol, allowed: readonly Tol[]): boolean {
  return allowed.some(
    (a) => key(a) === key(t) && (a.tolerationSeconds === undefined || (t.tolerationSeconds !== undefined && t.tolerationSeconds <= a.tolerationSeconds)),
  );
}

function describeToleration(t: Tol): string {
  if ((t.operator ?? "Equal") === "Exists" && (t.key ?? "") === "") return "operator Exists with no key tolerates every taint";
  return `${t.key ?? "(any key)"} ${t.operator ?? "Equal"}${t.value !== undefined ? ` ${t.value}` : ""}${t.effect !== undefined ? ` ${t.effect}` : ""} is not among the allowed tolerations`;
}

function parse(q: string): Quantity | undefined {
  try {
    return Quantity.parse(q);
  } catch {
    return undefined;
  }
}

function clampList(list: ResourceList | undefined, at: string, ceiling: Record<string, string>, issues: Issue[]): ResourceList | undefined {
  if (list === undefined) return undefined;
  const out: ResourceList = {};
  for (const [name, amount] of Object.entries(list)) {
    const field = `${at}["${name}"]`;
    const max = ceiling[name];
    if (max === undefined) {
      issues.push({
        field,
        rule: "tenancy.hydration.maxResources",
        message: `resource ${name} is not one a hydration pod may ask for (allowed: ${Object.keys(ceiling).join(", ") || "none"})`,
      });
      continue;
    }
    const have = parse(amount);
    const limit = parse(max);
    if (have === undefined || limit === undefined) {
      issues.push({ field, rule: "tenancy.hydration.maxResources", message: `${amount} cannot be compared with the ceiling ${max}` });
      out[name] = max;
    } else if (have.compareTo(limit) > 0) {
      issues.push({ field, rule: "tenancy.hydration.maxResources", message: `${amount} is more than the ceiling ${max}` });
      out[name] = max;
    } else out[name] = amount;
  }
  return out;
}

/** Each amount above its ceiling lowered to it; names without a ceiling left alone. */
export function lowerTo(list: ResourceList, ceiling: Record<string, string>): { list: ResourceList; changed: boolean } {
  const out: ResourceList = { ...list };
  let changed = false;
  for (const [name, amount] of Object.entries(list)) {
    const max = ceiling[name];
    const have = parse(amount);
    const limit = max === undefined ? undefined : parse(max);
    if (max !== undefined && (have === undefined || limit === undefined || have.compareTo(limit) > 0)) {
      out[name] = max;
      changed = true;
    }
  }
  return { list: out, changed };
}

/** `at` is the path of the hydration block, e.g. spec.hydration. */
export function checkPlacement(p: Placement, ceiling: HydrationCeiling, at: string): PlacementCheck {
  const issues: Issue[] = [];
  const clamped: Placement = {};
  if (p.tolerations !== undefined) {
    clamped.tolerations = [];
    p.tolerations.forEach((t, i) => {
      if (tolerationAllowed(t, ceiling.allowedTolerations)) clamped.tolerations?.push(t);
      else issues.push({ field: `${at}.tolerations[${i}]`, rule: "tenancy.hydration.allowedTolerations", message: describeToleration(t) });
    });
  }
  if (p.nodeSelector !== undefined) {
    const allowed = new Set(ceiling.allowedNodeSelectorKeys);
    clamped.nodeSelector = {};
    for (const [k, v] of Object.entries(p.nodeSelector)) {
      if (allowed.has(k)) clamped.nodeSelector[k] = v;
      else
        issues.push({
          field: `${at}.nodeSelector["${k}"]`,
          rule: "tenancy.hydration.allowedNodeSelectorKeys",
          message: `node label ${k} is not one a hydration pod may select on (allowed: ${ceiling.allowedNodeSelectorKeys.join(", ") || "none"})`,
        });
    }
  }
  if (p.resources !== undefined) {
    const requests = clampList(p.resources.requests, `${at}.resources.requests`, ceiling.maxResources, issues);
    const limits = clampList(p.resources.limits, `${at}.resources.limits`, ceiling.maxResources, issues);
    clamped.resources = { ...(requests !== undefined ? { requests } : {}), ...(limits !== undefined ? { limits } : {}) };
  }
  return { issues, clamped };
}

/**
 * The platform's own placement on top of the tenant's (already checked):
 * its node selector wins, its tolerations are added.
 */
export function withPlatformPlacement(p: Placement, ceiling: HydrationCeiling): Placement {
  const out: Placement = { ...p };
  if (ceiling.nodeSelector !== undefined) out.nodeSelector = { ...(p.nodeSelector ?? {}), ...ceiling.nodeSelector };
  if (ceiling.tolerations !== undefined)
    out.tolerations = [...(p.tolerations ?? []), ...ceiling.tolerations.filter((t) => !(p.tolerations ?? []).some((o) => key(o) === key(t)))];
  return out;
}
