// Kubernetes' lists library (k8s.io/apiserver/pkg/cel/library/lists.go): isSorted, sum, min, max
// over lists of one comparable type. Comparison is CEL's: strings by code point (as Go compares
// UTF-8 bytes), bools false < true; int sums are checked for int64 overflow like cel-go's.

import { charge } from "../meter.ts";
import { evalError } from "./eval-error.ts";
import { UnsignedInt } from "./uint.ts";

export type Comparable = bigint | number | string | boolean | UnsignedInt;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** Code point order; JavaScript's `<` compares UTF-16 units, which puts U+10000.. before U+E000..U+FFFF. */
function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function compare(a: Comparable, b: Comparable): number {
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  const x = a instanceof UnsignedInt ? a.valueOf() : a;
  const y = b instanceof UnsignedInt ? b.valueOf() : b;
  if (typeof x === "boolean" && typeof y === "boolean") return x === y ? 0 : x ? 1 : -1;
  if (typeof x === "number" && typeof y === "number" && (Number.isNaN(x) || Number.isNaN(y))) {
    throw evalError("NaN values cannot be ordered");
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isSorted(list: readonly Comparable[]): boolean {
  charge(0.1 * list.length);
  for (let i = 1; i < list.length; i++) if (compare(list[i - 1] as Comparable, list[i] as Comparable) > 0) return false;
  return true;
}

function extreme(name: "min" | "max", list: readonly Comparable[]): Comparable {
  charge(0.1 * list.length);
  let best = list[0];
  if (best === undefined) throw evalError(`${name} called on empty list`);
  for (const v of list) if (name === "min" ? compare(v, best) < 0 : compare(v, best) > 0) best = v;
  return best;
}

export const min = (list: readonly Comparable[]): Comparable => extreme("min", list);
export const max = (list: readonly Comparable[]): Comparable => extreme("max", list);

export function sumInt(list: readonly bigint[]): bigint {
  charge(0.1 * list.length);
  let s = 0n;
  for (const v of list) {
    s += v;
    if (s < INT64_MIN || s > INT64_MAX) throw evalError("integer overflow");
  }
  return s;
}

export function sumUint(list: readonly UnsignedInt[]): UnsignedInt {
  charge(0.1 * list.length);
  let s = 0n;
  for (const v of list) {
    s += v.valueOf();
    if (s > UINT64_MAX) throw evalError("unsigned integer overflow");
  }
  return new UnsignedInt(s);
}

export function sumDouble(list: readonly number[]): number {
  charge(0.1 * list.length);
  let s = 0;
  for (const v of list) s += v;
  return s;
}
