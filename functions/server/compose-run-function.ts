// The composer module a worker loads to run the function's own composition
// logic (composer.ts, runFunctionComposer).
import { z } from "zod";
import { runFunction } from "../composition/run-function.ts";
import { isClusterRequirement } from "../composition/fleet/compose.ts";
import { SelectionCache } from "../composition/fleet/selection-cache.ts";
import type { FunctionRequest, JsonValue } from "../sdk/types.ts";
import type { Compose } from "./service.ts";

const Options = z.object({ defaultHydratorImage: z.string().min(1) }).strict();

export function createCompose(options: JsonValue): Compose {
  const o = Options.parse(options);
  // This worker's own: the clusters it decodes are remembered here, by their bytes, between its calls.
  const selectionCache = new SelectionCache();
  const compose = (req: FunctionRequest) => runFunction(req, { ...o, selectionCache });
  // The fleet's clusters stay bytes until the fleet asks: most of them it has read before.
  return Object.assign(compose, { encodedRequirements: isClusterRequirement });
}
