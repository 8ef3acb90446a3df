import { describe, expect, it } from "vitest";
import { capText, ISSUE_BYTES, summarizeIssues } from "./messages.ts";

describe("capText", () => {
  const cases = [
    { reason: "a short text is unchanged", s: "abc", max: 10, want: "abc" },
    { reason: "a long one is cut and says how much is left out", s: "a".repeat(25), max: 10, want: `${"a".repeat(10)}… (15 more characters left out)` },
    { reason: "a surrogate pair is never cut in half", s: `${"a".repeat(9)}🚀b`, max: 10, want: `${"a".repeat(9)}… (3 more characters left out)` },
  ];
  it.each(cases)("$reason", ({ s, max, want }) => expect(capText(s, max)).toBe(want));
});

describe("summarizeIssues", () => {
  it("lists every issue when there are few", () => {
    expect(summarizeIssues(["a", "b"], (i) => `x.${i}: bad`)).toBe("x.a: bad; x.b: bad");
  });

  it("lists the first ones and counts the rest (150,000 issues once made a 33 MB message)", () => {
    const issues = Array.from({ length: 150_000 }, (_, i) => i);
    const s = summarizeIssues(issues, (i) => `spec.clusterSelector.matchExpressions[${i}].operator: Invalid option`);
    expect(s).toMatch(/matchExpressions\[0\]\.operator/);
    expect(s).toMatch(/matchExpressions\[19\]\.operator: Invalid option; and 149,980 more issues left out$/);
    expect(s.length).toBeLessThan(4096);
  });

  it("caps one issue that echoes a huge input (zod lists every unknown key)", () => {
    const s = summarizeIssues([0], () => `spec: Unrecognized keys: ${'"k", '.repeat(100_000)}`);
    expect(s.length).toBeLessThan(ISSUE_BYTES + 64);
    expect(s).toMatch(/more characters left out\)$/);
  });
});
