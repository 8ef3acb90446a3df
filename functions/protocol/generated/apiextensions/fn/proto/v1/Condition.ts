// Original file: proto/fn/v1/run_function.proto

import type { Status as _apiextensions_fn_proto_v1_Status, Status__Output as _apiextensions_fn_proto_v1_Status__Output } from './Status.ts';
import type { Target as _apiextensions_fn_proto_v1_Target, Target__Output as _apiextensions_fn_proto_v1_Target__Output } from './Target.ts';

export interface Condition {
  'type'?: (string);
  'status'?: (_apiextensions_fn_proto_v1_Status);
  'reason'?: (string);
  'message'?: (string);
  'target'?: (_apiextensions_fn_proto_v1_Target);
  '_message'?: "message";
  '_target'?: "target";
}

export interface Condition__Output {
  'type': (string);
  'status': (_apiextensions_fn_proto_v1_Status__Output);
  'reason': (string);
  'message'?: (string);
  'target'?: (_apiextensions_fn_proto_v1_Target__Output);
  '_message'?: "message";
  '_target'?: "target";
}
