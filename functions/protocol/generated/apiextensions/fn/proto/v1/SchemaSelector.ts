// Original file: proto/fn/v1/run_function.proto


export interface SchemaSelector {
  'api_version'?: (string);
  'kind'?: (string);
}

export interface SchemaSelector__Output {
  'api_version': (string);
  'kind': (string);
}
