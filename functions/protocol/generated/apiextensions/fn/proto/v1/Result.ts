// Original file: proto/fn/v1/run_function.proto

import type { Severity as _apiextensions_fn_proto_v1_Severity, Severity__Output as _apiextensions_fn_proto_v1_Severity__Output } from './Severity.ts';
import type { Target as _apiextensions_fn_proto_v1_Target, Target__Output as _apiextensions_fn_proto_v1_Target__Output } from './Target.ts';

export interface Result {
  'severity'?: (_apiextensions_fn_proto_v1_Severity);
  'message'?: (string);
  'reason'?: (string);
  'target'?: (_apiextensions_fn_proto_v1_Target);
  '_reason'?: "reason";
  '_target'?: "target";
}

export interface Result__Output {
  'severity': (_apiextensions_fn_proto_v1_Severity__Output);
  'message': (string);
  'reason'?: (string);
  'target'?: (_apiextensions_fn_proto_v1_Target__Output);
  '_reason'?: "reason";
  '_target'?: "target";
}
