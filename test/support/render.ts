// Runs the real crossplane CLI's `render` on one examples/<scenario>/ directory
// against a running function. Shared by the render-loop test and the script
// that regenerates expected outputs, so both render exactly the same way.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./function-server.ts";

const run = promisify(execFile);

export const EXAMPLES_DIR = join(ROOT, "examples");
export const EXPECTED_FILE = "expected.yaml";

/** Every examples/<scenario>/ that holds an xr.yaml. */
export function listExamples(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((d) => statSync(join(EXAMPLES_DIR, d)).isDirectory() && existsSync(join(EXAMPLES_DIR, d, "xr.yaml")))
    .sort();
}

/** The crank binary: $FMC_CRANK, else `crank` on PATH. Never silently absent. */
export function crankPath(): string {
  return process.env["FMC_CRANK"] || "crank";
}

export function renderArgs(dir: string, port: number): string[] {
  const args = ["render", "xr.yaml", "composition.yaml", "functions.yaml", "--include-function-results"];
  args.push("--function-annotations", `render.crossplane.io/runtime-development-target=127.0.0.1:${port}`);
  if (existsSync(join(dir, "observed.yaml"))) args.push("--observed-resources", "observed.yaml");
  if (existsSync(join(dir, "required.yaml"))) args.push("--required-resources", "required.yaml");
  const extra = join(dir, "extra-args");
  if (existsSync(extra))
    args.push(...readFileSync(extra, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")));
  return args;
}

export interface Rendered {
  stdout: string;
  stderr: string;
  code: number;
}

export async function renderExample(name: string, port: number): Promise<Rendered> {
  const dir = join(EXAMPLES_DIR, name);
  try {
    const { stdout, stderr } = await run(crankPath(), renderArgs(dir, port), { cwd: dir, timeout: 120_000, maxBuffer: 64 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    if (e.code === "ENOENT") throw new Error(`the crossplane CLI (${crankPath()}) is not installed: run scripts/test.sh, which builds it`);
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
  }
}

/**
 * What is compared: stdout, plus the error when render fails (a Fatal result
 * makes crank exit non-zero, and that message is part of the scenario).
 */
export function renderedText(r: Rendered): string {
  if (r.code === 0) return r.stdout;
  return `${r.stdout}# crossplane render exited ${r.code}:\n${r.stderr.trim().split("\n").map((l) => `# ${l}`).join("\n")}\n`;
}
