// A static cost estimate for a selector, in the spirit of cel-go's checker/cost.go as Kubernetes
// uses it: every evaluation step costs about 1, string and list operations cost in proportion to
// the sizes they touch, and a comprehension costs its range times its body. Sizes come from the
// declared maxima in limits.ts (inputs above them are refused), so the estimate is an upper bound
// on the work one cluster evaluation can do. It runs over the parsed (unexpanded) AST of
// @marcbachmann/cel-js after type checking has succeeded.

import { CLUSTER_LIMITS as L } from "./limits.ts";

/** The part of the cel-js AST node the estimator reads. */
export interface AstNode {
  readonly op: string;
  readonly args: unknown;
  readonly pos: number;
}

/** What a sub-expression may evaluate to, with the largest size it can have. */
type Shape =
  | { k: "cluster" }
  /** share: when iterating the cluster's own pools, how many pools the loop visits (see devices). */
  | { k: "pool"; share?: number }
  | { k: "device" }
  /**
   * poolsOfCluster: the list holds distinct pools of the cluster (so the share rule applies).
   * full: the list is a shared pool's devices; full is its size without the share.
   */
  | { k: "list"; size: number; elem: Shape; poolsOfCluster?: boolean; full?: number }
  | { k: "map"; size: number; key: Shape; val: Shape }
  | { k: "string"; size: number }
  /** A DRA attribute value: int, bool, Semver or a string of at most 64 characters. */
  | { k: "attr" }
  | { k: "optional"; val: Shape }
  | { k: "scalar" }
  /**
   * Anything: sized at the largest collection the environment holds, or at `size` when it was built
   * by concatenating unknowns (a `dyn` must not hide that a value doubles).
   */
  | { k: "unknown"; size?: number };

const SCALAR: Shape = { k: "scalar" };
const UNKNOWN: Shape = { k: "unknown" };
const MAX_ANY = Math.max(L.maxDevicesPerCluster, L.maxPools, L.maxLabels);
const nameShape: Shape = { k: "string", size: L.maxNameLength };

export interface CostEstimate {
  cost: number;
  /**
   * Offset of the innermost comprehension whose own estimate exceeds the budget passed to
   * estimateCost: the place to point at when the expression is refused.
   */
  culprit?: number;
}

/** Per-estimate state: the budget and the first comprehension found over it. */
interface Ctx {
  budget: number;
  culprit?: number;
}
let ctx: Ctx = { budget: Infinity };

export class CostError extends Error {
  readonly pos: number | undefined;
  constructor(message: string, pos?: number) {
    super(message);
    this.pos = pos;
  }
}

interface Est {
  cost: number;
  shape: Shape;
}

type Scope = ReadonlyMap<string, Shape>;

/**
 * Estimate the worst-case cost of evaluating `ast` against one cluster. `variable` names the root
 * (`cluster`, or `node` for node selectors: a node has the same shape, within the same maxima).
 */
export function estimateCost(ast: AstNode, budget = Infinity, variable = "cluster"): CostEstimate {
  const root: Scope = new Map([[variable, { k: "cluster" } as Shape]]);
  // Estimation is synchronous and not re-entrant, so a module-level context is safe.
  ctx = { budget };
  try {
    const cost = est(ast, root).cost;
    return ctx.culprit === undefined ? { cost } : { cost, culprit: ctx.culprit };
  } finally {
    ctx = { budget: Infinity };
  }
}

function size(s: Shape): number {
  switch (s.k) {
    case "list":
    case "map":
    case "string":
      return s.size;
    case "attr":
      return L.maxAttributeStringLength;
    case "optional":
      return size(s.val);
    case "unknown":
      return s.size ?? MAX_ANY;
    default:
      return 1;
  }
}

/** Linear cost of touching a string or list of this shape, as cel-go charges (0.1 per character). */
const strCost = (s: Shape): number => Math.ceil(0.1 * size(s));

