import { describe, expect, it } from "vitest";
import { Quantity } from "./quantity.ts";

const NANO = 1_000_000_000n;

describe("Quantity.parse follows resource.ParseQuantity", () => {
  const cases: { text: string; nanos: bigint; reason: string }[] = [
    { text: "0", nanos: 0n, reason: "zero" },
    { text: "1", nanos: NANO, reason: "a plain integer" },
    { text: "+5", nanos: 5n * NANO, reason: "an explicit plus sign" },
    { text: "-5", nanos: -5n * NANO, reason: "a negative value" },
    { text: "1.5", nanos: 1_500_000_000n, reason: "a fraction" },
    { text: ".5", nanos: 500_000_000n, reason: "no integer digits" },
    { text: "1.G", nanos: NANO * NANO, reason: "a trailing dot, which Kubernetes accepts" },
    { text: "100m", nanos: 100_000_000n, reason: "milli" },
    { text: "5u", nanos: 5000n, reason: "micro (accepted by the parser though undocumented)" },
    { text: "7n", nanos: 7n, reason: "nano" },
    { text: "1k", nanos: 1000n * NANO, reason: "decimal kilo is lowercase k" },
    { text: "80G", nanos: 80n * 10n ** 9n * NANO, reason: "decimal giga" },
    { text: "2E", nanos: 2n * 10n ** 18n * NANO, reason: "a bare E is exa, not an exponent" },
    { text: "1Ki", nanos: 1024n * NANO, reason: "binary kibi" },
    { text: "81559Mi", nanos: 81559n * 2n ** 20n * NANO, reason: "what an H100 80GB reports" },
    { text: "80Gi", nanos: 80n * 2n ** 30n * NANO, reason: "binary gibi" },
    { text: "1.5Gi", nanos: 1_610_612_736n * NANO, reason: "a binary fraction stays exact" },
    { text: "1Ti", nanos: 2n ** 40n * NANO, reason: "tebi" },
    { text: "1Pi", nanos: 2n ** 50n * NANO, reason: "pebi" },
    { text: "1Ei", nanos: 2n ** 60n * NANO, reason: "exbi" },
    { text: "16Ei", nanos: ((1n << 63n) - 1n) * NANO, reason: "binary quantities are capped at int64 max" },
    { text: "1e3", nanos: 1000n * NANO, reason: "a lowercase exponent" },
    { text: "1E3", nanos: 1000n * NANO, reason: "an uppercase exponent" },
    { text: "1.5e-3", nanos: 1_500_000n, reason: "a negative exponent" },
    { text: "1E+3", nanos: 1000n * NANO, reason: "an exponent with a plus sign" },
    { text: "0.0000000001", nanos: 1n, reason: "finer than a nano rounds up to 1n" },
    { text: "-0.0000000001", nanos: -1n, reason: "rounding is away from zero for negatives too" },
    { text: "1.0000000001", nanos: NANO + 1n, reason: "rounding up keeps the integer part" },
  ];
  it.each(cases)("$text: $reason", ({ text, nanos }) => {
    expect(Quantity.parse(text).nanos).toBe(nanos);
    expect(Quantity.isValid(text)).toBe(true);
  });

  const invalid: { text: string; reason: string }[] = [
    { text: "", reason: "empty" },
    { text: "Gi", reason: "no digits" },
    { text: ".", reason: "a dot alone" },
    { text: "1K", reason: "uppercase K is not a suffix" },
    { text: "1ki", reason: "binary suffixes are Ki, not ki" },
    { text: "1 Gi", reason: "no spaces" },
    { text: "1Gi ", reason: "no trailing space" },
    { text: "1e", reason: "an exponent needs digits" },
    { text: "1e1.5", reason: "exponents are integers" },
    { text: "1.2.3", reason: "one decimal point" },
    { text: "0x10", reason: "no hexadecimal" },
    { text: "1e100000000", reason: "absurd exponents are refused instead of allocating" },
  ];
  it.each(invalid)("refuses $text: $reason", ({ text }) => {
    expect(() => Quantity.parse(text)).toThrow();
    expect(Quantity.isValid(text)).toBe(false);
  });
});

describe("Quantity comparison is exact", () => {
  const cases: { a: string; b: string; cmp: -1 | 0 | 1; reason: string }[] = [
    { a: "81559Mi", b: "80Gi", cmp: -1, reason: "the H100 trap: 81559Mi is less than 80Gi (81920Mi)" },
    { a: "81559Mi", b: "80G", cmp: 1, reason: "but more than 80G (80e9 bytes)" },
    { a: "1Gi", b: "1024Mi", cmp: 0, reason: "equal values in different units" },
    { a: "1k", b: "1000", cmp: 0, reason: "decimal suffix equals the plain number" },
    { a: "1Ki", b: "1k", cmp: 1, reason: "1024 > 1000" },
    { a: "999m", b: "1", cmp: -1, reason: "milli below one" },
    { a: "-1", b: "0", cmp: -1, reason: "negative below zero" },
    { a: "9007199254740993", b: "9007199254740992", cmp: 1, reason: "beyond 2^53, where floats would call them equal" },
    { a: "1E", b: "1Ei", cmp: -1, reason: "exa below exbi" },
  ];
  it.each(cases)("$a vs $b: $reason", ({ a, b, cmp }) => {
    expect(Quantity.parse(a).compareTo(Quantity.parse(b))).toBe(cmp);
    expect(Quantity.parse(b).compareTo(Quantity.parse(a))).toBe(cmp === 0 ? 0 : -cmp);
  });
});

describe("Quantity methods as in the Kubernetes CEL library", () => {
  it.each([
    { text: "1Gi", int: 1073741824n, reason: "an integral quantity converts" },
    { text: "1500m", int: undefined, reason: "a fractional one does not" },
    { text: "10E", int: undefined, reason: "one beyond int64 does not" },
    { text: "-3", int: -3n, reason: "negative integers convert" },
  ])("asInteger($text): $reason", ({ text, int }) => {
    const q = Quantity.parse(text);
    expect(q.asInteger()).toBe(int);
    expect(q.isInteger()).toBe(int !== undefined);
  });

  it("adds and subtracts exactly, including integers", () => {
    expect(Quantity.parse("1Gi").add(Quantity.parse("512Mi")).compareTo(Quantity.parse("1.5Gi"))).toBe(0);
    expect(Quantity.parse("1").sub(Quantity.parse("1m")).nanos).toBe(999_000_000n);
    expect(Quantity.parse("1k").add(Quantity.fromInteger(24n)).asInteger()).toBe(1024n);
  });

  it("reports the sign", () => {
    expect([Quantity.parse("-1m").sign(), Quantity.parse("0").sign(), Quantity.parse("1Ki").sign()]).toEqual([-1, 0, 1]);
  });

  it("approximates as a float", () => {
    expect(Quantity.parse("1.5Gi").asApproximateFloat()).toBe(1610612736);
    expect(Quantity.parse("250m").asApproximateFloat()).toBeCloseTo(0.25, 12);
  });
});
