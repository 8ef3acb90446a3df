// The composer module a worker loads to run the function's own composition
// logic (composer.ts, runFunctionComposer).
import { z } from "zod";
import { runFunction } from "../composition/run-function.ts";
import { CLUSTERS_REQUIREMENT, isClusterRequirement, knownSelections } from "../composition/fleet/compose.ts";
import { API_VERSION, MODEL_CACHE_KIND } from "../api/group.ts";
import { decodeHead } from "../protocol/decode-request.ts";
import { SelectionCache } from "../composition/fleet/selection-cache.ts";
import type { FunctionRequest, JsonValue } from "../sdk/types.ts";
import type { Compose } from "./service.ts";

const Options = z.object({ defaultHydratorImage: z.string().min(1) }).strict();

/** What stands for a cluster no composition of this request reads: a context no selection is ever made in. */
const UNREAD = Object.freeze({ context: "unread: not a ModelCache", value: undefined });

export function createCompose(options: JsonValue): Compose {
  const o = Options.parse(options);
  // This worker's own: the clusters it decodes are remembered here, by their bytes, between its calls.
  const selectionCache = new SelectionCache();
  const compose = (req: FunctionRequest) => runFunction(req, { ...o, selectionCache });
  // A request walked as it arrives (stream-request.ts): a ModelCache's clusters whose bytes this worker has decided
  // on before are let go as they pass, their remembered selection kept in their place.
  const forget = (requirement: string, head: () => Buffer) => {
    const h = decodeHead(head());
    const xr = h?.composite;
    if (h === undefined) return undefined;
    // Only a ModelCache reads the clusters: under any other XR they pass unread (a pass-through, a replica).
    if (xr?.["apiVersion"] !== API_VERSION || xr["kind"] !== MODEL_CACHE_KIND) return { known: () => undefined, unread: UNREAD };
    if (requirement !== CLUSTERS_REQUIREMENT) return undefined;
    return knownSelections(xr, h.input, { ...o, selectionCache });
  };
  // The fleet's clusters stay bytes until the fleet asks: most of them it has read before.
  return Object.assign(compose, { encodedRequirements: isClusterRequirement, forget });
}
