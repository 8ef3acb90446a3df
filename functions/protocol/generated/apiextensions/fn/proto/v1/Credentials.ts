// Original file: proto/fn/v1/run_function.proto

import type { CredentialData as _apiextensions_fn_proto_v1_CredentialData, CredentialData__Output as _apiextensions_fn_proto_v1_CredentialData__Output } from './CredentialData.ts';

export interface Credentials {
  'credential_data'?: (_apiextensions_fn_proto_v1_CredentialData | null);
  'source'?: "credential_data";
}

export interface Credentials__Output {
  'credential_data'?: (_apiextensions_fn_proto_v1_CredentialData__Output | null);
  'source'?: "credential_data";
}
