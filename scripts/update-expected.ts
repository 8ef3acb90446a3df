// Regenerates examples/<scenario>/expected.yaml after an intended change:
// starts the function, renders every example (or those named) with the real
// crossplane CLI exactly as the render-loop test does, and writes the output.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFunction } from "../test/support/function-server.ts";
import { EXAMPLES_DIR, EXPECTED_FILE, listExamples, renderExample, renderedText, startPlatformStep } from "../test/support/render.ts";

const only = process.argv.slice(2);
const fn = await startFunction(["--insecure"]);
const platformStep = await startPlatformStep();
try {
  for (const name of listExamples().filter((n) => only.length === 0 || only.includes(n))) {
    const r = await renderExample(name, fn.port, platformStep.port);
    writeFileSync(join(EXAMPLES_DIR, name, EXPECTED_FILE), renderedText(r));
    process.stdout.write(`${r.code === 0 ? "rendered" : `rendered (exit ${r.code})`} ${name}\n`);
  }
} finally {
  await Promise.all([fn.stop(), platformStep.stop()]);
}
