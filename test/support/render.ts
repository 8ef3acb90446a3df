// Runs the real crossplane CLI's `render` on one examples/<scenario>/ directory
// against a running function. Shared by the render-loop test and the script
// that regenerates expected outputs, so both render exactly the same way.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort, ROOT, spawnServing, type FunctionProcess } from "./function-server.ts";

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

/**
 * The serving examples run a platform's own step before this function's
 * (a stand-in, test/support/platform-step/): their functions.yaml names
 * each Function's target with these placeholders, filled in per run.
 */
export const FUNCTION_PORT_PLACEHOLDER = "FUNCTION_MODEL_CACHE_PORT";
export const PLATFORM_STEP_PORT_PLACEHOLDER = "PLATFORM_STEP_PORT";
/** The stand-in's server; the live suite runs it as function-serving-platform-step. */
export const PLATFORM_STEP_SERVER = fileURLToPath(new URL("./platform-step/server.ts", import.meta.url));

/** Starts the platform-step stand-in the serving examples' Compositions run first. */
export async function startPlatformStep(): Promise<FunctionProcess> {
  const port = await freePort();
  return spawnServing(port, [PLATFORM_STEP_SERVER, "--insecure", "--address", `127.0.0.1:${port}`]);
}

export function usesPlatformStep(dir: string): boolean {
  return readFileSync(join(dir, "functions.yaml"), "utf8").includes(PLATFORM_STEP_PORT_PLACEHOLDER);
}

export function renderArgs(dir: string, port: number, functionsFile = "functions.yaml"): string[] {
  const args = ["render", "xr.yaml", "composition.yaml", functionsFile, "--include-function-results"];
  // One target for every Function, unless the example names each one's (functionsFile filled in).
  if (functionsFile === "functions.yaml") args.push("--function-annotations", `render.crossplane.io/runtime-development-target=127.0.0.1:${port}`);
  if (existsSync(join(dir, "observed.yaml"))) args.push("--observed-resources", "observed.yaml");
  if (existsSync(join(dir, "required.yaml"))) args.push("--required-resources", "required.yaml");
  const extra = join(dir, "extra-args");
  if (existsSync(extra))
    args.push(
      ...readFileSync(extra, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("#")),
    );
  return args;
}

export interface Rendered {
  stdout: string;
  stderr: string;
  code: number;
}

export async function renderExample(name: string, port: number, platformStepPort?: number): Promise<Rendered> {
  const dir = join(EXAMPLES_DIR, name);
  let tmp: string | undefined;
  let functionsFile = "functions.yaml";
  if (usesPlatformStep(dir)) {
    if (platformStepPort === undefined) throw new Error(`examples/${name} runs the platform-step stand-in first: start it with startPlatformStep()`);
    tmp = mkdtempSync(join(tmpdir(), "fmc-render-"));
    functionsFile = join(tmp, "functions.yaml");
    const text = readFileSync(join(dir, "functions.yaml"), "utf8")
      .replaceAll(FUNCTION_PORT_PLACEHOLDER, String(port))
      .replaceAll(PLATFORM_STEP_PORT_PLACEHOLDER, String(platformStepPort));
    writeFileSync(functionsFile, text);
  }
  try {
    const { stdout, stderr } = await run(crankPath(), renderArgs(dir, port, functionsFile), { cwd: dir, timeout: 120_000, maxBuffer: 64 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number | string };
    if (e.code === "ENOENT") throw new Error(`the crossplane CLI (${crankPath()}) is not installed: run scripts/test.sh, which builds it`);
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * What is compared: stdout, plus the error when render fails (a Fatal result
 * makes crank exit non-zero, and that message is part of the scenario).
 */
export function renderedText(r: Rendered): string {
  if (r.code === 0) return r.stdout;
  return `${r.stdout}# crossplane render exited ${r.code}:\n${r.stderr
    .trim()
    .split("\n")
    .map((l) => `# ${l}`)
    .join("\n")}\n`;
}
