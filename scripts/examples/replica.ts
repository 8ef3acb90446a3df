// Writes each scenario (test/support/replica-scenarios.ts) as examples/replica-<name>/: xr.yaml,
// observed.yaml, required.yaml (contract ConfigMaps, for a compact replica), the shared composition and the Development-runtime Function.
// Expected outputs come from rendering them (`npm run render:update`).
// Run: node scripts/examples/replica.ts
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { compositionWithInput } from "./composition.ts";
import { scenarios } from "../../test/support/replica-scenarios.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const EXAMPLES = join(ROOT, "examples");
const FUNCTIONS = readFileSync(join(EXAMPLES, "pass-through", "functions.yaml"), "utf8");

function comment(text: string): string {
  const words = text.split(" ");
  const lines: string[] = [];
  let line = "#";
  for (const w of words) {
    if (line.length + w.length + 1 > 100) {
      lines.push(line);
      line = "#";
    }
    line += ` ${w}`;
  }
  lines.push(line);
  return lines.join("\n") + "\n";
}

for (const s of scenarios()) {
  const dir = join(EXAMPLES, `replica-${s.name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "xr.yaml"), comment(s.why) + stringify(s.xr, { lineWidth: 0 }));
  const observed = Object.values(s.observed).map((r) => stringify(r.resource, { lineWidth: 0, aliasDuplicateObjects: false }));
  if (observed.length > 0) writeFileSync(join(dir, "observed.yaml"), observed.map((d) => `---\n${d}`).join(""));
  else rmSync(join(dir, "observed.yaml"), { force: true });
  if (s.required !== undefined || s.mounts !== undefined) {
    const head = [
      ...(s.required !== undefined ? ["# The contract ConfigMap(s) there are; Crossplane delivers the one the replica names, by name."] : []),
      ...(s.mounts !== undefined
        ? ["# The serving step's records of who mounts this cache (serving/leases.ts); Crossplane delivers those labelled with this cache and cluster."]
        : []),
    ];
    writeFileSync(
      join(dir, "required.yaml"),
      `${head.join("\n")}\n${[...(s.required ?? []), ...(s.mounts ?? [])].map((r) => `---\n${stringify(r, { lineWidth: 0 })}`).join("")}`,
    );
  } else rmSync(join(dir, "required.yaml"), { force: true });
  writeFileSync(join(dir, "functions.yaml"), FUNCTIONS);
  const comp = join(dir, "composition.yaml");
  rmSync(comp, { force: true });
  // The shipped Composition, or it with the Input a platform engineer would add for this scenario.
  if (s.input === undefined) symlinkSync("../../apis/modelcachereplicas/composition.yaml", comp);
  else writeFileSync(comp, compositionWithInput(ROOT, "modelcachereplicas", s.input));
}
process.stdout.write(`wrote ${scenarios().length} examples\n`);
