// The seam to the CEL environment (functions/cel): compile the cache's
// expression once per call, evaluate it per cluster. Errors are values: a
// compile error is the user's to fix (Fatal), an evaluation error means "not
// selected" for that one cluster.
import type { ObservedCluster } from "./read-cluster.ts";

export type Evaluated = { ok: true; value: boolean } | { ok: false; message: string };

export interface SelectorProgram {
  evaluate(facts: ObservedCluster): Evaluated;
}

export type Compiled = { ok: true; program: SelectorProgram } | { ok: false; message: string };

export type CompileSelector = (expression: string) => Compiled;
