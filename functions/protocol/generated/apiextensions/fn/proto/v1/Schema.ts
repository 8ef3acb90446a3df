// Original file: proto/fn/v1/run_function.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.ts';

export interface Schema {
  'openapi_v3'?: (_google_protobuf_Struct | null);
  '_openapi_v3'?: "openapi_v3";
}

export interface Schema__Output {
  'openapi_v3'?: (_google_protobuf_Struct__Output | null);
  '_openapi_v3'?: "openapi_v3";
}
