import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RELATIVE_PATH, relativePathProblem } from "./relative-path.ts";

describe("one rule for a relative path, as a pattern and as a function", () => {
  it.each([
    { reason: "a nested file", path: "a/b/c.json", ok: true },
    { reason: "dots inside a name", path: "a..b/.hidden/x.", ok: true },
    { reason: "empty", path: "", ok: false },
    { reason: "absolute", path: "/etc/passwd", ok: false },
    { reason: "a '..' segment", path: "a/../b", ok: false },
    { reason: "a '.' segment", path: "./a", ok: false },
    { reason: "an empty segment", path: "a//b", ok: false },
    { reason: "a trailing slash", path: "a/", ok: false },
    { reason: "a backslash", path: "a\\b", ok: false },
    { reason: "a newline (SHA256SUMS is one line per file)", path: "a\nb", ok: false },
    { reason: "at the length limit", path: "x".repeat(1024), ok: true },
    { reason: "past the length limit", path: "x".repeat(1025), ok: false },
  ])("$reason", ({ path, ok }) => {
    expect(RELATIVE_PATH.test(path)).toBe(ok);
    expect(relativePathProblem(path) === undefined).toBe(ok);
  });

  it("the pattern and the function agree on any path", () => {
    const parts = fc.constantFrom("a", "b.c", ".", "..", "", "\\", "\n", "\u007f", "é", " ", "x".repeat(300));
    const path = fc.array(parts, { maxLength: 6 }).map((p) => p.join("/"));
    fc.assert(
      fc.property(
        fc.oneof(
          path,
          fc.string(),
          fc.constant("/").chain((s) => path.map((p) => s + p)),
        ),
        (p) => {
          expect(RELATIVE_PATH.test(p)).toBe(relativePathProblem(p) === undefined);
        },
      ),
    );
  });
});
