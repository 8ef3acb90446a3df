// Cluster selection with CEL, shaped like Kubernetes' DRA device selectors (docs/cel.md).
//
//   const c = compileSelector(spec.clusterSelector.cel);   // cached by text; errors are values
//   if (!c.ok) -> Fatal result quoting c.error.message (kind Syntax | Type | Cost | Limit)
//   const cluster = toCelCluster(facts);                    // once per cluster
//   const r = evaluateSelector(c.program, cluster.cluster); // {ok, value} | {ok: false, error}
//   an error (kind Evaluation | Input | Budget) means "not selected", with the reason.
//   evaluateSelector meters the evaluation as it runs (meter.ts); pass a smaller cost limit to share
//   a budget across clusters, and read r.cost for what it used.

export { compileSelector, evaluateSelector, clearSelectorCache, CompiledSelector, SELECTOR_CACHE_SIZE } from "./selector.ts";
export type { CompileResult, EvaluateResult } from "./selector.ts";
export { toCelCluster, ClusterFacts, PoolFacts, DeviceFacts, AttributeFacts, splitQualifiedName } from "./cluster-facts.ts";
export type { ClusterFactsInput, ToCelResult } from "./cluster-facts.ts";
export type { CompileErrorKind, EvaluationErrorKind, Position, SelectorError } from "./errors.ts";
export { CLUSTER_LIMITS, EXPRESSION_LIMITS, RUNTIME_LIMITS } from "./limits.ts";
export { CelCluster, CelNode } from "./values.ts";
export type { SelectorTarget } from "./environment.ts";
export { Quantity } from "./quantity.ts";
export { Semver } from "./semver.ts";
