// Kubernetes resource.Quantity semantics for CEL (k8s.io/apimachinery/pkg/api/resource and
// k8s.io/apiserver/pkg/cel/library/quantity.go), exact: values are held as a bigint count of
// nano-units, because comparing `81559Mi` with `80Gi` in floating point is exactly the kind of
// thing that must not be approximately right.

import { memoizeParse } from "../common/memo.ts";

const NANO = 1_000_000_000n;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
// Exponents beyond this are refused: `1e100000000` would otherwise allocate a huge bigint.
// Kubernetes accepts them in principle; no device reports such a value.
const MAX_EXPONENT = 1000;

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX: Readonly<Record<string, bigint>> = {
  Ki: 10n,
  Mi: 20n,
  Gi: 30n,
  Ti: 40n,
  Pi: 50n,
  Ei: 60n,
};

// sign, integer digits, optional fraction, then the raw suffix (validated separately).
const NUMBER = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/;
const EXPONENT = /^[eE]([+-]?[0-9]+)$/;

export class QuantityParseError extends Error {}

/** A Kubernetes quantity, immutable. */
export class Quantity {
  /** The exact value times 10^9 (Kubernetes keeps nano precision and rounds finer values up). */
  readonly nanos: bigint;
  /** The text it was parsed from, for messages. */
  readonly text: string;

  constructor(nanos: bigint, text?: string) {
    this.nanos = nanos;
    this.text = text ?? formatNanos(nanos);
  }

  static parse(text: string): Quantity {
    return parseCached(text);
  }

  static isValid(text: string): boolean {
    try {
      parseQuantityNanos(text);
      return true;
    } catch {
      return false;
    }
  }

  static fromInteger(n: bigint): Quantity {
    return new Quantity(n * NANO);
  }

  compareTo(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos);
  }

  sign(): -1 | 0 | 1 {
    return this.nanos < 0n ? -1 : this.nanos > 0n ? 1 : 0;
  }

  /** True when the value is a whole number that fits int64 (Kubernetes' AsInt64 succeeds). */
  isInteger(): boolean {
    if (this.nanos % NANO !== 0n) return false;
    const v = this.nanos / NANO;
    return v >= INT64_MIN && v <= INT64_MAX;
  }

  /** The int64 value; undefined when it is fractional or out of range. */
  asInteger(): bigint | undefined {
    return this.isInteger() ? this.nanos / NANO : undefined;
  }

  asApproximateFloat(): number {
    const whole = this.nanos / NANO;
    const frac = this.nanos % NANO;
    return Number(whole) + Number(frac) / 1e9;
  }

  toString(): string {
    return this.text;
  }
}

const parseCached = memoizeParse((text: string) => new Quantity(parseQuantityNanos(text), text));

function parseQuantityNanos(text: string): bigint {
  if (text.length === 0) throw new QuantityParseError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  const m = NUMBER.exec(text);
  if (!m) throw new QuantityParseError(`invalid quantity ${JSON.stringify(text)}`);
  const [, sign = "", whole = "", fraction = "", suffix = ""] = m;
  if (whole.length === 0 && fraction.length === 0) {
    throw new QuantityParseError(`invalid quantity ${JSON.stringify(text)}: no digits`);
  }
  // The digits as an integer mantissa and a base-10 scale: 12.5 -> 125 x 10^-1.
  let mantissa = BigInt((whole || "0") + fraction);
  let exp10 = -fraction.length;
  let exp2 = 0n;
  let binary = false;

  if (suffix in BINARY_SUFFIX) {
    exp2 = BINARY_SUFFIX[suffix] ?? 0n;
    binary = true;
  } else if (suffix in DECIMAL_SUFFIX) {
    exp10 += DECIMAL_SUFFIX[suffix] ?? 0;
  } else {
    const e = EXPONENT.exec(suffix);
    if (!e) throw new QuantityParseError(`invalid quantity ${JSON.stringify(text)}: unknown suffix ${JSON.stringify(suffix)}`);
    const n = Number(e[1]);
    if (!Number.isSafeInteger(n) || Math.abs(n) > MAX_EXPONENT) {
      throw new QuantityParseError(`invalid quantity ${JSON.stringify(text)}: exponent out of range (|e| <= ${MAX_EXPONENT})`);
    }
    exp10 += n;
  }

  mantissa <<= exp2;
  // To nano-units: value x 10^9 = mantissa x 10^(exp10 + 9), rounded up (away from zero) when
  // finer than a nano, as Kubernetes does ("if you want some resources, you should get some").
  const shift = exp10 + 9;
  let nanos: bigint;
  if (shift >= 0) {
    nanos = mantissa * 10n ** BigInt(shift);
  } else {
    const div = 10n ** BigInt(-shift);
    nanos = mantissa / div + (mantissa % div === 0n ? 0n : 1n);
  }
  // Kubernetes caps binary-SI quantities at int64 max.
  if (binary && nanos > INT64_MAX * NANO) nanos = INT64_MAX * NANO;
  return sign === "-" ? -nanos : nanos;
}

function formatNanos(nanos: bigint): string {
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  const whole = abs / NANO;
  const frac = abs % NANO;
  const body = frac === 0n ? `${whole}` : `${whole}.${frac.toString().padStart(9, "0").replace(/0+$/, "")}`;
  return neg ? `-${body}` : body;
}
