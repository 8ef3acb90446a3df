// Path safety and URI redaction: nothing a source lists may escape the
// destination, and nothing printed may carry a credential.

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A relative POSIX path that stays inside the destination, or why not.
 * Refused: empty, absolute, `..` or `.` segments, empty segments, backslashes
 * (a Windows separator on some tools), NUL and other control characters
 * (SHA256SUMS lines and terminals must stay one line per file).
 */
export function safeRelativePath(path: string): Checked<string> {
  if (path === "") return { ok: false, error: "empty path" };
  if (path.startsWith("/")) return { ok: false, error: `absolute path "${path}"` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return { ok: false, error: `path ${JSON.stringify(path)} holds a control character or backslash` };
  const segments = path.split("/");
  for (const s of segments) {
    if (s === "..") return { ok: false, error: `path "${path}" escapes the destination ("..")` };
    if (s === "." || s === "") return { ok: false, error: `path "${path}" is not normalized` };
  }
  return { ok: true, value: path };
}

/** The URI with userinfo and query string removed: safe for logs, errors and the manifest. */
export function redactUri(uri: string): string {
  // The authority runs to the first '/': a '?' or '#' typed unencoded in a
  // password must not end it early and leave the userinfo in the output.
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/]*)(.*)$/.exec(uri);
  if (m === null) return uri.replace(/[?#].*$/, "");
  const [, scheme = "", authority = "", rest = ""] = m;
  const host = authority.includes("@") ? authority.slice(authority.lastIndexOf("@") + 1) : authority;
  // A query or fragment that starts in the authority runs on through the rest.
  return /[?#]/.test(host) ? `${scheme}${host.replace(/[?#].*$/, "")}` : `${scheme}${host}${rest.replace(/[?#].*$/, "")}`;
}

/**
 * Glob matching with huggingface_hub's semantics (Python fnmatch, as in
 * `allow_patterns`/`ignore_patterns`): `*` matches any run of characters
 * including `/`, `?` one character, `[...]` a class; a pattern ending in `/`
 * matches everything under that folder. Using the hub client's rules means a
 * pattern selects the same files here as in `hf download`.
 */
export function globToRegExp(pattern: string): RegExp {
  const p = pattern.endsWith("/") ? `${pattern}*` : pattern;
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      // A ] right after [ or [! is literal, as in fnmatch.
      const close = p.indexOf("]", p[i + 1] === "!" ? i + 3 : i + 2);
      if (close === -1) {
        re += "\\[";
      } else {
        let body = p.slice(i + 1, close);
        const negated = body.startsWith("!");
        if (negated) body = body.slice(1);
        // As Python's fnmatch: an empty range (z-a) is dropped instead of
        // failing to compile (a class left empty matches nothing, a negated
        // one any character); ^, [, ] and backslash inside are literal.
        body = body.replace(/(.)-(.)/gs, (m, lo: string, hi: string) => (lo > hi ? "" : m)).replace(/[\\\][^]/g, "\\$&");
        re += body === "" ? (negated ? "." : "(?!)") : `[${negated ? "^" : ""}${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

/** Whether `path` passes the include (any; all when none) and exclude (none) globs. */
export function selectedByGlobs(path: string, include: readonly string[], exclude: readonly string[]): boolean {
  if (include.length > 0 && !include.some((g) => globToRegExp(g).test(path))) return false;
  return !exclude.some((g) => globToRegExp(g).test(path));
}
