// The runtime budget of a selector, counted while it runs. The static estimate (cost.ts) refuses what
// it can see is too expensive; this meter stops what it cannot (a `dyn` hiding a size, a string grown
// by concatenation), the way Kubernetes' runtime cost tracking does. Every evaluation step costs 1,
// and every value a step yields costs 0.1 per character or element, so work proportional to the size
// of values (concatenation, comparison, join, replace) is paid for; no step may yield a string or
// collection above the caps in RUNTIME_LIMITS, so no single step is unbounded either. The count is
// deterministic: the same expression on the same cluster stops at the same place on any machine.
// A wall-clock deadline backs it up in case a step is ever mispriced.
//
// cel-js has no cost tracking of its own. Every child node it evaluates goes through its evaluator's
// `run` (the method its macro API documents), so the meter wraps that method on this environment's
// evaluator. The meter is synchronous and not re-entrant, like evaluation itself.

import type { Environment } from "@marcbachmann/cel-js";
import { RUNTIME_LIMITS } from "./limits.ts";

/** Why an evaluation was stopped. */
export type Exhausted =
  { kind: "cost"; used: number; limit: number } | { kind: "size"; what: "string" | "value"; size: number; limit: number } | { kind: "time"; ms: number };

class Meter {
  used = 0;
  steps = 0;
  exhausted: Exhausted | undefined;
  readonly limit: number;
  readonly deadline: number;
  constructor(limit: number, deadline: number) {
    this.limit = limit;
    this.deadline = deadline;
  }
}

/** Thrown inside evaluation; what it carries is read from the meter, not from the error. */
class BudgetError extends Error {}

let active: Meter | undefined;

/**
 * Marks the collections that belong to a cluster's input: charged by their length only (see sizeOf).
 * A symbol-keyed property rather than a WeakSet: a fleet's first pass marks millions of them, and
 * WeakSet insertion (with the ephemeron work it leaves the collector) was a fifth of it. A symbol is
 * invisible to CEL, JSON and every key enumeration, and no value built during evaluation carries it
 * (copies of lists and maps never copy symbol properties).
 */
const INPUT: unique symbol = Symbol("cel input");
type Marked = { [INPUT]?: true };

/** Mark a list or map of a cluster's CEL value as input (bounded by the declared maxima). */
export function markInput(o: object): void {
  (o as Marked)[INPUT] = true;
}

/**
 * Deep sizes of values built during evaluation, with the length they had when measured: a
 * comprehension's accumulator starts as an empty list literal and grows by push, so an entry is only
 * good while the length is unchanged (values are never changed otherwise).
 */
const sizes = new WeakMap<object, { size: number; length: number }>();

function sizeOf(v: unknown): number {
  if (typeof v === "string") return v.length;
  if (typeof v !== "object" || v === null) return 0;
  const isList = Array.isArray(v);
  const isMap = v instanceof Map;
  const isRecord = !isList && !isMap && Object.getPrototypeOf(v) === Object.prototype;
  if (!isList && !isMap && !isRecord) return 0; // a registered type: Device, Quantity, IP, ...
  // A cluster's own lists and maps are bounded by the declared maxima: their length is the price.
  if ((v as Marked)[INPUT] === true) return isList ? (v as unknown[]).length : isMap ? (v as Map<unknown, unknown>).size : 0;
  const length = isList ? (v as unknown[]).length : isMap ? (v as Map<unknown, unknown>).size : -1;
  const known = sizes.get(v);
  if (known !== undefined && known.length === length) return known.size;
  let n = 0;
  if (isList) for (const x of v as unknown[]) n += 1 + sizeOf(x);
  else if (isMap) for (const [k, x] of v as Map<unknown, unknown>) n += 1 + sizeOf(k) + sizeOf(x);
  else for (const [k, x] of Object.entries(v)) n += 1 + k.length + sizeOf(x);
  sizes.set(v, { size: n, length });
  return n;
}

function stop(m: Meter, why: Exhausted): never {
  m.exhausted ??= why;
  throw new BudgetError("selector budget exhausted");
}

