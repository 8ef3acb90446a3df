// A RunFunction client, as Crossplane is one, built from the same proto.
import * as grpc from "@grpc/grpc-js";
import { loadProtocol } from "../../functions/protocol/load.ts";
import type { RunFunctionRequest } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionRequest.ts";
import type { RunFunctionResponse__Output } from "../../functions/protocol/generated/apiextensions/fn/proto/v1/RunFunctionResponse.ts";

export function newClient(port: number, credentials = grpc.credentials.createInsecure()) {
  const { FunctionRunnerService } = loadProtocol();
  // The test server certificate names localhost; dialling 127.0.0.1 with that
  // name avoids sending an IP address as the TLS server name.
  return new FunctionRunnerService(`127.0.0.1:${port}`, credentials, {
    "grpc.max_send_message_length": -1,
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
  });
}

export type Client = ReturnType<typeof newClient>;

export function runFunction(client: Client, req: RunFunctionRequest, deadlineMs = 10_000): Promise<RunFunctionResponse__Output> {
  return new Promise((resolve, reject) =>
    client.RunFunction(req, { deadline: Date.now() + deadlineMs }, (err, rsp) => (err || !rsp ? reject(err ?? new Error("no response")) : resolve(rsp))),
  );
}