function join(a: Shape, b: Shape): Shape {
  if (a.k !== b.k) {
    // An attribute value joined with a literal default (`.?x.orValue("")`) is still small.
    const [x, y] = a.k === "attr" ? [a, b] : [b, a];
    if (x.k === "attr" && y.k === "scalar") return x;
    if (x.k === "attr" && y.k === "string") return y.size <= L.maxAttributeStringLength ? x : y;
    return UNKNOWN;
  }
  switch (a.k) {
    case "list": {
      const bl = b as typeof a;
      const full = a.full !== undefined || bl.full !== undefined ? Math.max(a.full ?? a.size, bl.full ?? bl.size) : undefined;
      return { k: "list", size: Math.max(a.size, bl.size), elem: join(a.elem, bl.elem), ...(full !== undefined ? { full } : {}) };
    }
    case "map": {
      const bm = b as typeof a;
      return { k: "map", size: Math.max(a.size, bm.size), key: join(a.key, bm.key), val: join(a.val, bm.val) };
    }
    case "string":
      return { k: "string", size: Math.max(a.size, (b as typeof a).size) };
    case "optional":
      return { k: "optional", val: join(a.val, (b as typeof a).val) };
    case "pool":
      return { k: "pool" };
    default:
      return a;
  }
}

function field(s: Shape, name: string): Shape {
  switch (s.k) {
    case "cluster":
      switch (name) {
        case "name":
          return nameShape;
        case "labels":
          return { k: "map", size: L.maxLabels, key: { k: "string", size: L.maxLabelKeyLength }, val: { k: "string", size: L.maxLabelValueLength } };
        case "pools":
          return { k: "list", size: L.maxPools, elem: { k: "pool" }, poolsOfCluster: true };
        case "devices":
          return { k: "list", size: L.maxDevicesPerCluster, elem: { k: "device" } };
      }
      return UNKNOWN;
    case "pool":
      if (name === "devices") {
        // The pools of one cluster hold at most maxDevicesPerCluster devices between them, so a loop
        // over n of them visits at most that many devices in total: charge each its share.
        const perPool = s.share ? Math.min(L.maxDevicesPerPool, Math.ceil(L.maxDevicesPerCluster / s.share)) : L.maxDevicesPerPool;
        return s.share ? { k: "list", size: perPool, elem: { k: "device" }, full: L.maxDevicesPerPool } : { k: "list", size: perPool, elem: { k: "device" } };
      }
      return nameShape;
    case "device": {
      const domains = (v: Shape): Shape => ({
        k: "map",
        size: L.maxAttributesPerDevice,
        key: { k: "string", size: L.maxLabelKeyLength },
        val: { k: "map", size: L.maxAttributesPerDevice, key: { k: "string", size: L.maxLabelKeyLength }, val: v },
      });
      if (name === "attributes") return domains({ k: "attr" });
      if (name === "capacity") return domains(SCALAR);
      return nameShape;
    }
    case "map":
      return s.val;
    case "optional":
      return { k: "optional", val: field(s.val, name) };
    case "attr":
    case "scalar":
      return SCALAR;
    default:
      return UNKNOWN;
  }
}

function index(s: Shape): Shape {
  switch (s.k) {
    case "list":
      return s.elem;
    case "map":
      return s.val;
    case "optional":
      return { k: "optional", val: index(s.val) };
    case "attr":
    case "scalar":
      return SCALAR;
    default:
      return UNKNOWN;
  }
}

const unwrap = (s: Shape): Shape => (s.k === "optional" ? s.val : s);

/**
 * The share rule holds for work linear in a pool's devices within one iteration over the pools.
 * Work that multiplies two such sizes (a nested loop, sets.* of two lists), or a pool that escapes
 * its iteration, must use the full per-pool maxima: this removes the share.
 */
function unshare(s: Shape): Shape {
  switch (s.k) {
    case "pool":
      return { k: "pool" };
    case "list":
      return { k: "list", size: s.full ?? s.size, elem: unshare(s.elem), ...(s.poolsOfCluster ? { poolsOfCluster: true } : {}) };
    case "map":
      return { k: "map", size: s.size, key: s.key, val: unshare(s.val) };
    case "optional":
      return { k: "optional", val: unshare(s.val) };
    default:
      return s;
  }
}

function nodes(v: unknown): AstNode[] {
  return Array.isArray(v) ? (v as AstNode[]) : [];
}

function identName(n: AstNode | undefined): string | undefined {
  return n && n.op === "id" && typeof n.args === "string" ? n.args : undefined;
}

