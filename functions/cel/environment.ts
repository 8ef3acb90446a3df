// The one CEL environment selectors run in: the `cluster` variable with Cluster, Pool and Device
// types named as in Kubernetes' DRA selectors, Kubernetes' quantity and semver libraries, and the
// small part of Kubernetes' sets/lists libraries that is cheap to add. Built once per process:
// building an Environment is the expensive part of the library.

import { Environment, EvaluationError } from "@marcbachmann/cel-js";
import { EXPRESSION_LIMITS } from "./limits.ts";
import { Quantity, QuantityParseError } from "./quantity.ts";
import { Semver, SemverParseError } from "./semver.ts";
import { CelCluster, CelDevice, CelPool } from "./values.ts";

/** The type of the `sets` namespace value (as cel-js does for `cel`); its field is not visible to CEL. */
class SetsNamespace {
  readonly namespace = "sets";
}

function evalError(message: string): EvaluationError {
  return new EvaluationError({ code: "invalid_argument", message });
}

function parseQuantity(s: string): Quantity {
  try {
    return Quantity.parse(s);
  } catch (e) {
    if (e instanceof QuantityParseError) throw evalError(e.message);
    throw e;
  }
}

function parseSemver(s: string, normalize: boolean): Semver {
  try {
    return normalize ? Semver.parseNormalized(s) : Semver.parse(s);
  } catch (e) {
    if (e instanceof SemverParseError) throw evalError(e.message);
    throw e;
  }
}

/** Equality for list elements in sets.* and indexOf: CEL values we can meet in this environment. */
export function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "bigint" && typeof b === "number") return Number(a) === b;
  if (typeof a === "number" && typeof b === "bigint") return a === Number(b);
  if (a instanceof Quantity && b instanceof Quantity) return a.equals(b);
  if (a instanceof Semver && b instanceof Semver) return a.compareTo(b) === 0;
  return false;
}

const big = (n: number): bigint => BigInt(n);

