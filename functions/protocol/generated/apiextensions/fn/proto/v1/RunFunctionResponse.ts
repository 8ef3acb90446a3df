// Original file: proto/fn/v1/run_function.proto

import type { ResponseMeta as _apiextensions_fn_proto_v1_ResponseMeta, ResponseMeta__Output as _apiextensions_fn_proto_v1_ResponseMeta__Output } from './ResponseMeta.ts';
import type { State as _apiextensions_fn_proto_v1_State, State__Output as _apiextensions_fn_proto_v1_State__Output } from './State.ts';
import type { Result as _apiextensions_fn_proto_v1_Result, Result__Output as _apiextensions_fn_proto_v1_Result__Output } from './Result.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.ts';
import type { Requirements as _apiextensions_fn_proto_v1_Requirements, Requirements__Output as _apiextensions_fn_proto_v1_Requirements__Output } from './Requirements.ts';
import type { Condition as _apiextensions_fn_proto_v1_Condition, Condition__Output as _apiextensions_fn_proto_v1_Condition__Output } from './Condition.ts';

export interface RunFunctionResponse {
  'meta'?: (_apiextensions_fn_proto_v1_ResponseMeta | null);
  'desired'?: (_apiextensions_fn_proto_v1_State | null);
  'results'?: (_apiextensions_fn_proto_v1_Result)[];
  'context'?: (_google_protobuf_Struct | null);
  'requirements'?: (_apiextensions_fn_proto_v1_Requirements | null);
  'conditions'?: (_apiextensions_fn_proto_v1_Condition)[];
  'output'?: (_google_protobuf_Struct | null);
  '_context'?: "context";
  '_output'?: "output";
}

export interface RunFunctionResponse__Output {
  'meta': (_apiextensions_fn_proto_v1_ResponseMeta__Output | null);
  'desired': (_apiextensions_fn_proto_v1_State__Output | null);
  'results': (_apiextensions_fn_proto_v1_Result__Output)[];
  'context'?: (_google_protobuf_Struct__Output | null);
  'requirements': (_apiextensions_fn_proto_v1_Requirements__Output | null);
  'conditions': (_apiextensions_fn_proto_v1_Condition__Output)[];
  'output'?: (_google_protobuf_Struct__Output | null);
  '_context'?: "context";
  '_output'?: "output";
}
