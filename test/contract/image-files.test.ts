// The image holds the program and nothing else: the Docker build context
// (.dockerignore over the tracked files) must be exactly the modules the
// entry point can load, so test builders, scenarios and example generators
// stay out of it, and nothing it loads is left out.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildContext, moduleGraph, relativeImports } from "../support/image-context.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRY = "bin/function-model-cache.js";

describe("the image's files", () => {
  const context = buildContext(ROOT);
  const graph = moduleGraph(context, ENTRY, (f) => readFileSync(join(ROOT, f), "utf8"));

  it("holds the entry point, the program, its protocol and its dependency manifests", () => {
    for (const f of [
      ENTRY,
      "functions/cli.ts",
      "functions/server/worker.ts",
      "functions/server/compose-run-function.ts",
      "proto/fn/v1/run_function.proto",
      "package.json",
      "package-lock.json",
    ])
      expect(context).toContain(f);
  });

  it("holds no test, test support, bench, script or example", () => {
    expect(context.filter((f) => /\.test\.ts$|^(test|bench|scripts|examples|docs)\//.test(f))).toEqual([]);
  });

  it("holds only modules the entry point loads (anything else is tooling shipped by mistake)", () => {
    expect(graph.unreachable).toEqual([]);
  });

  it("holds every module the entry point loads", () => {
    expect(graph.missing).toEqual([]);
  });
});

describe("the module walk", () => {
  // The checks above pass on a correct tree; these cases show they fail on a wrong one.
  const files: Record<string, string> = {
    "bin/main.js": 'import "../src/cli.ts";',
    "src/cli.ts": 'const { run } = await import("./server.ts");\nimport type { T } from "./types.ts";',
    "src/server.ts": 'const w = new URL("./worker.ts", import.meta.url);',
    "src/worker.ts": 'import { x } from "../lib/x.ts";',
    "src/types.ts": "export type T = number;",
    "src/testing.ts": 'import { run } from "./server.ts";',
  };
  const read = (f: string) => files[f] ?? "";
  const cases: { reason: string; shipped: string[]; want: ReturnType<typeof moduleGraph> }[] = [
    {
      reason: "a test helper in the shipped tree is unreachable from the entry point",
      shipped: ["bin/main.js", "src/cli.ts", "src/server.ts", "src/worker.ts", "src/types.ts", "src/testing.ts", "lib/x.ts"],
      want: { unreachable: ["src/testing.ts"], missing: [] },
    },
    {
      reason: "a module loaded only through new URL (a worker) is missing when the context leaves it out",
      shipped: ["bin/main.js", "src/cli.ts", "src/server.ts", "src/types.ts"],
      want: { unreachable: [], missing: [{ from: "src/server.ts", to: "src/worker.ts" }] },
    },
    {
      reason: "dynamic imports, type imports and worker URLs are all followed",
      shipped: ["bin/main.js", "src/cli.ts", "src/server.ts", "src/worker.ts", "src/types.ts", "lib/x.ts"],
      want: { unreachable: [], missing: [] },
    },
  ];
  it.each(cases)("$reason", ({ shipped, want }) => {
    expect(moduleGraph(shipped, "bin/main.js", read)).toEqual(want);
  });

  it("reads every form of relative import, and no package import", () => {
    expect(
      relativeImports(
        'import a from "./a.ts";\nimport "./b.ts";\nexport { c } from "../c.ts";\nawait import("./d.ts");\nnew URL("./e.ts", import.meta.url);\nimport z from "zod";',
      ),
    ).toEqual(["./a.ts", "./b.ts", "../c.ts", "./d.ts", "./e.ts"]);
  });
});
