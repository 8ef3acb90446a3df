// The one CEL environment selectors run in: the `cluster` variable with Cluster, Pool and Device
// types named as in Kubernetes' DRA selectors, and the libraries Kubernetes gives a DRA selector:
// quantity, semver, regex (RE2), lists, sets, IP and CIDR, and cel-go's extended strings. Built
// once per process (building an Environment is the expensive part of the library), with the
// runtime meter installed on its evaluator.

import { Environment, type ASTNode } from "@marcbachmann/cel-js";
import { EXPRESSION_LIMITS } from "./limits.ts";
import { evalError, evalErrorFrom } from "./lib/eval-error.ts";
import { max, min, isSorted, sumDouble, sumInt, sumUint, type Comparable } from "./lib/lists.ts";
import { CelCIDR, CelIP, cidr, ip, isCanonicalIP, isCIDR, isIP } from "./lib/net.ts";
import { charAt, format, quote, replace } from "./lib/strings.ts";
import type { UnsignedInt } from "./lib/uint.ts";
import { installMeter } from "./meter.ts";
import { Quantity, QuantityParseError } from "./quantity.ts";
import { RegexError, regexFind, regexFindAll, regexMatches } from "./re2.ts";
import { Semver, SemverParseError } from "./semver.ts";
import { CelCluster, CelDevice, CelNode, CelPool } from "./values.ts";

/** The types of the `sets`, `strings` and `ip` namespace values (as cel-js does for `cel`). */
class SetsNamespace {
  readonly namespace = "sets";
}
class StringsNamespace {
  readonly namespace = "strings";
}
class IPNamespace {
  readonly namespace = "ip";
}
/** Never a value: the receiver type that lets the RE2 `matches` macro take over every `x.matches(y)`. */
class RegexHook {
  readonly hook = "matches";
}

const regex = <T>(f: () => T): T => evalErrorFrom(RegexError, f);

/** The parts of cel-js' type checker a macro uses (its custom-macro API). */
interface TypeChecker {
  check(n: ASTNode, ctx: unknown): { type?: string; kind?: string };
  getType(name: string): unknown;
  createError(code: string, message: string, n: ASTNode): Error;
}

/** A macro node's parts as cel-js hands them to typeCheck and evaluate. */
interface MatchesMacro {
  ast: ASTNode;
  subject: ASTNode;
  pattern: ASTNode;
}

/**
 * `s.matches(re)` and `matches(s, re)` on RE2. cel-js runs its built-in `matches` on JavaScript's
 * backtracking RegExp and does not let it be replaced, so a macro takes the call over at parse
 * time: cel-js looks macros up by name and arity, whatever the receiver type it is declared on.
 */
function matchesMacro(
  subject: ASTNode,
  pattern: ASTNode,
  ast: ASTNode,
): MatchesMacro & {
  typeCheck(chk: TypeChecker, m: MatchesMacro, ctx: unknown): unknown;
  evaluate(ev: { run(n: ASTNode, ctx: unknown): unknown }, m: MatchesMacro, ctx: unknown): boolean;
} {
  return {
    ast,
    subject,
    pattern,
    typeCheck(chk, m, ctx) {
      const st = chk.check(m.subject, ctx);
      const pt = chk.check(m.pattern, ctx);
      const ok = (t: { type?: string; kind?: string }) => t.kind === "dyn" || t.type === "string";
      if (!ok(st) || !ok(pt)) {
        throw chk.createError("no_matching_overload", `found no matching overload for 'matches(${String(st.type)}, ${String(pt.type)})'`, m.ast);
      }
      return chk.getType("bool");
    },
    evaluate(ev, m, ctx) {
      const s = ev.run(m.subject, ctx);
      const p = ev.run(m.pattern, ctx);
      if (typeof s !== "string" || typeof p !== "string") throw evalError("found no matching overload for 'matches' on these values");
      return regex(() => regexMatches(s, p));
    },
  };
}

const parseQuantity = (s: string): Quantity => evalErrorFrom(QuantityParseError, () => Quantity.parse(s));
const parseSemver = (s: string, normalize: boolean): Semver => evalErrorFrom(SemverParseError, () => (normalize ? Semver.parseNormalized(s) : Semver.parse(s)));

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

