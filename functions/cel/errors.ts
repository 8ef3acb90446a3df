// Selector errors as values, with a position a person can find: line and column (1-based) and the
// line of the expression with a caret under the spot.

export type CompileErrorKind = "Syntax" | "Type" | "Cost" | "Limit";
/** Budget: the runtime meter stopped the evaluation (cost, a size cap, or the time backstop). */
export type EvaluationErrorKind = "Evaluation" | "Input" | "Budget";

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

export interface SelectorError<K extends string> {
  kind: K;
  /** Includes the position and an excerpt with a caret when there is one. */
  message: string;
  position?: Position;
}

export function positionOf(expr: string, offset: number): Position {
  const before = expr.slice(0, Math.max(0, Math.min(offset, expr.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: (lines[lines.length - 1] ?? "").length + 1 };
}

/** Longest excerpt line shown; long expressions are windowed around the caret. */
const EXCERPT = 100;

export function excerpt(expr: string, pos: Position): string {
  const line = expr.split("\n")[pos.line - 1] ?? "";
  let start = 0;
  if (line.length > EXCERPT) start = Math.max(0, Math.min(pos.column - 1 - EXCERPT / 2, line.length - EXCERPT));
  const shown = line.slice(start, start + EXCERPT);
  const prefix = start > 0 ? "..." : "";
  const suffix = start + EXCERPT < line.length ? "..." : "";
  return `    ${prefix}${shown}${suffix}\n    ${" ".repeat(prefix.length + pos.column - 1 - start)}^`;
}

export function selectorError<K extends string>(kind: K, summary: string, expr: string, offset?: number): SelectorError<K> {
  if (offset === undefined) return { kind, message: summary };
  const position = positionOf(expr, offset);
  return {
    kind,
    message: `${summary}\n  at line ${position.line}, column ${position.column}:\n${excerpt(expr, position)}`,
    position,
  };
}
