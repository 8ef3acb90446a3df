// A value, or the error saying why there is none: how a failure crosses a
// layer without an exception. One definition for every module.
export type Checked<T, E = string> = { ok: true; value: T } | { ok: false; error: E };
