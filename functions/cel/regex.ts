// cel-js runs `matches` with JavaScript's backtracking RegExp, not RE2 as Kubernetes does. A
// pattern with a quantified group that itself contains a quantifier (`(a+)+`) can take
// exponential time, and evaluation cannot be interrupted, so patterns must be string literals and
// are checked here at compile time. Constructs RE2 rejects (backreferences, lookaround) are
// refused too, so a selector that compiles here also compiles in Kubernetes.

import type { AstNode } from "./cost.ts";

export interface RegexProblem {
  /** Syntax: not a pattern RE2 would accept. Cost: could run too long to allow. */
  kind: "Syntax" | "Cost";
  message: string;
  pos: number;
}

/** Check every `matches` call in the AST; returns the first problem found. */
export function checkRegexes(ast: AstNode): RegexProblem | undefined {
  let found: RegexProblem | undefined;
  walk(ast, (n) => {
    if (found || n.op !== "rcall") return;
    const [name, , args] = n.args as [string, AstNode, AstNode[]];
    if (name !== "matches") return;
    const pattern = args[0];
    if (!pattern || pattern.op !== "value" || typeof pattern.args !== "string") {
      found = { kind: "Cost", message: "matches() needs a string literal pattern here (patterns are checked before evaluation)", pos: pattern?.pos ?? n.pos };
      return;
    }
    const problem = patternProblem(pattern.args);
    if (problem) found = { kind: problem.kind, message: `regular expression ${JSON.stringify(pattern.args)}: ${problem.message}`, pos: pattern.pos };
  });
  return found;
}

export function patternProblem(p: string): Omit<RegexProblem, "pos"> | undefined {
  try {
    new RegExp(p);
  } catch (e) {
    return { kind: "Syntax", message: `invalid: ${(e as Error).message}` };
  }
  if (/\\[1-9]|\\k</.test(p)) return { kind: "Syntax", message: "backreferences are not supported (RE2)" };
  if (/\(\?<?[=!]/.test(p)) return { kind: "Syntax", message: "lookaround is not supported (RE2)" };
  // Track, per open group, whether it contains a quantifier; a quantified group that does is
  // nested repetition.
  const stack: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") {
      stack.push(false);
      // Skip a group prefix such as ?: or ?<name> so its "?" is not read as a quantifier.
      if (p[i + 1] === "?") {
        const m = /^\?(?::|<[A-Za-z_][A-Za-z0-9_]*>|P<[A-Za-z_][A-Za-z0-9_]*>)/.exec(p.slice(i + 1));
        if (m) i += m[0].length;
      }
    }
    else if (c === ")") {
      const hadQuantifier = stack.pop() ?? false;
      const next = p[i + 1];
      const quantified = next === "*" || next === "+" || (next === "{" && /^\{\d*,\d*\}|^\{\d{2,}\}|^\{[2-9]\}/.test(p.slice(i + 1)));
      if (hadQuantifier && quantified) return { kind: "Cost", message: "nested repetition such as (a+)+ is refused (it can take exponential time)" };
      if (hadQuantifier || quantified) markQuantifier(stack);
    } else if (c === "*" || c === "+" || c === "?" || c === "{") {
      markQuantifier(stack);
    }
  }
  return undefined;
}

function markQuantifier(stack: boolean[]): void {
  if (stack.length > 0) stack[stack.length - 1] = true;
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