/** What a selector is evaluated against: a cluster (spec.clusterSelector.cel) or a node (spec.nodeSelector.cel). */
export type SelectorTarget = "cluster" | "node";

function build(target: SelectorTarget): Environment {
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
      // DRA consumable capacity (Kubernetes 1.34): false when the device does not set it.
      allowMultipleAllocations: "bool",
    },
  });
  env.registerType("Pool", { ctor: CelPool, fields: { driver: "string", name: "string", nodeName: "string", devices: "list<Device>" } });
  env.registerType("Cluster", {
    ctor: CelCluster,
    fields: { name: "string", labels: "map<string, string>", pools: "list<Pool>", devices: "list<Device>" },
  });
  // One variable per environment, so a cluster selector cannot name `node` (nor a node selector `cluster`).
  if (target === "cluster") env.registerVariable("cluster", "Cluster", { description: "The cluster being considered, with its DRA pools and devices." });
  else {
    env.registerType("Node", { ctor: CelNode, fields: { name: "string", labels: "map<string, string>", pools: "list<Pool>", devices: "list<Device>" } });
    env.registerVariable("node", "Node", { description: "The node being considered, with the DRA pools and devices local to it." });
  }

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
  env.registerFunction(
    "SetsNamespace.equivalent(list, list): bool",
    (_: SetsNamespace, a: unknown[], b: unknown[]) => b.every((v) => includes(a, v)) && a.every((v) => includes(b, v)),
  );
  env.registerFunction("SetsNamespace.intersects(list, list): bool", (_: SetsNamespace, a: unknown[], b: unknown[]) => b.some((v) => includes(a, v)));
  env.registerFunction("list.indexOf(dyn): int", (l: unknown[], v: unknown) => big(l.findIndex((x) => celEquals(x, v))));
  env.registerFunction("list.lastIndexOf(dyn): int", (l: unknown[], v: unknown) => big(l.findLastIndex((x) => celEquals(x, v))));

  registerRegex(env);
  registerLists(env);
  registerStrings(env);
  registerNet(env);
  // Last: the probe it registers parses an expression, which freezes the registry.
  installMeter(env);
  return env;
}

/** Kubernetes' regex library and CEL's matches, all on RE2 (re2.ts). */
function registerRegex(env: Environment): void {
  env.registerType("RegexHook", { ctor: RegexHook, fields: {} });
  env.registerFunction("RegexHook.matches(ast): bool", ({ ast, args, receiver }: { ast: ASTNode; args: ASTNode[]; receiver: ASTNode }) =>
    matchesMacro(receiver, args[0] as ASTNode, ast),
  );
  env.registerFunction("matches(ast, ast): bool", ({ ast, args }: { ast: ASTNode; args: ASTNode[] }) =>
    matchesMacro(args[0] as ASTNode, args[1] as ASTNode, ast),
  );
  env.registerFunction("string.find(string): string", (s: string, re: string) => regex(() => regexFind(s, re)));
  env.registerFunction("string.findAll(string): list<string>", (s: string, re: string) => regex(() => regexFindAll(s, re)));
  env.registerFunction("string.findAll(string, int): list<string>", (s: string, re: string, n: bigint) => regex(() => regexFindAll(s, re, n)));
}

/** Kubernetes' lists library: isSorted, sum, min, max for each comparable element type. */
function registerLists(env: Environment): void {
  for (const t of ["int", "uint", "double", "bool", "string"]) {
    env.registerFunction(`list<${t}>.isSorted(): bool`, (l: Comparable[]) => isSorted(l));
    env.registerFunction(`list<${t}>.min(): ${t}`, (l: Comparable[]) => min(l));
    env.registerFunction(`list<${t}>.max(): ${t}`, (l: Comparable[]) => max(l));
  }
  env.registerFunction("list<int>.sum(): int", (l: bigint[]) => sumInt(l));
  env.registerFunction("list<uint>.sum(): uint", (l: UnsignedInt[]) => sumUint(l));
  env.registerFunction("list<double>.sum(): double", (l: number[]) => sumDouble(l));
}