function est(n: AstNode, scope: Scope): Est {
  switch (n.op) {
    case "value": {
      const v = n.args;
      return { cost: 0, shape: typeof v === "string" ? { k: "string", size: v.length } : SCALAR };
    }
    case "id": {
      const name = n.args as string;
      return { cost: 1, shape: scope.get(name) ?? UNKNOWN };
    }
    case ".":
    case ".?": {
      const [left, name] = n.args as [AstNode, string];
      const l = est(left, scope);
      const f = field(unwrap(l.shape), name);
      return { cost: l.cost + 1, shape: n.op === ".?" || l.shape.k === "optional" ? { k: "optional", val: unwrap(f) } : f };
    }
    case "[]":
    case "[?]": {
      const [left, key] = n.args as [AstNode, AstNode];
      const l = est(left, scope);
      const k = est(key, scope);
      const v = index(unwrap(l.shape));
      return { cost: l.cost + k.cost + 1, shape: n.op === "[?]" || l.shape.k === "optional" ? { k: "optional", val: unwrap(v) } : v };
    }
    case "list": {
      const items = nodes(n.args).map((a) => est(a, scope));
      const elem = items.reduce<Shape | undefined>((acc, i) => (acc ? join(acc, i.shape) : i.shape), undefined) ?? SCALAR;
      return { cost: 10 + sum(items), shape: { k: "list", size: items.length, elem } };
    }
    case "map": {
      const entries = (n.args as [AstNode, AstNode][]).map(([k, v]) => [est(k, scope), est(v, scope)] as const);
      const key = entries.reduce<Shape | undefined>((acc, [k]) => (acc ? join(acc, k.shape) : k.shape), undefined) ?? SCALAR;
      const val = entries.reduce<Shape | undefined>((acc, [, v]) => (acc ? join(acc, v.shape) : v.shape), undefined) ?? SCALAR;
      return { cost: 30 + entries.reduce((c, [k, v]) => c + k.cost + v.cost, 0), shape: { k: "map", size: entries.length, key, val } };
    }
    case "?:": {
      const [c, a, b] = (n.args as AstNode[]).map((x) => est(x, scope)) as [Est, Est, Est];
      return { cost: c.cost + Math.max(a.cost, b.cost), shape: join(a.shape, b.shape) };
    }
    case "&&":
    case "||": {
      const [a, b] = (n.args as AstNode[]).map((x) => est(x, scope)) as [Est, Est];
      return { cost: a.cost + b.cost, shape: SCALAR };
    }
    case "!_":
    case "-_": {
      const a = est(n.args as AstNode, scope);
      return { cost: a.cost + 1, shape: SCALAR };
    }
    case "call":
      return call(n, undefined, scope);
    case "rcall":
      return call(n, (n.args as [string, AstNode, AstNode[]])[1], scope);
    default:
      return binary(n, scope);
  }
}

function sum(es: readonly Est[]): number {
  return es.reduce((c, e) => c + e.cost, 0);
}

function binary(n: AstNode, scope: Scope): Est {
  const [left, right] = n.args as [AstNode, AstNode];
  const l = est(left, scope);
  const r = est(right, scope);
  const base = l.cost + r.cost;
  const ls = unwrap(l.shape);
  const rs = unwrap(r.shape);
  switch (n.op) {
    case "in":
      // Linear in a list, constant in a map.
      return { cost: base + (rs.k === "map" ? 1 : size(rs)), shape: SCALAR };
    case "==":
    case "!=":
    case "<":
    case "<=":
    case ">":
    case ">=":
      return {
        cost:
          base +
          1 +
          (ls.k === "string" || ls.k === "attr" || ls.k === "list" || ls.k === "map" || ls.k === "unknown" ? Math.ceil(0.1 * Math.min(size(ls), size(rs))) : 0),
        shape: SCALAR,
      };
    case "+":
      if (ls.k === "string" && rs.k === "string") {
        return { cost: base + 1 + strCost(ls) + strCost(rs), shape: { k: "string", size: ls.size + rs.size } };
      }
      if (ls.k === "list" && rs.k === "list") {
        const full = ls.full !== undefined || rs.full !== undefined ? (ls.full ?? ls.size) + (rs.full ?? rs.size) : undefined;
        const shape: Shape = { k: "list", size: ls.size + rs.size, elem: join(ls.elem, rs.elem), ...(full !== undefined ? { full } : {}) };
        return { cost: base + 1 + Math.ceil(0.1 * (ls.size + rs.size)), shape };
      }
      if (ls.k === "unknown" || rs.k === "unknown") {
        // A concatenation is as long as both sides: a string or list hidden behind `dyn` still doubles.
        const total = size(ls) + size(rs);
        return { cost: base + 1 + Math.ceil(0.1 * total), shape: { k: "unknown", size: total } };
      }
      return { cost: base + 1, shape: SCALAR };
    default:
      return { cost: base + 1, shape: SCALAR };
  }
}

