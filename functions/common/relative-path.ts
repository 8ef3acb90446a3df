// The one rule for a relative path that stays inside a destination: not
// absolute, no '.' or '..' segment, no empty segment (so no trailing '/'), no
// backslash or control character, at most 1,024 characters. The API enforces
// it as a pattern (in the XRD too: api/source-fields.ts adds the names the
// hydrator reserves), the hydrator as a function with a reason; both are
// this, and relative-path.test.ts holds them to the same answers.

export const MAX_RELATIVE_PATH = 1024;

/** The rule's lookaheads and its character class, for patterns that add to it (RE2-compatible apart from lookaheads). */
export const RELATIVE_PATH_GUARDS = String.raw`(?!\/)(?!.*(^|\/)\.\.?(\/|$))(?!.*\/\/)(?!.*\/$)`;
export const RELATIVE_PATH_CHARS = String.raw`[^\u0000-\u001f\u007f\\]{1,${MAX_RELATIVE_PATH}}`;
export const RELATIVE_PATH = new RegExp(`^${RELATIVE_PATH_GUARDS}${RELATIVE_PATH_CHARS}$`);

/** Why `path` is not a safe relative path, or undefined when it is. */
export function relativePathProblem(path: string): string | undefined {
  if (path === "") return "empty path";
  if (path.startsWith("/")) return `absolute path "${path}"`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return `path ${JSON.stringify(path)} holds a control character or backslash`;
  if (path.length > MAX_RELATIVE_PATH) return `path of ${path.length} characters (at most ${MAX_RELATIVE_PATH})`;
  for (const s of path.split("/")) {
    if (s === "..") return `path "${path}" escapes the destination ("..")`;
    if (s === "." || s === "") return `path "${path}" is not normalized`;
  }
  return undefined;
}
