// Original file: proto/fn/v1/run_function.proto

import type { MatchLabels as _apiextensions_fn_proto_v1_MatchLabels, MatchLabels__Output as _apiextensions_fn_proto_v1_MatchLabels__Output } from './MatchLabels.ts';

export interface ResourceSelector {
  'api_version'?: (string);
  'kind'?: (string);
  'match_name'?: (string);
  'match_labels'?: (_apiextensions_fn_proto_v1_MatchLabels | null);
  'namespace'?: (string);
  'match'?: "match_name"|"match_labels";
  '_namespace'?: "namespace";
}

export interface ResourceSelector__Output {
  'api_version': (string);
  'kind': (string);
  'match_name'?: (string);
  'match_labels'?: (_apiextensions_fn_proto_v1_MatchLabels__Output | null);
  'namespace'?: (string);
  'match'?: "match_name"|"match_labels";
  '_namespace'?: "namespace";
}
