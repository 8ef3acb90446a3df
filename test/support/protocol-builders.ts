// For the protocol's tests: proto-loader's RunFunction method, the reference
// every hand-written reader and writer here is compared against, and Structs.
import * as protoLoader from "@grpc/proto-loader";
import type { JsonObject } from "../../functions/sdk/types.ts";
import type { RunFunctionRequest, RunFunctionRequest__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import { LOADER_OPTIONS, PROTO_PATH } from "../../functions/protocol/load.ts";
import { toStruct } from "../../functions/protocol/struct.ts";

const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
const service = definition["apiextensions.fn.proto.v1.FunctionRunnerService"] as protoLoader.ServiceDefinition;
export const runFunctionMethod = service["RunFunction"] as protoLoader.MethodDefinition<RunFunctionRequest, object, RunFunctionRequest__Output>;

/** A Struct of a JSON object, for building requests. */
export function structOf(v: JsonObject) {
  const r = toStruct(v);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
