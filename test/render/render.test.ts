// The render loop: the real crossplane CLI renders every example through the
// real gRPC server, and the output must match examples/<scenario>/expected.yaml.
// After an intended change, regenerate with `npm run render:update`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFunction, type FunctionProcess } from "../support/function-server.ts";
import { EXAMPLES_DIR, EXPECTED_FILE, listExamples, renderExample, renderedText, startPlatformStep } from "../support/render.ts";

let fn: FunctionProcess;
// The serving examples' first step: a platform's own composition (a stand-in; docs/stand-ins.md).
let platformStep: FunctionProcess;

beforeAll(async () => {
  [fn, platformStep] = await Promise.all([startFunction(["--insecure"]), startPlatformStep()]);
});
afterAll(async () => {
  await Promise.all([fn?.stop(), platformStep?.stop()]);
});

describe("crossplane render of every example", () => {
  const examples = listExamples();
  it("finds the examples", () => {
    expect(examples).toContain("pass-through");
  });
  it.each(examples)("%s renders to its expected output", async (name) => {
    const expected = readFileSync(join(EXAMPLES_DIR, name, EXPECTED_FILE), "utf8");
    const rendered = await renderExample(name, fn.port, platformStep.port);
    expect(renderedText(rendered)).toBe(expected);
  });
});
