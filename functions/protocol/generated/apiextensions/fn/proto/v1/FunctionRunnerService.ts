// Original file: proto/fn/v1/run_function.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RunFunctionRequest as _apiextensions_fn_proto_v1_RunFunctionRequest, RunFunctionRequest__Output as _apiextensions_fn_proto_v1_RunFunctionRequest__Output } from './RunFunctionRequest.ts';
import type { RunFunctionResponse as _apiextensions_fn_proto_v1_RunFunctionResponse, RunFunctionResponse__Output as _apiextensions_fn_proto_v1_RunFunctionResponse__Output } from './RunFunctionResponse.ts';

export interface FunctionRunnerServiceClient extends grpc.Client {
  RunFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  RunFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  RunFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  RunFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  runFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  runFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  runFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  runFunction(argument: _apiextensions_fn_proto_v1_RunFunctionRequest, callback: grpc.requestCallback<_apiextensions_fn_proto_v1_RunFunctionResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface FunctionRunnerServiceHandlers extends grpc.UntypedServiceImplementation {
  RunFunction: grpc.handleUnaryCall<_apiextensions_fn_proto_v1_RunFunctionRequest__Output, _apiextensions_fn_proto_v1_RunFunctionResponse>;
  
}

export interface FunctionRunnerServiceDefinition extends grpc.ServiceDefinition {
  RunFunction: MethodDefinition<_apiextensions_fn_proto_v1_RunFunctionRequest, _apiextensions_fn_proto_v1_RunFunctionResponse, _apiextensions_fn_proto_v1_RunFunctionRequest__Output, _apiextensions_fn_proto_v1_RunFunctionResponse__Output>
}
