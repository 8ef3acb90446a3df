// Compile a cluster selector once (parse, type-check, bound its cost) and evaluate it against
// clusters. Every failure is a value with a kind and a position; nothing here throws for bad input.

import { EvaluationError, ParseError, TypeError as CelTypeError, type ParseResult } from "@marcbachmann/cel-js";
import { toCelCluster, type ClusterFactsInput } from "./cluster-facts.ts";
import { estimateCost, type AstNode } from "./cost.ts";
import { selectorEnvironment, type SelectorTarget } from "./environment.ts";
import { selectorError, type CompileErrorKind, type EvaluationErrorKind, type SelectorError } from "./errors.ts";
import { CLUSTER_LIMITS, EXPRESSION_LIMITS, RUNTIME_LIMITS } from "./limits.ts";
import { Lru } from "./lru.ts";
import { metered, type Exhausted } from "./meter.ts";
import { checkRegexLiterals } from "./re2.ts";
import { CelCluster, CelNode } from "./values.ts";

/** A selector that compiled: safe to evaluate against any cluster within the declared limits. */
export class CompiledSelector {
  readonly expression: string;
  /** The static worst-case cost of one cluster evaluation (see docs/cel.md). */
  readonly estimatedCost: number;
  /** What it selects: clusters or nodes (the variable it reads). */
  readonly target: SelectorTarget;
  readonly #run: ParseResult;

  constructor(expression: string, estimatedCost: number, run: ParseResult, target: SelectorTarget = "cluster") {
    this.expression = expression;
    this.estimatedCost = estimatedCost;
    this.target = target;
    this.#run = run;
  }

  /** @internal evaluation entry point for evaluateSelector. */
  run(cluster: CelCluster): unknown {
    if (this.target === "node") return this.#run({ node: cluster instanceof CelNode ? cluster : new CelNode(cluster.name, cluster.labels, cluster.pools) });
    return this.#run({ cluster });
  }
}

export type CompileResult = { ok: true; program: CompiledSelector } | { ok: false; error: SelectorError<CompileErrorKind> };
/** `cost`: the cost units the evaluation used (what the meter counted; 0 when it never ran). */
export type EvaluateResult = { ok: true; value: boolean; cost: number } | { ok: false; error: SelectorError<EvaluationErrorKind>; cost: number };

/** How many compiled expressions are kept (results of failed compiles included). */
export const SELECTOR_CACHE_SIZE = 512;
const cache = new Lru<string, CompileResult>(SELECTOR_CACHE_SIZE);

/**
 * Compile a selector, or return the cached result for the same text. A selector must type-check
 * against the `cluster` environment, yield bool, and stay within the length, nesting and cost limits.
 */
