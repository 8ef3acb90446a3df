// Original file: proto/fn/v1/run_function.proto

export const Severity = {
  SEVERITY_UNSPECIFIED: 'SEVERITY_UNSPECIFIED',
  SEVERITY_FATAL: 'SEVERITY_FATAL',
  SEVERITY_WARNING: 'SEVERITY_WARNING',
  SEVERITY_NORMAL: 'SEVERITY_NORMAL',
} as const;

export type Severity =
  | 'SEVERITY_UNSPECIFIED'
  | 0
  | 'SEVERITY_FATAL'
  | 1
  | 'SEVERITY_WARNING'
  | 2
  | 'SEVERITY_NORMAL'
  | 3

export type Severity__Output = typeof Severity[keyof typeof Severity]
