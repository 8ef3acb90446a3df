// Original file: proto/fn/v1/run_function.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.ts';

export interface ResponseMeta {
  'tag'?: (string);
  'ttl'?: (_google_protobuf_Duration | null);
  '_ttl'?: "ttl";
}

export interface ResponseMeta__Output {
  'tag': (string);
  'ttl'?: (_google_protobuf_Duration__Output | null);
  '_ttl'?: "ttl";
}
