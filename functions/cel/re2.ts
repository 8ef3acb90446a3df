// Regular expressions as Kubernetes evaluates them: RE2 syntax and linear-time matching (Go's regexp,
// here its JavaScript port re2js; docs/dependencies.md says why this one). `matches`, `find` and
// `findAll` all run here, never on JavaScript's backtracking RegExp, so no pattern can take more than
// time proportional to pattern size times input size, and that time is charged to the meter.

import { RE2JS } from "re2js";
import type { AstNode } from "./cost.ts";
import { Lru } from "./lru.ts";
import { charge } from "./meter.ts";

export type Compiled = { ok: true; re: RE2JS } | { ok: false; message: string };

/** Compiled patterns (failures too) by pattern text; a selector's patterns recur on every cluster. */
const cache = new Lru<string, Compiled>(256);

/** Compile `pattern` with Go's RE2 syntax (re2js' default flags are Go's `regexp.Compile`). */
export function compileRegex(pattern: string): Compiled {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let out: Compiled;
  try {
    out = { ok: true, re: RE2JS.compile(pattern) };
  } catch (e) {
    out = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  cache.set(pattern, out);
  return out;
}

/** The regex functions whose pattern is their first argument (`s.matches(re)`, `s.find(re)`, ...). */
const REGEX_FUNCTIONS = new Set(["matches", "find", "findAll"]);

export interface RegexProblem {
  message: string;
  pos: number;
}

/**
 * Check every literal pattern of `matches`, `find` and `findAll` at compile time, as Kubernetes does
 * (cel.ValidateRegexLiterals, and the find/findAll regex optimizations that compile constant
 * patterns when the program is built). A pattern computed at run time is compiled then, and a bad
 * one is an evaluation error for that cluster.
 */
export function checkRegexLiterals(ast: AstNode): RegexProblem | undefined {
  let found: RegexProblem | undefined;
  walk(ast, (n) => {
    if (found) return;
    let pattern: AstNode | undefined;
    if (n.op === "rcall") {
      const [name, , args] = n.args as [string, AstNode, AstNode[]];
      if (REGEX_FUNCTIONS.has(name)) pattern = args[0];
    } else if (n.op === "call") {
      const [name, args] = n.args as [string, AstNode[]];
      if (name === "matches") pattern = args[1];
    }
    if (!pattern || pattern.op !== "value" || typeof pattern.args !== "string") return;
    const c = compileRegex(pattern.args);
    if (!c.ok) found = { message: `invalid regular expression ${JSON.stringify(pattern.args)} (RE2 syntax): ${c.message}`, pos: pattern.pos };
  });
  return found;
}

/** Visit every node of a cel-js AST. */
export function walk(n: unknown, visit: (n: AstNode) => void): void {
  if (Array.isArray(n)) {
    for (const x of n) walk(x, visit);
    return;
  }
  if (n && typeof n === "object" && "op" in n && "args" in n) {
    visit(n as AstNode);
    walk((n as AstNode).args, visit);
  }
}

/** Thrown for a pattern RE2 rejects at run time; environment.ts turns it into a CEL evaluation error. */
export class RegexError extends Error {}

function compiled(pattern: string): RE2JS {
  const c = compileRegex(pattern);
  if (!c.ok) throw new RegexError(`invalid regular expression ${JSON.stringify(pattern)} (RE2 syntax): ${c.message}`);
  return c.re;
}

/** An RE2 scan costs time linear in the input for a given pattern: charge both sizes, as cel-go does for matches. */
function chargeScan(s: string, pattern: string): void {
  charge(1 + Math.ceil(0.25 * s.length * Math.max(1, Math.log2(pattern.length + 1))));
}

/** `s.matches(re)`: an unanchored search, as Go's regexp.MatchString. */
export function regexMatches(s: string, pattern: string): boolean {
  const re = compiled(pattern);
  chargeScan(s, pattern);
  return re.test(s);
}

/** `s.find(re)`: the leftmost match, "" when none (Kubernetes' regex library). */
export function regexFind(s: string, pattern: string): string {
  const re = compiled(pattern);
  chargeScan(s, pattern);
  return (re.re2().find(s) as string | null) ?? "";
}

/** `s.findAll(re[, n])`: up to n successive matches (all when n < 0), as Go's FindAllString. */
export function regexFindAll(s: string, pattern: string, n: bigint = -1n): string[] {
  const re = compiled(pattern);
  chargeScan(s, pattern);
  if (n === 0n) return [];
  // Go caps a negative n at len(s)+1, the most matches a string can have.
  const limit = n < 0n || n > BigInt(s.length + 1) ? s.length + 1 : Number(n);
  return (re.re2().findAll(s, limit) as string[] | null) ?? [];
}
