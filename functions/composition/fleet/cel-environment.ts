// Binds the fleet's selector seam to the project's CEL environment (functions/cel).
import type { Compiled } from "./cel.ts";

export function compileWithCelEnvironment(_expression: string): Compiled {
  return { ok: false, message: "the CEL environment (functions/cel) is not available in this build" };
}
