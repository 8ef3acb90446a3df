// What the image holds: the Docker build context (.dockerignore over the
// tracked files, by @balena/dockerignore, which follows Docker's own rules),
// and which of its modules the program can load from its one entry point.
import dockerignoreModule from "@balena/dockerignore";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

// The package is CommonJS (module.exports = the factory) but its types declare a default export.
const dockerignore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

/** The files `docker build` sends, of those git tracks. */
export function buildContext(root: string): string[] {
  const tracked = execFileSync("git", ["ls-files"], { cwd: root, encoding: "utf8" })
    .split("\n")
    .filter((f) => f !== "");
  const rules = readFileSync(join(root, ".dockerignore"), "utf8").split("\n");
  return dockerignore().add(rules).filter(tracked);
}

/**
 * The modules a file loads: static and dynamic imports, and `new URL("./x.ts", import.meta.url)` (a worker's
 * script, a module the server hands its workers). Relative specifiers only: packages come from node_modules.
 */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/gm))
    if (m[1] !== undefined) found.push(m[1]);
  return found;
}

export interface ModuleGraph {
  /** Modules in the context that the entry point never loads: tooling or tests shipped by mistake. */
  unreachable: string[];
  /** Imports of shipped modules that point outside the context: the image would fail to load them. */
  missing: { from: string; to: string }[];
}

/** Walks the imports from `entry` over `files` (paths relative to the root; `read` gives a file's text). */
export function moduleGraph(files: readonly string[], entry: string, read: (path: string) => string): ModuleGraph {
  const shipped = new Set(files);
  const seen = new Set<string>();
  const missing: ModuleGraph["missing"] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of relativeImports(read(file))) {
      const to = normalize(join(dirname(file), spec));
      if (!shipped.has(to)) missing.push({ from: file, to });
      else queue.push(to);
    }
  }
  const unreachable = files.filter((f) => /\.(ts|js)$/.test(f) && !seen.has(f));
  return { unreachable, missing };
}
