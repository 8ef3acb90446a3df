// Writes each serving scenario (test/support/serving-scenarios.ts) as examples/serving-<name>/: the
// consumer XR, a serving Composition (the platform's own step, then this
// function's serving step), the two Functions, what the cluster shows and the
// ModelCaches there are. Expected outputs come from rendering them
// (`npm run render:update`).
// Run: node scripts/examples/serving.ts
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { scenarios } from "../../test/support/serving-scenarios.ts";
import { CONSUMER } from "../../test/support/serving-builders.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const EXAMPLES = join(ROOT, "examples");

// Both run in Development mode; the render helper fills in each one's port (test/support/render.ts).
const FUNCTIONS = `# The platform's own step (function-patch-and-transform; under render, a stand-in that composes
# each base as it is: test/support/platform-step) and this function.
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: function-patch-and-transform
  annotations:
    render.crossplane.io/runtime: Development
    render.crossplane.io/runtime-development-target: 127.0.0.1:PLATFORM_STEP_PORT
spec:
  package: xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:v0.9.0
---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: function-model-cache
  annotations:
    render.crossplane.io/runtime: Development
    render.crossplane.io/runtime-development-target: 127.0.0.1:FUNCTION_MODEL_CACHE_PORT
spec:
  package: ghcr.io/function-model-cache/function-model-cache:v0.1.0
`;

function comment(text: string): string {
  const lines: string[] = [];
  let line = "#";
  for (const w of text.split(" ")) {
    if (line.length + w.length + 1 > 100) {
      lines.push(line);
      line = "#";
    }
    line += ` ${w}`;
  }
  lines.push(line);
  return lines.join("\n") + "\n";
}

function composition(composed: Record<string, JsonObject>, input: JsonObject): JsonObject {
  return {
    apiVersion: "apiextensions.crossplane.io/v1",
    kind: "Composition",
    metadata: { name: "servedmodels.platform.example.org" },
    spec: {
      compositeTypeRef: { apiVersion: "platform.example.org/v1alpha1", kind: "ServedModel" },
      mode: "Pipeline",
      pipeline: [
        {
          step: "serving-workloads",
          functionRef: { name: "function-patch-and-transform" },
          input: { apiVersion: "pt.fn.crossplane.io/v1beta1", kind: "Resources", resources: Object.entries(composed).map(([name, base]) => ({ name, base })) },
        },
        { step: "model-caches", functionRef: { name: "function-model-cache" }, input },
      ],
    },
  };
}

/** Every file of every serving example, by path under examples/; expected.yaml comes from rendering. */
export function exampleFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of scenarios()) {
    const dir = `serving-${s.name}`;
    out[`${dir}/xr.yaml`] = comment(s.why) + stringify(CONSUMER, { lineWidth: 0, aliasDuplicateObjects: false });
    out[`${dir}/composition.yaml`] =
      `# A platform's serving Composition: its own step composes the workloads; function-model-cache's serving step\n# mounts the caches they ask for and holds each back until its cache is verified on its cluster.\n${stringify(composition(s.composed, s.input), { lineWidth: 0, aliasDuplicateObjects: false })}`;
    out[`${dir}/functions.yaml`] = FUNCTIONS;
    const observed = Object.values(s.observed).map((r) => stringify(r.resource, { lineWidth: 0, aliasDuplicateObjects: false }));
    if (observed.length > 0) out[`${dir}/observed.yaml`] = observed.map((d) => `---\n${d}`).join("");
    out[`${dir}/required.yaml`] =
      `# The ModelCaches there are; Crossplane delivers each one a workload names, by name.\n${s.caches.map((c) => `---\n${stringify(c, { lineWidth: 0, aliasDuplicateObjects: false })}`).join("")}`;
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = exampleFiles();
  for (const s of scenarios()) {
    mkdirSync(join(EXAMPLES, `serving-${s.name}`), { recursive: true });
    rmSync(join(EXAMPLES, `serving-${s.name}`, "observed.yaml"), { force: true });
  }
  for (const [path, text] of Object.entries(files)) writeFileSync(join(EXAMPLES, path), text);
  process.stdout.write(`wrote ${scenarios().length} examples\n`);
}