/** Charge work a library function does beyond the values it yields (a regex scan, a format). */
export function charge(units: number): void {
  const m = active;
  if (m === undefined) return;
  m.used += units;
  if (m.used > m.limit) stop(m, { kind: "cost", used: m.used, limit: m.limit });
}

/** Refuse to build a string or collection above the caps before building it (replace, format). */
export function checkSize(what: "string" | "value", size: number): void {
  const m = active;
  if (m === undefined) return;
  const limit = what === "string" ? RUNTIME_LIMITS.maxStringLength : RUNTIME_LIMITS.maxValueSize;
  if (size > limit) stop(m, { kind: "size", what, size, limit });
}

/** The cel-js evaluator and AST node, as far as the meter needs them. */
interface Evaluator {
  run(ast: Node, ctx: unknown): unknown;
}
interface Node {
  evaluate(ev: Evaluator, ast: Node, ctx: unknown): unknown;
}

/** A comprehension's iteration context: the accumulator it is building. */
interface IterationContext {
  accuValue?: unknown;
}

function meteredRun(this: Evaluator, ast: Node, ctx: unknown): unknown {
  const m = active;
  if (m === undefined) return ast.evaluate(this, ast, ctx);
  // Once over, every further step fails too, so no `||` or `exists` can absorb the stop.
  if (m.exhausted !== undefined) throw new BudgetError("selector budget exhausted");
  if ((++m.steps & 1023) === 0) {
    const now = performance.now();
    if (now > m.deadline) stop(m, { kind: "time", ms: RUNTIME_LIMITS.deadlineMs });
  }
  const v = ast.evaluate(this, ast, ctx);
  let units = 1;
  if (typeof v === "string") {
    if (v.length > RUNTIME_LIMITS.maxStringLength) stop(m, { kind: "size", what: "string", size: v.length, limit: RUNTIME_LIMITS.maxStringLength });
    units += 0.1 * v.length;
  } else if (typeof v === "object" && v !== null && v !== (ctx as IterationContext | undefined)?.accuValue) {
    // Every step of a comprehension yields the accumulator it is building (filter, map); it is
    // charged once, when the comprehension yields it, not on every iteration (that would be quadratic).
    const size = sizeOf(v);
    if (size > RUNTIME_LIMITS.maxValueSize) stop(m, { kind: "size", what: "value", size, limit: RUNTIME_LIMITS.maxValueSize });
    units += 0.1 * size;
  }
  m.used += units;
  if (m.used > m.limit) stop(m, { kind: "cost", used: m.used, limit: m.limit });
  return v;
}

const PROBE = "celEvaluatorProbe";

/**
 * Wrap the `run` of `env`'s evaluator with the meter. cel-js hands its evaluator to function
 * handlers as `this`; a probe function registered for this purpose catches it once.
 */
export function installMeter(env: Environment): void {
  let evaluator: Evaluator | undefined;
  const capture = (ev: Evaluator): boolean => {
    evaluator = ev;
    return true;
  };
  env.registerFunction(`${PROBE}(): bool`, function (this: Evaluator) {
    return capture(this);
  });
  env.parse(`${PROBE}()`)({});
  if (evaluator === undefined || typeof evaluator.run !== "function") {
    throw new Error("cel-js evaluator not found: the runtime meter cannot be installed (a cel-js upgrade changed its internals)");
  }
  evaluator.run = meteredRun;
}

export type Metered<T> = { ok: true; value: T; cost: number } | { ok: false; error: unknown; cost: number; exhausted?: Exhausted };

/** Run `fn` with a meter of `limit` cost units; any stop is reported, never thrown. */
export function metered<T>(limit: number, fn: () => T): Metered<T> {
  const m = new Meter(limit, performance.now() + RUNTIME_LIMITS.deadlineMs);
  const outer = active;
  active = m;
  try {
    const value = fn();
    if (m.exhausted !== undefined) return { ok: false, error: undefined, cost: m.used, exhausted: m.exhausted };
    return { ok: true, value, cost: m.used };
  } catch (error) {
    return m.exhausted !== undefined ? { ok: false, error, cost: m.used, exhausted: m.exhausted } : { ok: false, error, cost: m.used };
  } finally {
    active = outer;
  }
}
