// Original file: proto/fn/v1/run_function.proto

export const Target = {
  TARGET_UNSPECIFIED: 'TARGET_UNSPECIFIED',
  TARGET_COMPOSITE: 'TARGET_COMPOSITE',
  TARGET_COMPOSITE_AND_CLAIM: 'TARGET_COMPOSITE_AND_CLAIM',
} as const;

export type Target =
  | 'TARGET_UNSPECIFIED'
  | 0
  | 'TARGET_COMPOSITE'
  | 1
  | 'TARGET_COMPOSITE_AND_CLAIM'
  | 2

export type Target__Output = typeof Target[keyof typeof Target]