function build(): Environment {
  const env = new Environment({
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: true,
    unlistedVariablesAreDyn: false,
    limits: {
      maxDepth: EXPRESSION_LIMITS.maxDepth,
      maxAstNodes: EXPRESSION_LIMITS.maxAstNodes,
      maxListElements: EXPRESSION_LIMITS.maxListElements,
      maxMapEntries: EXPRESSION_LIMITS.maxMapEntries,
      maxCallArguments: EXPRESSION_LIMITS.maxCallArguments,
    },
  });

  // fields: {} keeps the JavaScript internals of these values out of reach of expressions.
  env.registerType("Quantity", { ctor: Quantity, fields: {} });
  env.registerType("Semver", { ctor: Semver, fields: {} });
  env.registerType("Device", {
    ctor: CelDevice,
    fields: {
      driver: "string",
      name: "string",
      pool: "string",
      // Attribute values are int | bool | string | Semver: dyn, as in Kubernetes.
      attributes: "map<string, map<string, dyn>>",
      capacity: "map<string, map<string, Quantity>>",
    },
  });
  env.registerType("Pool", { ctor: CelPool, fields: { driver: "string", name: "string", nodeName: "string", devices: "list<Device>" } });
  env.registerType("Cluster", {
    ctor: CelCluster,
    fields: { name: "string", labels: "map<string, string>", pools: "list<Pool>", devices: "list<Device>" },
  });
  env.registerVariable("cluster", "Cluster", { description: "The cluster being considered, with its DRA pools and devices." });

  // Kubernetes quantity library.
  env.registerFunction("quantity(string): Quantity", (s: string) => parseQuantity(s));
  env.registerFunction("isQuantity(string): bool", (s: string) => Quantity.isValid(s));
  env.registerFunction("Quantity.compareTo(Quantity): int", (a: Quantity, b: Quantity) => big(a.compareTo(b)));
  env.registerFunction("Quantity.isGreaterThan(Quantity): bool", (a: Quantity, b: Quantity) => a.compareTo(b) > 0);
  env.registerFunction("Quantity.isLessThan(Quantity): bool", (a: Quantity, b: Quantity) => a.compareTo(b) < 0);
  env.registerFunction("Quantity.add(Quantity): Quantity", (a: Quantity, b: Quantity) => a.add(b));
  env.registerFunction("Quantity.add(int): Quantity", (a: Quantity, b: bigint) => a.add(Quantity.fromInteger(b)));
  env.registerFunction("Quantity.sub(Quantity): Quantity", (a: Quantity, b: Quantity) => a.sub(b));
  env.registerFunction("Quantity.sub(int): Quantity", (a: Quantity, b: bigint) => a.sub(Quantity.fromInteger(b)));
  env.registerFunction("Quantity.sign(): int", (a: Quantity) => big(a.sign()));
  env.registerFunction("Quantity.isInteger(): bool", (a: Quantity) => a.isInteger());
  env.registerFunction("Quantity.asInteger(): int", (a: Quantity) => {
    const v = a.asInteger();
    if (v === undefined) throw evalError(`cannot convert quantity ${a.text} to an integer`);
    return v;
  });
  env.registerFunction("Quantity.asApproximateFloat(): double", (a: Quantity) => a.asApproximateFloat());
  // Equality like Kubernetes (1Gi == 1024Mi); deliberately no <, <=, >, >= so expressions stay
  // valid in Kubernetes, which has none either.
  env.registerOperator("Quantity == Quantity", (a: Quantity, b: Quantity) => a.equals(b));

  // Kubernetes semver library.
  env.registerFunction("semver(string): Semver", (s: string) => parseSemver(s, false));
  env.registerFunction("semver(string, bool): Semver", (s: string, n: boolean) => parseSemver(s, n));
  env.registerFunction("isSemver(string): bool", (s: string) => Semver.isValid(s));
  env.registerFunction("isSemver(string, bool): bool", (s: string, n: boolean) => Semver.isValid(s, n));
  env.registerFunction("Semver.major(): int", (v: Semver) => v.major);
  env.registerFunction("Semver.minor(): int", (v: Semver) => v.minor);
  env.registerFunction("Semver.patch(): int", (v: Semver) => v.patch);
  env.registerFunction("Semver.compareTo(Semver): int", (a: Semver, b: Semver) => big(a.compareTo(b)));
  env.registerFunction("Semver.isGreaterThan(Semver): bool", (a: Semver, b: Semver) => a.compareTo(b) > 0);
  env.registerFunction("Semver.isLessThan(Semver): bool", (a: Semver, b: Semver) => a.compareTo(b) < 0);
  env.registerOperator("Semver == Semver", (a: Semver, b: Semver) => a.compareTo(b) === 0);

  // Kubernetes sets library and lists.indexOf: cheap, and common in admission policies.
  env.registerType("SetsNamespace", { ctor: SetsNamespace, fields: {} });
  env.registerConstant("sets", "SetsNamespace", new SetsNamespace());
  const includes = (list: readonly unknown[], v: unknown) => list.some((x) => celEquals(x, v));
  env.registerFunction("SetsNamespace.contains(list, list): bool", (_: SetsNamespace, a: unknown[], b: unknown[]) => b.every((v) => includes(a, v)));
  env.registerFunction("SetsNamespace.equivalent(list, list): bool", (_: SetsNamespace, a: unknown[], b: unknown[]) =>
    b.every((v) => includes(a, v)) && a.every((v) => includes(b, v)));
  env.registerFunction("SetsNamespace.intersects(list, list): bool", (_: SetsNamespace, a: unknown[], b: unknown[]) => b.some((v) => includes(a, v)));
  env.registerFunction("list.indexOf(dyn): int", (l: unknown[], v: unknown) => big(l.findIndex((x) => celEquals(x, v))));
  env.registerFunction("list.lastIndexOf(dyn): int", (l: unknown[], v: unknown) => big(l.findLastIndex((x) => celEquals(x, v))));

  return env;
}

let shared: Environment | undefined;

/** The process-wide selector environment. */
export function selectorEnvironment(): Environment {
  shared ??= build();
  return shared;
}
