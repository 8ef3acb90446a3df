// Original file: proto/fn/v1/run_function.proto


export interface MatchLabels {
  'labels'?: ({[key: string]: string});
}

export interface MatchLabels__Output {
  'labels': ({[key: string]: string});
}
