// Semantic versions as Kubernetes' CEL semver library sees them (k8s.io/apiserver/pkg/cel/library/semverlib.go,
// built on github.com/blang/semver/v4): strict SemVer 2.0.0 parsing, precedence per the spec
// (build metadata ignored), and an optional "normalize" mode that accepts `v1.2` style input.

import { memoizeParse } from "../common/memo.ts";

const NUMERIC = /^(0|[1-9][0-9]*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;

export class SemverParseError extends Error {}

export class Semver {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  /** Pre-release identifiers; numeric ones as bigint so they compare numerically. */
  readonly pre: readonly (string | bigint)[];
  readonly build: readonly string[];
  readonly text: string;

  constructor(major: bigint, minor: bigint, patch: bigint, pre: readonly (string | bigint)[], build: readonly string[], text: string) {
    this.major = major;
    this.minor = minor;
    this.patch = patch;
    this.pre = pre;
    this.build = build;
    this.text = text;
  }

  /** Strict SemVer 2.0.0 (what DRA `version` attributes must be). */
  static parse(text: string): Semver {
    return parseCached(text);
  }

  static parseUncached(text: string): Semver {
    const plus = text.indexOf("+");
    const build = plus >= 0 ? text.slice(plus + 1).split(".") : [];
    const noBuild = plus >= 0 ? text.slice(0, plus) : text;
    const dash = noBuild.indexOf("-");
    const preText = dash >= 0 ? noBuild.slice(dash + 1) : undefined;
    const core = dash >= 0 ? noBuild.slice(0, dash) : noBuild;

    const parts = core.split(".");
    if (parts.length !== 3) throw new SemverParseError(`invalid semver ${JSON.stringify(text)}: need major.minor.patch`);
    const nums = parts.map((p) => {
      if (!NUMERIC.test(p)) throw new SemverParseError(`invalid semver ${JSON.stringify(text)}: ${JSON.stringify(p)} is not a number without leading zeros`);
      return BigInt(p);
    });
    const pre =
      preText === undefined
        ? []
        : preText.split(".").map((id) => {
            if (!IDENT.test(id)) throw new SemverParseError(`invalid semver ${JSON.stringify(text)}: bad pre-release identifier ${JSON.stringify(id)}`);
            if (/^[0-9]+$/.test(id)) {
              if (!NUMERIC.test(id)) throw new SemverParseError(`invalid semver ${JSON.stringify(text)}: pre-release number with leading zero`);
              return BigInt(id);
            }
            return id;
          });
    for (const id of build) {
      if (!IDENT.test(id)) throw new SemverParseError(`invalid semver ${JSON.stringify(text)}: bad build identifier ${JSON.stringify(id)}`);
    }
    return new Semver(nums[0] ?? 0n, nums[1] ?? 0n, nums[2] ?? 0n, pre, build, text);
  }

  /**
   * Kubernetes' `semver(s, true)`: drop a leading "v", pad a missing minor/patch with 0 and strip
   * leading zeros from the core numbers before the strict parse.
   */
  static parseNormalized(text: string): Semver {
    let s = text.startsWith("v") ? text.slice(1) : text;
    const cut = s.search(/[-+]/);
    const core = cut >= 0 ? s.slice(0, cut) : s;
    const rest = cut >= 0 ? s.slice(cut) : "";
    const parts = core.split(".");
    if (parts.length > 3) throw new SemverParseError(`invalid semver ${JSON.stringify(text)}: too many components`);
    while (parts.length < 3) parts.push("0");
    s = parts.map((p) => (/^[0-9]+$/.test(p) ? p.replace(/^0+(?=[0-9])/, "") : p)).join(".") + rest;
    const v = Semver.parse(s);
    return new Semver(v.major, v.minor, v.patch, v.pre, v.build, text);
  }

  static isValid(text: string, normalize = false): boolean {
    try {
      if (normalize) Semver.parseNormalized(text);
      else Semver.parse(text);
      return true;
    } catch {
      return false;
    }
  }

  compareTo(o: Semver): -1 | 0 | 1 {
    const c = cmp(this.major, o.major) || cmp(this.minor, o.minor) || cmp(this.patch, o.patch);
    if (c !== 0) return c;
    // A version without pre-release ranks above the same version with one.
    if (this.pre.length === 0 || o.pre.length === 0) return cmp(o.pre.length, this.pre.length);
    for (let i = 0; i < Math.min(this.pre.length, o.pre.length); i++) {
      const a = this.pre[i] as string | bigint;
      const b = o.pre[i] as string | bigint;
      if (typeof a === typeof b) {
        const r = cmp(a, b);
        if (r !== 0) return r;
      } else {
        // Numeric identifiers rank below alphanumeric ones.
        return typeof a === "bigint" ? -1 : 1;
      }
    }
    return cmp(this.pre.length, o.pre.length);
  }

  toString(): string {
    return this.text;
  }
}

const parseCached = memoizeParse((text: string) => Semver.parseUncached(text));

function cmp<T extends bigint | number | string>(a: T, b: T): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}
