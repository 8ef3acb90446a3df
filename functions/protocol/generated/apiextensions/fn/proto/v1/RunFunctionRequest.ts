// Original file: proto/fn/v1/run_function.proto

import type { RequestMeta as _apiextensions_fn_proto_v1_RequestMeta, RequestMeta__Output as _apiextensions_fn_proto_v1_RequestMeta__Output } from './RequestMeta.ts';
import type { State as _apiextensions_fn_proto_v1_State, State__Output as _apiextensions_fn_proto_v1_State__Output } from './State.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.ts';
import type { Resources as _apiextensions_fn_proto_v1_Resources, Resources__Output as _apiextensions_fn_proto_v1_Resources__Output } from './Resources.ts';
import type { Credentials as _apiextensions_fn_proto_v1_Credentials, Credentials__Output as _apiextensions_fn_proto_v1_Credentials__Output } from './Credentials.ts';
import type { Schema as _apiextensions_fn_proto_v1_Schema, Schema__Output as _apiextensions_fn_proto_v1_Schema__Output } from './Schema.ts';

export interface RunFunctionRequest {
  'meta'?: (_apiextensions_fn_proto_v1_RequestMeta | null);
  'observed'?: (_apiextensions_fn_proto_v1_State | null);
  'desired'?: (_apiextensions_fn_proto_v1_State | null);
  'input'?: (_google_protobuf_Struct | null);
  'context'?: (_google_protobuf_Struct | null);
  'extra_resources'?: ({[key: string]: _apiextensions_fn_proto_v1_Resources});
  'credentials'?: ({[key: string]: _apiextensions_fn_proto_v1_Credentials});
  'required_resources'?: ({[key: string]: _apiextensions_fn_proto_v1_Resources});
  'required_schemas'?: ({[key: string]: _apiextensions_fn_proto_v1_Schema});
  '_input'?: "input";
  '_context'?: "context";
}

export interface RunFunctionRequest__Output {
  'meta': (_apiextensions_fn_proto_v1_RequestMeta__Output | null);
  'observed': (_apiextensions_fn_proto_v1_State__Output | null);
  'desired': (_apiextensions_fn_proto_v1_State__Output | null);
  'input'?: (_google_protobuf_Struct__Output | null);
  'context'?: (_google_protobuf_Struct__Output | null);
  'extra_resources': ({[key: string]: _apiextensions_fn_proto_v1_Resources__Output});
  'credentials': ({[key: string]: _apiextensions_fn_proto_v1_Credentials__Output});
  'required_resources': ({[key: string]: _apiextensions_fn_proto_v1_Resources__Output});
  'required_schemas': ({[key: string]: _apiextensions_fn_proto_v1_Schema__Output});
  '_input'?: "input";
  '_context'?: "context";
}
