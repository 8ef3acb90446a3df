// Original file: proto/fn/v1/run_function.proto

import type { Resource as _apiextensions_fn_proto_v1_Resource, Resource__Output as _apiextensions_fn_proto_v1_Resource__Output } from './Resource.ts';

export interface Resources {
  'items'?: (_apiextensions_fn_proto_v1_Resource)[];
}

export interface Resources__Output {
  'items': (_apiextensions_fn_proto_v1_Resource__Output)[];
}
