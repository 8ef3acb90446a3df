// The API server's checks of an XRD schema as the XRD validation tests evaluate them: defaulting, structural
// checks, then each node's x-kubernetes-validations rules (with a CEL engine), in the API server's order.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { evaluate } from "@marcbachmann/cel-js";
import { parse } from "yaml";
import { ROOT } from "../../scripts/gen-apis.ts";

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  default?: unknown;
  "x-kubernetes-validations"?: { rule: string; message?: string }[];
}

export type Value = unknown;
const isObject = (v: Value): v is Record<string, Value> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Defaulting, then structural checks, then the node's CEL rules, as the API server orders them. */
export function validate(s: Schema, v: Value, path: string, errors: string[]): Value {
  if (isObject(v)) {
    if (s.maxProperties !== undefined && Object.keys(v).length > s.maxProperties) errors.push(`${path}: at most ${s.maxProperties} properties`);
    const out: Record<string, Value> = { ...v };
    for (const [k, p] of Object.entries(s.properties ?? {})) if (out[k] === undefined && p.default !== undefined) out[k] = structuredClone(p.default);
    for (const k of s.required ?? []) if (out[k] === undefined) errors.push(`${path}.${k}: Required value`);
    for (const [k, x] of Object.entries(out)) {
      const p = s.properties?.[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : undefined);
      if (p) out[k] = validate(p, x, `${path}.${k}`, errors);
    }
    v = out;
  } else if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) errors.push(`${path}: at least ${s.minItems} items`);
    if (s.maxItems !== undefined && v.length > s.maxItems) errors.push(`${path}: at most ${s.maxItems} items`);
    v = v.map((x, i) => (s.items ? validate(s.items, x, `${path}[${i}]`, errors) : x));
  } else if (typeof v === "string") {
    if (s.enum && !s.enum.includes(v)) errors.push(`${path}: Unsupported value: ${JSON.stringify(v)}`);
    if (s.pattern && !new RegExp(s.pattern).test(v)) errors.push(`${path}: should match '${s.pattern}'`);
    if (s.minLength !== undefined && v.length < s.minLength) errors.push(`${path}: too short`);
    if (s.maxLength !== undefined && v.length > s.maxLength) errors.push(`${path}: too long`);
  } else if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) errors.push(`${path}: above ${s.maximum}`);
  }
  for (const r of s["x-kubernetes-validations"] ?? []) if (evaluate(r.rule, { self: v }) !== true) errors.push(`${path}: ${r.message ?? r.rule}`);
  return v;
}

/** The spec schema of an XRD under apis/ (e.g. apis/modelcaches/definition.yaml). */
export function specSchemaOf(path: string): Schema {
  const xrd = parse(readFileSync(join(ROOT, path), "utf8")) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  return xrd.spec.versions[0]?.schema.openAPIV3Schema.properties?.["spec"] ?? {};
}

/** Every error the API server would give for `spec`, after its defaults. */
export function xrdErrors(schema: Schema, spec: Record<string, Value>): string[] {
  const errors: string[] = [];
  validate(schema, spec, "spec", errors);
  return errors;
}
