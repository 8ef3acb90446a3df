// The examples' Composition when a scenario needs an Input of its own (a
// platform's tenancy policy): the shipped one from apis/, with that Input in
// its one pipeline step. Shared by both levels' example generators.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { JsonObject } from "../../functions/sdk/types.ts";

export function compositionWithInput(root: string, composition: string, input: JsonObject): string {
  const shipped = parse(readFileSync(join(root, "apis", composition, "composition.yaml"), "utf8")) as JsonObject;
  const spec = shipped["spec"] as JsonObject;
  const [step] = spec["pipeline"] as JsonObject[];
  const doc = { ...shipped, spec: { ...spec, pipeline: [{ ...step, input }] } };
  return `# The shipped Composition (apis/${composition}) with a platform's tenancy policy in its Input (docs/security.md).\n${stringify(doc, { lineWidth: 0 })}`;
}
