// A CEL evaluation error from a library function: the cluster's evaluation fails with this message.
import { EvaluationError } from "@marcbachmann/cel-js";

export function evalError(message: string): EvaluationError {
  return new EvaluationError({ code: "invalid_argument", message });
}

/** Run `f`; an error of class `kind` (a library's own parse error) becomes a CEL evaluation error. */
export function evalErrorFrom<T>(kind: abstract new (...args: never[]) => Error, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof kind) throw evalError(e.message);
    throw e;
  }
}
