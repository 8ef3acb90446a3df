// Original file: proto/fn/v1/run_function.proto

import type { Resource as _apiextensions_fn_proto_v1_Resource, Resource__Output as _apiextensions_fn_proto_v1_Resource__Output } from './Resource.ts';

export interface State {
  'composite'?: (_apiextensions_fn_proto_v1_Resource | null);
  'resources'?: ({[key: string]: _apiextensions_fn_proto_v1_Resource});
}

export interface State__Output {
  'composite': (_apiextensions_fn_proto_v1_Resource__Output | null);
  'resources': ({[key: string]: _apiextensions_fn_proto_v1_Resource__Output});
}
