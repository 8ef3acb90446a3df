// cel-go's extended strings library as Kubernetes enables it (ext.Strings, version 2): the functions
// cel-js lacks, `charAt`, `replace`, `format` and `strings.quote`. Indexes count Unicode code points,
// as in cel-go. Every result is sized before it is built, so no call can allocate past the meter's
// caps (`"A".replace("", "AAAAAAAAAA")` chained grows tenfold per call).

import { charge, checkSize } from "../meter.ts";
import { evalError } from "./eval-error.ts";
import { UnsignedInt } from "./uint.ts";

const codePoints = (s: string): string[] => Array.from(s);

/** `s.charAt(i)`: the code point at i, "" at the end, an error beyond it. */
export function charAt(s: string, i: bigint): string {
  const cps = codePoints(s);
  if (i < 0n || i > BigInt(cps.length)) throw evalError(`index out of range: ${i}`);
  return cps[Number(i)] ?? "";
}

/** `s.replace(old, new[, n])`: Go's strings.Replace; n < 0 replaces every occurrence. */
export function replace(s: string, from: string, to: string, n: bigint = -1n): string {
  const limit = n < 0n ? Infinity : Number(n);
  if (limit === 0) return s;
  if (from === "") {
    // Go inserts `to` before every code point and at the end.
    const cps = codePoints(s);
    const count = Math.min(limit, cps.length + 1);
    checkSize("string", s.length + count * to.length);
    let out = "";
    for (let k = 0; k < cps.length; k++) out += (k < count ? to : "") + cps[k];
    if (count > cps.length) out += to;
    charge(0.1 * out.length);
    return out;
  }
  let count = 0;
  for (let at = s.indexOf(from); at >= 0 && count < limit; at = s.indexOf(from, at + from.length)) count++;
  checkSize("string", s.length + count * (to.length - from.length));
  let out = "";
  let last = 0;
  for (let k = 0; k < count; k++) {
    const at = s.indexOf(from, last);
    out += s.slice(last, at) + to;
    last = at + from.length;
  }
  out += s.slice(last);
  charge(0.1 * (s.length + out.length));
  return out;
}

const QUOTE_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};

/** `strings.quote(s)`: a double-quoted CEL string literal of s (cel-go's escapes; the rest verbatim). */
export function quote(s: string): string {
  checkSize("string", 2 * s.length + 2);
  let out = '"';
  for (const c of s) out += QUOTE_ESCAPES[c] ?? (c.length === 1 && c >= "\ud800" && c <= "\udfff" ? "\ufffd" : c);
  return out + '"';
}

type Arg = unknown;

function isInt(v: Arg): v is bigint {
  return typeof v === "bigint";
}

function integer(v: Arg, clause: string): bigint {
  if (isInt(v)) return v;
  if (v instanceof UnsignedInt) return v.valueOf();
  throw evalError(`error during formatting: ${clause} is only allowed for int and uint, not ${typeName(v)}`);
}

function typeName(v: Arg): string {
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "double";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "bool";
  if (v === null) return "null_type";
  if (v instanceof UnsignedInt) return "uint";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return "list";
  return "map";
}

/** Go's %g-like shortest form for a double, as cel-go's %s prints it ("2e-09", "2.71"). */
function goDouble(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "+Inf" : "-Inf";
  const s = String(x);
  // JavaScript writes exponents without padding (2e-9); Go pads to two digits (2e-09).
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

function asString(v: Arg): string {
  if (typeof v === "string") return v;
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof UnsignedInt) return String(v.valueOf());
  if (typeof v === "number") return goDouble(v);
  if (v === null) return "null";
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === "string" ? JSON.stringify(x) : asString(x))).join(", ")}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${asString(k)}: ${asString(x)}`).join(", ")}}`;
  throw evalError(`error during formatting: %s cannot format a ${typeName(v)}`);
}

function fixed(v: Arg, precision: number): string {
  const x = typeof v === "number" ? v : isInt(v) ? Number(v) : v instanceof UnsignedInt ? Number(v.valueOf()) : undefined;
  if (x === undefined) throw evalError(`error during formatting: fixed-point clause can only be used on doubles, ints and uints, not ${typeName(v)}`);
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return x.toFixed(precision);
}

function scientific(v: Arg, precision: number): string {
  const x = typeof v === "number" ? v : isInt(v) ? Number(v) : v instanceof UnsignedInt ? Number(v.valueOf()) : undefined;
  if (x === undefined) throw evalError(`error during formatting: scientific clause can only be used on doubles, ints and uints, not ${typeName(v)}`);
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return x.toExponential(precision).replace(/e([+-])(\d)$/, "e$10$2");
}

function radix(v: Arg, base: number, upper: boolean, clause: string): string {
  let out: string;
  if (typeof v === "string" || v instanceof Uint8Array) {
    if (base !== 16) throw evalError(`error during formatting: ${clause} is only allowed for int, uint and bool, not ${typeName(v)}`);
    const bytes = typeof v === "string" ? new TextEncoder().encode(v) : v;
    out = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  } else if (typeof v === "boolean" && base === 2) out = v ? "1" : "0";
  else {
    const n = integer(v, clause);
    out = n < 0n ? `-${(-n).toString(base)}` : n.toString(base);
  }
  return upper ? out.toUpperCase() : out;
}

const MAX_PRECISION = 100;

/** `fmt.format(args)`: cel-go's clauses %s %d %f %e %b %o %x %X and %%, with .N precision on %f and %e. */
export function format(fmt: string, args: readonly Arg[]): string {
  let out = "";
  let next = 0;
  const arg = (): Arg => {
    if (next >= args.length) throw evalError(`error during formatting: index ${next} out of range`);
    return args[next++];
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c !== "%") {
      out += c;
      continue;
    }
    i++;
    if (fmt[i] === "%") {
      out += "%";
      continue;
    }
    let precision: number | undefined;
    if (fmt[i] === ".") {
      const m = /^\.(\d+)/.exec(fmt.slice(i));
      if (!m?.[1]) throw evalError(`error during formatting: unable to find an integer precision after "." at ${i}`);
      precision = Number(m[1]);
      if (precision > MAX_PRECISION) throw evalError(`error during formatting: precision ${precision} is above the ${MAX_PRECISION} allowed`);
      i += m[0].length;
    }
    const clause = fmt[i];
    if (precision !== undefined && clause !== "f" && clause !== "e")
      throw evalError(`error during formatting: precision is only allowed on %f and %e, not %${clause ?? ""}`);
    switch (clause) {
      case "s":
        out += asString(arg());
        break;
      case "d":
        out += String(integer(arg(), "decimal clause"));
        break;
      case "f":
        out += fixed(arg(), precision ?? 6);
        break;
      case "e":
        out += scientific(arg(), precision ?? 6);
        break;
      case "b":
        out += radix(arg(), 2, false, "binary clause");
        break;
      case "o":
        out += radix(arg(), 8, false, "octal clause");
        break;
      case "x":
      case "X":
        out += radix(arg(), 16, clause === "X", "hexadecimal clause");
        break;
      default:
        throw evalError(`error during formatting: unrecognized formatting clause "${clause ?? ""}"`);
    }
    checkSize("string", out.length);
  }
  charge(0.1 * out.length);
  return out;
}
