// Writes each AllMatchingNodes scenario (test/support/node-scenarios.ts) as examples/replica-nodes-<name>/:
// xr.yaml, observed.yaml, the Composition with the platform's node-local policy in its Input, and the
// Development-runtime Function. Expected outputs come from rendering them (`npm run render:update`).
// Run: node scripts/examples/replica-nodes.ts
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { compositionWithInput } from "./composition.ts";
import { nodeScenarios } from "../../test/support/node-scenarios.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const EXAMPLES = join(ROOT, "examples");
const FUNCTIONS = readFileSync(join(EXAMPLES, "pass-through", "functions.yaml"), "utf8");

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
  return [...lines, line].join("\n") + "\n";
}

const list = nodeScenarios();
for (const s of list) {
  const dir = join(EXAMPLES, `replica-nodes-${s.name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "xr.yaml"), comment(s.why) + stringify(s.xr, { lineWidth: 0 }));
  const observed = Object.values(s.observed).map((r) => stringify(r.resource, { lineWidth: 0, aliasDuplicateObjects: false }));
  if (observed.length > 0) writeFileSync(join(dir, "observed.yaml"), observed.map((d) => `---\n${d}`).join(""));
  else rmSync(join(dir, "observed.yaml"), { force: true });
  writeFileSync(join(dir, "functions.yaml"), FUNCTIONS);
  writeFileSync(join(dir, "composition.yaml"), compositionWithInput(ROOT, "modelcachereplicas", s.input ?? {}));
}
process.stdout.write(`wrote ${list.length} examples\n`);
