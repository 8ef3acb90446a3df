// Include/exclude globs with huggingface_hub's semantics (Python fnmatch, as
// in `allow_patterns`/`ignore_patterns`), so a pattern selects the same files
// here as in `hf download`: `*` matches any run of characters including `/`,
// `?` one character, `[...]` a class (`[!...]` negated), and a pattern ending
// in `/` matches everything under that folder.
//
// Matched without a backtracking regex: a pattern is written by whoever wrote
// the spec, and `*a*a*a*a*a*a*a*a` against a long name would take a
// backtracking engine exponential time (the Job ran until its deadline).
// Since `*` here matches every character, the classic two-pointer wildcard
// match is exact: on a mismatch only the most recent `*` needs to absorb one
// more character, so a match costs at most |path| x |pattern| steps.

type Token = { kind: "star" } | { kind: "one" } | { kind: "char"; c: string } | { kind: "class"; negated: boolean; ranges: [string, string][] };

export interface Glob {
  test(path: string): boolean;
}

/** A class body ("a-z0", after any leading "!") as ranges; an empty range (z-a) is dropped, as fnmatch does. */
function classRanges(body: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < body.length; i++) {
    const lo = body[i] as string;
    const hi = body[i + 2];
    if (body[i + 1] === "-" && hi !== undefined) {
      if (lo <= hi) out.push([lo, hi]);
      i += 2;
    } else out.push([lo, lo]);
  }
  return out;
}

function tokenize(pattern: string): Token[] {
  const p = Array.from(pattern.endsWith("/") ? `${pattern}*` : pattern);
  const out: Token[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "*") {
      // Consecutive stars are one star: fewer restart points, same language.
      if (out.at(-1)?.kind !== "star") out.push({ kind: "star" });
    } else if (c === "?") out.push({ kind: "one" });
    else if (c === "[") {
      // A ] right after [ or [! is literal, as in fnmatch; an unclosed [ is a literal [.
      const start = p[i + 1] === "!" ? i + 2 : i + 1;
      const close = p.indexOf("]", start + 1);
      if (close === -1) out.push({ kind: "char", c });
      else {
        out.push({ kind: "class", negated: start === i + 2, ranges: classRanges(p.slice(start, close)) });
        i = close;
      }
    } else out.push({ kind: "char", c });
  }
  return out;
}

function matchesOne(t: Token, c: string): boolean {
  switch (t.kind) {
    case "one":
      return true;
    case "char":
      return t.c === c;
    case "class":
      // A class left empty matches nothing; negated, any character.
      return t.ranges.some(([lo, hi]) => lo <= c && c <= hi) !== t.negated;
    case "star":
      return false;
  }
}

export function compileGlob(pattern: string): Glob {
  const tokens = tokenize(pattern);
  return {
    test(path: string): boolean {
      const s = Array.from(path);
      let ti = 0;
      let si = 0;
      let starTi = -1;
      let starSi = 0;
      while (si < s.length) {
        const t = tokens[ti];
        if (t !== undefined && t.kind === "star") {
          starTi = ti++;
          starSi = si;
        } else if (t !== undefined && matchesOne(t, s[si] as string)) {
          ti++;
          si++;
        } else if (starTi >= 0) {
          // Let the last star absorb one more character and retry from there.
          ti = starTi + 1;
          si = ++starSi;
        } else return false;
      }
      while (tokens[ti]?.kind === "star") ti++;
      return ti === tokens.length;
    },
  };
}

/** Which paths pass the include (any; all when none) and exclude (none) globs. */
export function globFilter(include: readonly string[], exclude: readonly string[]): (path: string) => boolean {
  const inc = include.map(compileGlob);
  const exc = exclude.map(compileGlob);
  return (path) => (inc.length === 0 || inc.some((g) => g.test(path))) && !exc.some((g) => g.test(path));
}