export function compileSelector(expression: string, target: SelectorTarget = "cluster"): CompileResult {
  // Node selectors share the cache under their own key: the same text compiles differently for each target.
  const key = target === "cluster" ? expression : `node\u0000${expression}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const result = compileUncached(expression, target);
  cache.set(key, result);
  return result;
}

/** Drop every cached compile (for tests and benchmarks measuring cold compiles). */
export function clearSelectorCache(): void {
  cache.clear();
}

function fail(kind: CompileErrorKind, summary: string, expr: string, offset?: number): CompileResult {
  return { ok: false, error: selectorError(kind, summary, expr, offset) };
}

function compileUncached(expr: string, target: SelectorTarget): CompileResult {
  const bytes = Buffer.byteLength(expr, "utf8");
  if (bytes > EXPRESSION_LIMITS.maxLength) {
    return fail("Limit", `expression is ${bytes} bytes, more than the ${EXPRESSION_LIMITS.maxLength} allowed`, expr);
  }
  if (expr.trim() === "") return fail("Syntax", "expression is empty", expr);

  let parsed: ParseResult;
  try {
    parsed = selectorEnvironment(target).parse(expr);
  } catch (e) {
    if (e instanceof ParseError) {
      const kind = e.code === "limit_exceeded" ? "Limit" : "Syntax";
      const summary = kind === "Limit" ? `${e.summary}: the expression is nested or sized beyond what selectors allow` : e.summary;
      return fail(kind, summary, expr, e.range?.start);
    }
    return fail("Syntax", String(e instanceof Error ? e.message : e), expr);
  }

  const checked = parsed.check();
  if (!checked.valid) {
    const err = checked.error;
    if (err instanceof ParseError) return fail(err.code === "limit_exceeded" ? "Limit" : "Syntax", err.summary, expr, err.range?.start);
    if (err instanceof CelTypeError) return fail("Type", err.summary, expr, err.range?.start);
    return fail("Type", String((err as Error | undefined)?.message ?? "type check failed"), expr);
  }
  if (checked.type !== "bool") {
    return fail("Type", `a selector must evaluate to bool, this one evaluates to ${checked.type}`, expr, 0);
  }

  const ast = parsed.ast as unknown as AstNode;
  const regex = checkRegexLiterals(ast);
  if (regex) return fail("Syntax", regex.message, expr, regex.pos);

  const { cost, culprit } = estimateCost(ast, EXPRESSION_LIMITS.maxCost, target);
  if (cost > EXPRESSION_LIMITS.maxCost) {
    return fail(
      "Cost",
      `estimated cost ${formatCost(cost)} exceeds the budget of ${formatCost(EXPRESSION_LIMITS.maxCost)} per cluster ` +
        `(it assumes clusters at the declared maxima, e.g. ${CLUSTER_LIMITS.maxDevicesPerCluster} devices; nested loops over devices multiply)`,
      expr,
      culprit ?? 0,
    );
  }
  return { ok: true, program: new CompiledSelector(expr, cost, parsed, target) };
}

function formatCost(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "unbounded";
}

/** What an exhausted budget is reported as: what ran out, and the figure. */
export function exhaustedMessage(x: Exhausted): string {
  const n = (v: number) => Math.round(v).toLocaleString("en-US");
  switch (x.kind) {
    case "cost":
      return `it used its runtime budget of ${n(x.limit)} cost units`;
    case "size":
      return x.what === "string"
        ? `it built a string of ${n(x.size)} characters, more than the ${n(x.limit)} a selector may build`
        : `it built a value of ${n(x.size)} elements, more than the ${n(x.limit)} a selector may build`;
    case "time":
      return `it ran past the ${n(x.ms)} ms deadline of one evaluation`;
  }
}

/**
 * Evaluate a compiled selector against one cluster: its CEL value from toCelCluster, or its facts
 * (converted on the way; convert once with toCelCluster when evaluating several selectors).
 * An error means the cluster is not selected; the error says why and where. `costLimit` caps the
 * cost units this evaluation may use (at most RUNTIME_LIMITS.maxCostPerCluster); the meter stops it
 * there (kind Budget).
 */
export function evaluateSelector(
  program: CompiledSelector,
  cluster: CelCluster | ClusterFactsInput,
  costLimit: number = RUNTIME_LIMITS.maxCostPerCluster,
): EvaluateResult {
  let value: CelCluster;
  if (cluster instanceof CelCluster) value = cluster;
  else {
    const converted = toCelCluster(cluster);
    if (!converted.ok) return { ok: false, error: converted.error, cost: 0 };
    value = converted.cluster;
  }
  const expr = program.expression;
  const name = `${program.target} ${JSON.stringify(value.name)}`;
  const run = metered(Math.min(costLimit, RUNTIME_LIMITS.maxCostPerCluster), () => program.run(value));
  if (!run.ok) {
    const cost = run.cost;
    if (run.exhausted !== undefined) {
      return {
        ok: false,
        error: selectorError(
          "Budget",
          `${name}: evaluation stopped after ${Math.round(cost).toLocaleString("en-US")} cost units: ${exhaustedMessage(run.exhausted)}`,
          expr,
        ),
        cost,
      };
    }
    const e = run.error;
    if (e instanceof EvaluationError) {
      return { ok: false, error: selectorError("Evaluation", `${name}: ${e.summary}`, expr, e.range?.start), cost };
    }
    // Anything else is a bug in a function of this environment: still a value, never a crash.
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: selectorError("Evaluation", `${name}: internal error: ${message}`, expr), cost };
  }
  if (typeof run.value !== "boolean") {
    return { ok: false, error: selectorError("Evaluation", `selector returned ${typeof run.value}, not bool`, expr), cost: run.cost };
  }
  return { ok: true, value: run.value, cost: run.cost };
}
