import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Condition as _apiextensions_fn_proto_v1_Condition, Condition__Output as _apiextensions_fn_proto_v1_Condition__Output } from './apiextensions/fn/proto/v1/Condition.ts';
import type { CredentialData as _apiextensions_fn_proto_v1_CredentialData, CredentialData__Output as _apiextensions_fn_proto_v1_CredentialData__Output } from './apiextensions/fn/proto/v1/CredentialData.ts';
import type { Credentials as _apiextensions_fn_proto_v1_Credentials, Credentials__Output as _apiextensions_fn_proto_v1_Credentials__Output } from './apiextensions/fn/proto/v1/Credentials.ts';
import type { FunctionRunnerServiceClient as _apiextensions_fn_proto_v1_FunctionRunnerServiceClient, FunctionRunnerServiceDefinition as _apiextensions_fn_proto_v1_FunctionRunnerServiceDefinition } from './apiextensions/fn/proto/v1/FunctionRunnerService.ts';
import type { MatchLabels as _apiextensions_fn_proto_v1_MatchLabels, MatchLabels__Output as _apiextensions_fn_proto_v1_MatchLabels__Output } from './apiextensions/fn/proto/v1/MatchLabels.ts';
import type { RequestMeta as _apiextensions_fn_proto_v1_RequestMeta, RequestMeta__Output as _apiextensions_fn_proto_v1_RequestMeta__Output } from './apiextensions/fn/proto/v1/RequestMeta.ts';
import type { Requirements as _apiextensions_fn_proto_v1_Requirements, Requirements__Output as _apiextensions_fn_proto_v1_Requirements__Output } from './apiextensions/fn/proto/v1/Requirements.ts';
import type { Resource as _apiextensions_fn_proto_v1_Resource, Resource__Output as _apiextensions_fn_proto_v1_Resource__Output } from './apiextensions/fn/proto/v1/Resource.ts';
import type { ResourceSelector as _apiextensions_fn_proto_v1_ResourceSelector, ResourceSelector__Output as _apiextensions_fn_proto_v1_ResourceSelector__Output } from './apiextensions/fn/proto/v1/ResourceSelector.ts';
import type { Resources as _apiextensions_fn_proto_v1_Resources, Resources__Output as _apiextensions_fn_proto_v1_Resources__Output } from './apiextensions/fn/proto/v1/Resources.ts';
import type { ResponseMeta as _apiextensions_fn_proto_v1_ResponseMeta, ResponseMeta__Output as _apiextensions_fn_proto_v1_ResponseMeta__Output } from './apiextensions/fn/proto/v1/ResponseMeta.ts';
import type { Result as _apiextensions_fn_proto_v1_Result, Result__Output as _apiextensions_fn_proto_v1_Result__Output } from './apiextensions/fn/proto/v1/Result.ts';
import type { RunFunctionRequest as _apiextensions_fn_proto_v1_RunFunctionRequest, RunFunctionRequest__Output as _apiextensions_fn_proto_v1_RunFunctionRequest__Output } from './apiextensions/fn/proto/v1/RunFunctionRequest.ts';
import type { RunFunctionResponse as _apiextensions_fn_proto_v1_RunFunctionResponse, RunFunctionResponse__Output as _apiextensions_fn_proto_v1_RunFunctionResponse__Output } from './apiextensions/fn/proto/v1/RunFunctionResponse.ts';
import type { Schema as _apiextensions_fn_proto_v1_Schema, Schema__Output as _apiextensions_fn_proto_v1_Schema__Output } from './apiextensions/fn/proto/v1/Schema.ts';
import type { SchemaSelector as _apiextensions_fn_proto_v1_SchemaSelector, SchemaSelector__Output as _apiextensions_fn_proto_v1_SchemaSelector__Output } from './apiextensions/fn/proto/v1/SchemaSelector.ts';
import type { State as _apiextensions_fn_proto_v1_State, State__Output as _apiextensions_fn_proto_v1_State__Output } from './apiextensions/fn/proto/v1/State.ts';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration.ts';
import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct.ts';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  apiextensions: {
    fn: {
      proto: {
        v1: {
          Capability: EnumTypeDefinition
          Condition: MessageTypeDefinition<_apiextensions_fn_proto_v1_Condition, _apiextensions_fn_proto_v1_Condition__Output>
          CredentialData: MessageTypeDefinition<_apiextensions_fn_proto_v1_CredentialData, _apiextensions_fn_proto_v1_CredentialData__Output>
          Credentials: MessageTypeDefinition<_apiextensions_fn_proto_v1_Credentials, _apiextensions_fn_proto_v1_Credentials__Output>
          FunctionRunnerService: SubtypeConstructor<typeof grpc.Client, _apiextensions_fn_proto_v1_FunctionRunnerServiceClient> & { service: _apiextensions_fn_proto_v1_FunctionRunnerServiceDefinition }
          MatchLabels: MessageTypeDefinition<_apiextensions_fn_proto_v1_MatchLabels, _apiextensions_fn_proto_v1_MatchLabels__Output>
          Ready: EnumTypeDefinition
          RequestMeta: MessageTypeDefinition<_apiextensions_fn_proto_v1_RequestMeta, _apiextensions_fn_proto_v1_RequestMeta__Output>
          Requirements: MessageTypeDefinition<_apiextensions_fn_proto_v1_Requirements, _apiextensions_fn_proto_v1_Requirements__Output>
          Resource: MessageTypeDefinition<_apiextensions_fn_proto_v1_Resource, _apiextensions_fn_proto_v1_Resource__Output>
          ResourceSelector: MessageTypeDefinition<_apiextensions_fn_proto_v1_ResourceSelector, _apiextensions_fn_proto_v1_ResourceSelector__Output>
          Resources: MessageTypeDefinition<_apiextensions_fn_proto_v1_Resources, _apiextensions_fn_proto_v1_Resources__Output>
          ResponseMeta: MessageTypeDefinition<_apiextensions_fn_proto_v1_ResponseMeta, _apiextensions_fn_proto_v1_ResponseMeta__Output>
          Result: MessageTypeDefinition<_apiextensions_fn_proto_v1_Result, _apiextensions_fn_proto_v1_Result__Output>
          RunFunctionRequest: MessageTypeDefinition<_apiextensions_fn_proto_v1_RunFunctionRequest, _apiextensions_fn_proto_v1_RunFunctionRequest__Output>
          RunFunctionResponse: MessageTypeDefinition<_apiextensions_fn_proto_v1_RunFunctionResponse, _apiextensions_fn_proto_v1_RunFunctionResponse__Output>
          Schema: MessageTypeDefinition<_apiextensions_fn_proto_v1_Schema, _apiextensions_fn_proto_v1_Schema__Output>
          SchemaSelector: MessageTypeDefinition<_apiextensions_fn_proto_v1_SchemaSelector, _apiextensions_fn_proto_v1_SchemaSelector__Output>
          Severity: EnumTypeDefinition
          State: MessageTypeDefinition<_apiextensions_fn_proto_v1_State, _apiextensions_fn_proto_v1_State__Output>
          Status: EnumTypeDefinition
          Target: EnumTypeDefinition
        }
      }
    }
  }
  google: {
    protobuf: {
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
}