const COMPREHENSIONS = new Set(["all", "exists", "exists_one", "filter", "map"]);
const STRING_RESULT_SAME_SIZE = new Set(["lowerAscii", "upperAscii", "trim", "substring"]);
const LINEAR_IN_RECEIVER = new Set([
  "contains",
  "startsWith",
  "endsWith",
  "indexOf",
  "lastIndexOf",
  "lowerAscii",
  "upperAscii",
  "trim",
  "substring",
  "split",
  "join",
  "size",
]);

function call(n: AstNode, receiverNode: AstNode | undefined, scope: Scope): Est {
  const name = (n.args as [string])[0];
  const argNodes = receiverNode ? nodes((n.args as [string, AstNode, AstNode[]])[2]) : nodes((n.args as [string, AstNode[]])[1]);

  // cel.bind(var, init, body): the value is computed once and then only referenced.
  if (name === "bind" && identName(receiverNode) === "cel" && !scope.has("cel")) {
    const [v, init, body] = argNodes as [AstNode, AstNode, AstNode];
    const i = est(init, scope);
    const b = est(body, new Map(scope).set(identName(v) ?? "", i.shape));
    return { cost: i.cost + b.cost, shape: b.shape };
  }

  if (receiverNode && COMPREHENSIONS.has(name)) return comprehension(name, receiverNode, argNodes, n, scope);

  if (!receiverNode && name === "has") {
    const a = est(argNodes[0] as AstNode, scope);
    return { cost: a.cost, shape: SCALAR };
  }

  const r = receiverNode ? est(receiverNode, scope) : undefined;
  const args = argNodes.map((a) => est(a, scope));
  const base = (r?.cost ?? 0) + sum(args) + 1;
  const rs = r ? unwrap(r.shape) : undefined;

  if (name === "matches" || name === "find" || name === "findAll") {
    // RE2: linear in the string for a given pattern (re2.ts); literal patterns are checked separately.
    const s = rs ?? args[0]?.shape ?? UNKNOWN;
    const re = (rs ? args[0] : args[1])?.shape ?? UNKNOWN;
    const scan = strCost(s) * Math.max(1, Math.ceil(0.25 * size(re)));
    if (name === "matches") return { cost: base + scan, shape: SCALAR };
    const found: Shape = { k: "string", size: size(s) };
    return { cost: base + scan, shape: name === "find" ? found : { k: "list", size: size(s) + 1, elem: found } };
  }
  const strings = stringFunction(name, rs, args);
  if (strings) return { cost: base + strings.cost, shape: strings.shape };
  if (rs && LINEAR_IN_RECEIVER.has(name)) {
    const extra = strCost(rs) + args.reduce((c, a) => c + strCost(a.shape), 0);
    let shape: Shape = SCALAR;
    if (STRING_RESULT_SAME_SIZE.has(name)) shape = { k: "string", size: size(rs) };
    else if (name === "split") shape = { k: "list", size: size(rs) + 1, elem: { k: "string", size: size(rs) } };
    else if (name === "join") shape = { k: "string", size: size(rs) * (rs.k === "list" ? size(rs.elem) + size(args[0]?.shape ?? SCALAR) : 1) };
    return { cost: base + extra, shape };
  }
  switch (name) {
    case "size":
    case "quantity":
    case "isQuantity":
    case "semver":
    case "isSemver":
    case "int":
    case "uint":
    case "double":
    case "bool":
      return { cost: base + args.reduce((c, a) => c + strCost(a.shape), 0), shape: SCALAR };
    case "string":
      return {
        cost: base + args.reduce((c, a) => c + strCost(a.shape), 0),
        shape: args[0] ? { k: "string", size: Math.max(32, size(args[0].shape)) } : SCALAR,
      };
    case "dyn":
      return { cost: base, shape: args[0]?.shape ?? UNKNOWN };
    case "contains":
    case "equivalent":
    case "intersects":
      // sets.*: every element of one list against every element of the other.
      return { cost: base + (args[0] && args[1] ? size(unwrap(args[0].shape)) * size(unshare(unwrap(args[1].shape))) : 0), shape: SCALAR };
    case "indexOf":
    case "lastIndexOf":
    case "isSorted":
    case "sum":
    case "min":
    case "max":
      // Linear in the list; min/max/sum yield an element (or a number).
      return { cost: base + (rs ? size(rs) : 0), shape: rs?.k === "list" && (name === "min" || name === "max") ? rs.elem : SCALAR };
    case "orValue":
    case "or":
      return { cost: base, shape: join(unwrap(r?.shape ?? UNKNOWN), unwrap(args[0]?.shape ?? UNKNOWN)) };
    case "value":
      return { cost: base, shape: unwrap(r?.shape ?? UNKNOWN) };
    case "of":
      return { cost: base, shape: { k: "optional", val: args[0]?.shape ?? UNKNOWN } };
    case "add":
    case "sub":
      return { cost: base, shape: SCALAR };
    default:
      // Quantity/Semver methods, hasValue, type conversions: constant time.
      return { cost: base, shape: SCALAR };
  }
}

