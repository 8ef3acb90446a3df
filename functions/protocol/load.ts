// Loads the RunFunction service definition from proto/ at start-up.
// proto-loader options are fixed here because the generated types in
// ./generated were produced with the same ones (see `npm run gen:proto`).
import { fileURLToPath } from "node:url";
import * as protoLoader from "@grpc/proto-loader";
import * as grpc from "@grpc/grpc-js";
import type { ProtoGrpcType } from "./generated/run_function.ts";

export const PROTO_PATH = fileURLToPath(new URL("../../proto/fn/v1/run_function.proto", import.meta.url));

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function loadProtocol(): ProtoGrpcType["apiextensions"]["fn"]["proto"]["v1"] {
  const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  return loaded.apiextensions.fn.proto.v1;
}

export const RUN_FUNCTION_PATH = "/apiextensions.fn.proto.v1.FunctionRunnerService/RunFunction";
