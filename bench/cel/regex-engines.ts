// Regex engines for CEL's matches/find/findAll: re2js (the pure-JavaScript port of Go's regexp that
// the project uses) against the `re2` binding to Google's C++ RE2, and JavaScript's RegExp for
// reference on patterns it can run. Compile and match cost per pattern, medians in microseconds.
//
//   node bench/cel/regex-engines.ts [--re2 <path to an installed re2 package>]
//
// `re2` is not a dependency (docs/dependencies.md says why); install it somewhere else to compare:
//   mkdir /tmp/re2 && cd /tmp/re2 && npm init -y && npm install re2   (builds a native module)
//   node bench/cel/regex-engines.ts --re2 /tmp/re2/node_modules/re2
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { RE2JS } from "re2js";

const { values } = parseArgs({ options: { re2: { type: "string" } } });
type Engine = { name: string; compile(p: string): { test(s: string): boolean } };
const engines: Engine[] = [{ name: "re2js", compile: (p) => RE2JS.compile(p) }];
if (values.re2) {
  const RE2 = createRequire(import.meta.url)(values.re2) as new (p: string, flags?: string) => { test(s: string): boolean };
  engines.push({ name: "re2 (C++ binding)", compile: (p) => new RE2(p, "u") });
}
engines.push({ name: "RegExp (backtracking)", compile: (p) => new RegExp(p, "u") });

const AAA = `${"a".repeat(40)}!`;
const CASES: { pattern: string; input: string; hostile?: boolean }[] = [
  { pattern: "^NVIDIA (H100|H200)", input: "NVIDIA H100 80GB HBM3" },
  { pattern: "^gpu-[0-9]+$", input: "gpu-7" },
  { pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", input: "resource.kubernetes.io" },
  { pattern: "^(a|a)*$", input: AAA, hostile: true },
  { pattern: "(a|aa)+$", input: AAA, hostile: true },
  { pattern: "^a*a*a*a*a*a*a*a*a*a*$", input: AAA, hostile: true },
];

function median(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(20, n); i++) fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  return t.sort((a, b) => a - b)[Math.floor(n / 2)] ?? NaN;
}

const fmt = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(0));
console.log(`Node ${process.version}; median microseconds (compile / one match)\n`);
console.log(`| pattern | input | ${engines.map((e) => e.name).join(" | ")} |`);
console.log(`|---|---|${engines.map(() => "---").join("|")}|`);
for (const c of CASES) {
  const cells = engines.map((e) => {
    // Backtracking on the hostile patterns takes seconds to hours: not run.
    if (c.hostile && e.name.startsWith("RegExp")) return "not run (exponential)";
    const compile = median(() => e.compile(c.pattern), 500);
    const re = e.compile(c.pattern);
    const match = median(() => re.test(c.input), 2000);
    return `${fmt(compile)} / ${fmt(match)}`;
  });
  console.log(`| \`${c.pattern.replaceAll("|", "\\|")}\` | ${c.input.length} chars | ${cells.join(" | ")} |`);
}
