// Original file: proto/fn/v1/run_function.proto

import type { Capability as _apiextensions_fn_proto_v1_Capability, Capability__Output as _apiextensions_fn_proto_v1_Capability__Output } from './Capability.ts';

export interface RequestMeta {
  'tag'?: (string);
  'capabilities'?: (_apiextensions_fn_proto_v1_Capability)[];
}

export interface RequestMeta__Output {
  'tag': (string);
  'capabilities': (_apiextensions_fn_proto_v1_Capability__Output)[];
}
