// Original file: proto/fn/v1/run_function.proto

export const Ready = {
  READY_UNSPECIFIED: 'READY_UNSPECIFIED',
  READY_TRUE: 'READY_TRUE',
  READY_FALSE: 'READY_FALSE',
} as const;

export type Ready =
  | 'READY_UNSPECIFIED'
  | 0
  | 'READY_TRUE'
  | 1
  | 'READY_FALSE'
  | 2

export type Ready__Output = typeof Ready[keyof typeof Ready]
