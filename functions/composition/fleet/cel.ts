// The seam to the CEL environment (functions/cel): compile the cache's
// expression once per call, evaluate it per cluster. Errors are values: a
// compile error is the user's to fix (Fatal), an evaluation error means "not
// selected" for that one cluster.
import type { ObservedCluster } from "./read-cluster.ts";

/** What one evaluation took from the call's budget: its devices' credit, and the cost it spent. */
export interface Metered {
  devices: number;
  cost: number;
}

/**
 * `metered`: the evaluation ran against the call's budget. `transient`: it was stopped by that budget or
 * the clock, or by a fault in the environment, so it says nothing about the cluster alone (never cached).
 */
export type Evaluated = { ok: true; value: boolean; metered?: Metered } | { ok: false; message: string; metered?: Metered; transient?: true };

export interface SelectorProgram {
  evaluate(facts: ObservedCluster): Evaluated;
  /**
   * Account, in evaluation order, for a cluster whose evaluation on these exact facts is known to have
   * cost `cost` and finished: true (and the budget charged exactly as evaluating it would) when this
   * call's budget would have let it finish, false (nothing charged) when it must be evaluated.
   */
  replay?(m: Metered): boolean;
}

export type Compiled = { ok: true; program: SelectorProgram } | { ok: false; message: string };

export type CompileSelector = (expression: string) => Compiled;
