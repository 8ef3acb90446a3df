// The composer module a worker loads to run the function's own composition
// logic (composer.ts, runFunctionComposer).
import { z } from "zod";
import { runFunction } from "../composition/run-function.ts";
import type { JsonValue } from "../sdk/types.ts";
import type { Compose } from "./service.ts";

const Options = z.object({ defaultHydratorImage: z.string().min(1) }).strict();

export function createCompose(options: JsonValue): Compose {
  const o = Options.parse(options);
  return (req) => runFunction(req, o);
}
