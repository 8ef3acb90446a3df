// Original file: proto/fn/v1/run_function.proto

import type { ResourceSelector as _apiextensions_fn_proto_v1_ResourceSelector, ResourceSelector__Output as _apiextensions_fn_proto_v1_ResourceSelector__Output } from './ResourceSelector.ts';
import type { SchemaSelector as _apiextensions_fn_proto_v1_SchemaSelector, SchemaSelector__Output as _apiextensions_fn_proto_v1_SchemaSelector__Output } from './SchemaSelector.ts';

export interface Requirements {
  'extra_resources'?: ({[key: string]: _apiextensions_fn_proto_v1_ResourceSelector});
  'resources'?: ({[key: string]: _apiextensions_fn_proto_v1_ResourceSelector});
  'schemas'?: ({[key: string]: _apiextensions_fn_proto_v1_SchemaSelector});
}

export interface Requirements__Output {
  'extra_resources': ({[key: string]: _apiextensions_fn_proto_v1_ResourceSelector__Output});
  'resources': ({[key: string]: _apiextensions_fn_proto_v1_ResourceSelector__Output});
  'schemas': ({[key: string]: _apiextensions_fn_proto_v1_SchemaSelector__Output});
}