/** cel-go's extended strings functions: cost and result size (replace and format may grow a string). */
function stringFunction(name: string, rs: Shape | undefined, args: readonly Est[]): { cost: number; shape: Shape } | undefined {
  const argSize = (i: number) => size(args[i]?.shape ?? SCALAR);
  switch (name) {
    case "charAt":
      return rs ? { cost: strCost(rs), shape: { k: "string", size: 2 } } : undefined;
    case "replace": {
      if (!rs) return undefined;
      // Every character may be replaced (or, with "" as old, have `new` inserted before it).
      const out = size(rs) * Math.max(1, argSize(1)) + argSize(1);
      return { cost: strCost(rs) + Math.ceil(0.1 * out), shape: { k: "string", size: out } };
    }
    case "format": {
      if (!rs) return undefined;
      const out = size(rs) + argSize(0) * Math.max(32, size((args[0]?.shape.k === "list" ? args[0].shape.elem : undefined) ?? SCALAR));
      return { cost: strCost(rs) + Math.ceil(0.1 * out), shape: { k: "string", size: out } };
    }
    case "quote":
      return { cost: Math.ceil(0.1 * argSize(0)), shape: { k: "string", size: 2 * argSize(0) + 2 } };
    default:
      return undefined;
  }
}

function comprehension(name: string, rangeNode: AstNode, argNodes: AstNode[], n: AstNode, scope: Scope): Est {
  const range = est(rangeNode, scope);
  const rs = unwrap(range.shape);
  let count: number;
  let elem: Shape;
  if (rs.k === "list") {
    count = rs.size;
    elem = rs.poolsOfCluster && rs.elem.k === "pool" ? { k: "pool", share: count } : rs.elem;
  } else if (rs.k === "map") {
    count = rs.size;
    elem = rs.key;
  } else {
    count = size(rs);
    elem = UNKNOWN;
  }
  const v = identName(argNodes[0]);
  if (v === undefined) throw new CostError(`${name}() needs an identifier as its first argument`, n.pos);
  // Inside a loop over a shared pool's devices, anything else shared counts at full size.
  const inner = new Map(rs.k === "list" && rs.full !== undefined ? [...scope].map(([k, s]) => [k, unshare(s)] as const) : scope).set(v, elem);
  const body = argNodes.slice(1).map((a) => est(a, inner));
  // Each iteration: the body plus the loop's own bookkeeping.
  const perIteration = sum(body) + 1;
  const cost = range.cost + count * perIteration;
  if (cost > ctx.budget && ctx.culprit === undefined) ctx.culprit = n.pos;
  let shape: Shape = SCALAR;
  if (name === "filter") {
    // A filtered list keeps its origin: still distinct pools, still a share of a pool's devices.
    shape = rs.k === "list" ? { ...rs, elem: rs.elem } : { k: "list", size: count, elem: unshare(elem) };
  }
  // What a map() produces escapes the iteration that computed it.
  if (name === "map") {
    const full = rs.k === "list" ? rs.full : undefined;
    shape = { k: "list", size: count, elem: unshare(body[body.length - 1]?.shape ?? UNKNOWN), ...(full !== undefined ? { full } : {}) };
  }
  return { cost, shape };
}
