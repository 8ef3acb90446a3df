// Messages built from input are bounded: a Fatal result, a condition or a log
// line must never grow with what a tenant wrote (150,000 bad list items once
// made a 33 MB Fatal message). Each says how much it left out.

/** The longest message of one Fatal result or log line built from an input. */
export const MESSAGE_BYTES = 4096;
/** Issues listed in one message; the rest are counted. */
export const MAX_ISSUES = 20;
/** The longest description of one issue (a zod message can list every unknown key). */
export const ISSUE_BYTES = 512;

/** At most `max` characters of `s`, cut on a character boundary, saying how much was left out. */
export function capText(s: string, max = MESSAGE_BYTES): string {
  if (s.length <= max) return s;
  const head = s.slice(0, max);
  // Do not cut a surrogate pair in half.
  const safe = /[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head;
  return `${safe}… (${s.length - safe.length} more characters left out)`;
}

/** `a: x; b: y; and 149,998 more issues left out`: the first `max` issues, each capped, and how many more there were. */
export function summarizeIssues<T>(issues: readonly T[], describe: (issue: T) => string, max = MAX_ISSUES): string {
  const shown = issues.slice(0, max).map((i) => capText(describe(i), ISSUE_BYTES));
  const left = issues.length - shown.length;
  return left > 0 ? `${shown.join("; ")}; and ${left.toLocaleString("en-US")} more issue${left === 1 ? "" : "s"} left out` : shown.join("; ");
}
