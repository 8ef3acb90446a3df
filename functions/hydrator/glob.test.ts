// Globs select the same files as huggingface_hub (Python fnmatch), and no
// pattern, however many stars it holds, makes matching take more than
// |path| x |pattern| steps.
import { describe, expect, it } from "vitest";
import { compileGlob, globFilter } from "./glob.ts";

describe("globs follow huggingface_hub's fnmatch rules", () => {
  const cases: [glob: string, path: string, match: boolean, reason: string][] = [
    ["*.json", "config.json", true, "a suffix glob"],
    ["*.json", "sub/config.json", true, "* crosses / as in fnmatch (unlike shell globs)"],
    ["?.bin", "a.bin", true, "? is one character"],
    ["?.bin", "ab.bin", false, "? is exactly one character"],
    ["model-[0-9].bin", "model-3.bin", true, "a character class"],
    ["model-[!0-9].bin", "model-x.bin", true, "a negated class"],
    ["model-[!0-9].bin", "model-3.bin", false, "a negated class refuses its members"],
    ["original/", "original/params.json", true, "a trailing / selects the folder's contents"],
    ["a.b", "axb", false, ". is literal"],
    ["a+(b)", "a+(b)", true, "regex metacharacters are literal"],
    ["[", "[", true, "an unclosed [ is literal"],
    // Edge cases checked against Python's fnmatch.fnmatchcase (what huggingface_hub uses):
    ["[z-a].bin", "z.bin", false, "an empty range matches nothing (fnmatch drops it; a JS RegExp would not compile)"],
    ["[!z-a].bin", "q.bin", true, "a negated empty range matches any character"],
    ["[z-ab].bin", "b.bin", true, "the rest of a class with an empty range still counts"],
    ["[^a].bin", "^.bin", true, "a leading ^ is literal in fnmatch"],
    ["[^a].bin", "b.bin", false, "and does not negate"],
    ["[]a]", "]", true, "a ] right after [ is literal"],
    ["[!]a]", "b", true, "a ] right after [! is literal too"],
    ["[!]a]", "]", false, "and negated"],
    ["[])]", ")", true, "a class holding ] and ) compiles"],
    ["[\\]x", "\\x", true, "a backslash in a class is literal"],
    ["[a-]", "-", true, "a trailing - is literal"],
    ["*a*a*a*a*a*a*a*a", `${"a".repeat(60)}b`, false, "eight stars that cannot match: refused in |path| x |pattern| steps, not exponentially many"],
    ["*a*a*a*a*a*a*a*a", "a".repeat(60), true, "the same stars where they can match"],
    ["a**b", "a/x/b", true, "consecutive stars are one star"],
    ["*", "", true, "a star matches the empty run"],
    ["?", "模", true, "? is one character, not one UTF-16 unit (fnmatch counts code points)"],
    ["?", "😀", true, "an astral character is one character too"],
    ["*.bin", "model.bin.part", false, "the pattern must reach the end of the path"],
  ];
  it.each(cases)("%s vs %s -> %s (%s)", (glob, path, match, _reason) => {
    expect(compileGlob(glob).test(path)).toBe(match);
  });

  it("compiles every pattern, however malformed (a glob error would otherwise fail the hydration as retryable)", () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const alphabet = "[]!^-\\az*?.(){}|$+/";
    for (let n = 0; n < 5_000; n++) {
      let g = "";
      for (let i = 0, len = 1 + Math.floor(rnd() * 8); i < len; i++) g += alphabet[Math.floor(rnd() * alphabet.length)];
      expect(() => compileGlob(g), g).not.toThrow();
    }
  });

  it("include selects any match, exclude removes, no include means all", () => {
    expect(globFilter([], [])("a.json")).toBe(true);
    expect(globFilter(["*.json"], [])("a.bin")).toBe(false);
    expect(globFilter(["*.bin", "*.json"], [])("a.json")).toBe(true);
    expect(globFilter(["*.json"], ["a.*"])("a.json")).toBe(false);
  });
});
