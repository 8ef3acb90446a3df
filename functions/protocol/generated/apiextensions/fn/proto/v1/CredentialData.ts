// Original file: proto/fn/v1/run_function.proto


export interface CredentialData {
  'data'?: ({[key: string]: Buffer | Uint8Array | string});
}

export interface CredentialData__Output {
  'data': ({[key: string]: Buffer});
}
