// Original file: proto/fn/v1/run_function.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.ts';
import type { Ready as _apiextensions_fn_proto_v1_Ready, Ready__Output as _apiextensions_fn_proto_v1_Ready__Output } from './Ready.ts';

export interface Resource {
  'resource'?: (_google_protobuf_Struct | null);
  'connection_details'?: ({[key: string]: Buffer | Uint8Array | string});
  'ready'?: (_apiextensions_fn_proto_v1_Ready);
}

export interface Resource__Output {
  'resource': (_google_protobuf_Struct__Output | null);
  'connection_details': ({[key: string]: Buffer});
  'ready': (_apiextensions_fn_proto_v1_Ready__Output);
}