/** cel-go's extended strings functions cel-js lacks (ext.Strings as Kubernetes enables it). */
function registerStrings(env: Environment): void {
  env.registerFunction("string.charAt(int): string", (s: string, i: bigint) => charAt(s, i));
  env.registerFunction("string.replace(string, string): string", (s: string, a: string, b: string) => replace(s, a, b));
  env.registerFunction("string.replace(string, string, int): string", (s: string, a: string, b: string, n: bigint) => replace(s, a, b, n));
  env.registerFunction("string.format(list): string", (s: string, args: unknown[]) => format(s, args));
  env.registerType("StringsNamespace", { ctor: StringsNamespace, fields: {} });
  env.registerConstant("strings", "StringsNamespace", new StringsNamespace());
  env.registerFunction("StringsNamespace.quote(string): string", (_: StringsNamespace, s: string) => quote(s));
}

/** Kubernetes' IP and CIDR libraries (lib/net.ts). */
function registerNet(env: Environment): void {
  env.registerType("net.IP", { ctor: CelIP, fields: {} });
  env.registerType("net.CIDR", { ctor: CelCIDR, fields: {} });
  env.registerFunction("ip(string): net.IP", (s: string) => ip(s));
  env.registerFunction("isIP(string): bool", (s: string) => isIP(s));
  env.registerType("IPNamespace", { ctor: IPNamespace, fields: {} });
  env.registerConstant("ip", "IPNamespace", new IPNamespace());
  env.registerFunction("IPNamespace.isCanonical(string): bool", (_: IPNamespace, s: string) => isCanonicalIP(s));
  env.registerFunction("net.IP.family(): int", (a: CelIP) => big(a.family));
  env.registerFunction("net.IP.isUnspecified(): bool", (a: CelIP) => a.isUnspecified());
  env.registerFunction("net.IP.isLoopback(): bool", (a: CelIP) => a.isLoopback());
  env.registerFunction("net.IP.isLinkLocalMulticast(): bool", (a: CelIP) => a.isLinkLocalMulticast());
  env.registerFunction("net.IP.isLinkLocalUnicast(): bool", (a: CelIP) => a.isLinkLocalUnicast());
  env.registerFunction("net.IP.isGlobalUnicast(): bool", (a: CelIP) => a.isGlobalUnicast());
  env.registerFunction("string(net.IP): string", (a: CelIP) => a.toString());
  env.registerOperator("net.IP == net.IP", (a: CelIP, b: CelIP) => a.equals(b));

  env.registerFunction("cidr(string): net.CIDR", (s: string) => cidr(s));
  env.registerFunction("isCIDR(string): bool", (s: string) => isCIDR(s));
  env.registerFunction("net.CIDR.containsIP(net.IP): bool", (c: CelCIDR, a: CelIP) => c.containsIP(a));
  env.registerFunction("net.CIDR.containsIP(string): bool", (c: CelCIDR, s: string) => c.containsIP(ip(s)));
  env.registerFunction("net.CIDR.containsCIDR(net.CIDR): bool", (c: CelCIDR, o: CelCIDR) => c.containsCIDR(o));
  env.registerFunction("net.CIDR.containsCIDR(string): bool", (c: CelCIDR, s: string) => c.containsCIDR(cidr(s)));
  env.registerFunction("net.CIDR.ip(): net.IP", (c: CelCIDR) => c.ip);
  env.registerFunction("net.CIDR.masked(): net.CIDR", (c: CelCIDR) => c.masked());
  env.registerFunction("net.CIDR.prefixLength(): int", (c: CelCIDR) => big(c.bits));
  env.registerFunction("string(net.CIDR): string", (c: CelCIDR) => c.toString());
  env.registerOperator("net.CIDR == net.CIDR", (a: CelCIDR, b: CelCIDR) => a.equals(b));
}

const shared = new Map<SelectorTarget, Environment>();

/** The process-wide selector environment for `target` (the same types, libraries and limits for both). */
export function selectorEnvironment(target: SelectorTarget = "cluster"): Environment {
  let env = shared.get(target);
  if (env === undefined) {
    env = build(target);
    shared.set(target, env);
  }
  return env;
}
