import { describe, expect, it } from "vitest";
import { Semver } from "./semver.ts";

describe("Semver.parse is strict SemVer 2.0.0 (blang/semver)", () => {
  it.each([
    { text: "580.126.20", parts: [580n, 126n, 20n], reason: "an NVIDIA driver version" },
    { text: "9.0.0", parts: [9n, 0n, 0n], reason: "a CUDA compute capability" },
    { text: "1.2.3-rc.1+build.5", parts: [1n, 2n, 3n], reason: "pre-release and build metadata" },
  ])("$text: $reason", ({ text, parts }) => {
    const v = Semver.parse(text);
    expect([v.major, v.minor, v.patch]).toEqual(parts);
  });

  it.each([
    { text: "1.2", reason: "missing patch" },
    { text: "v1.2.3", reason: "a leading v" },
    { text: "01.2.3", reason: "a leading zero" },
    { text: "1.2.3-01", reason: "a numeric pre-release with a leading zero" },
    { text: "1.2.3-", reason: "an empty pre-release" },
    { text: "1.2.3.4", reason: "four components" },
    { text: "", reason: "empty" },
  ])("refuses $text: $reason", ({ text }) => {
    expect(() => Semver.parse(text)).toThrow();
    expect(Semver.isValid(text)).toBe(false);
  });

  it.each([
    { text: "v1.2", want: "1.2.0", reason: "leading v dropped, patch padded" },
    { text: "1", want: "1.0.0", reason: "minor and patch padded" },
    { text: "01.02.03", want: "1.2.3", reason: "leading zeros stripped" },
    { text: "v1.2-rc.1", want: "1.2.0-rc.1", reason: "pre-release kept" },
  ])("normalizes $text: $reason", ({ text, want }) => {
    expect(Semver.parseNormalized(text).compareTo(Semver.parse(want))).toBe(0);
    expect(Semver.isValid(text, true)).toBe(true);
  });
});

describe("Semver precedence", () => {
  // The ordering example of semver.org section 11, each strictly below the next.
  const ordered = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
    "580.95.5",
    "580.126.20",
  ];
  it.each(ordered.slice(1).map((b, i) => ({ a: ordered[i] as string, b })))("$a < $b", ({ a, b }) => {
    expect(Semver.parse(a).compareTo(Semver.parse(b))).toBe(-1);
    expect(Semver.parse(b).compareTo(Semver.parse(a))).toBe(1);
  });

  it("ignores build metadata", () => {
    expect(Semver.parse("1.0.0+a").compareTo(Semver.parse("1.0.0+b"))).toBe(0);
  });
});
