// CEL selector cost: compile (cold and cached), cluster conversion, and evaluation per cluster for
// realistic DRA clusters. Prints a Markdown table for docs/benchmarks.md.
//
//   node bench/cel/selectors.ts [--quick]

import {
  clearSelectorCache,
  compileSelector,
  evaluateSelector,
  toCelCluster,
  type ClusterFactsInput,
  type CompiledSelector,
} from "../../functions/cel/index.ts";
import { h100Fleet } from "../../test/support/cel-testdata.ts";

const quick = process.argv.includes("--quick");
const SAMPLES = quick ? 200 : 2000;
const THROUGHPUT_MS = quick ? 300 : 1500;

const H100 = `device.driver == "gpu.nvidia.com" && device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100")`;
const EXPRESSIONS = {
  /** Matches on the first device: the cost of a hit. */
  match: `cluster.labels["region"] == "us-east1" && cluster.devices.exists(device, ${H100})`,
  /** Visits every device and every attribute it names: the cost of a full scan. */
  fullScan:
    `cluster.devices.filter(device, ${H100} && device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("80G")) >= 0 && ` +
    `device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan(semver("570.0.0"))).size() >= 100000`,
  /** A node with 8 H100s: pools, then their devices. */
  perNode: `cluster.pools.exists(pool, pool.devices.filter(device, ${H100}).size() >= 9)`,
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Median and p99 of one operation, in microseconds. */
function sample(fn: () => void, n = SAMPLES): { median: number; p99: number } {
  for (let i = 0; i < Math.min(50, n); i++) fn(); // warm the JIT
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  t.sort((a, b) => a - b);
  return { median: percentile(t, 50), p99: percentile(t, 99) };
}

function perSecond(fn: () => void): number {
  const end = performance.now() + THROUGHPUT_MS;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
  }
  return n / ((performance.now() - start) / 1000);
}

function compiled(expr: string): CompiledSelector {
  const c = compileSelector(expr);
  if (!c.ok) throw new Error(c.error.message);
  return c.program;
}

const us = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const fmt = (t: { median: number; p99: number }) => `${us(t.median)} / ${us(t.p99)}`;
const rate = (n: number) => `${Math.round(n).toLocaleString("en-US")}/s`;

// Compile: cold means parse + type check + regex and cost checks on a cache miss.
const compileRows: string[] = [];
for (const [name, expr] of Object.entries(EXPRESSIONS)) {
  const cold = sample(() => {
    clearSelectorCache();
    compiled(expr);
  });
  const warm = sample(() => compiled(expr));
  compileRows.push(`| \`${name}\` | ${expr.length} | ${compiled(expr).estimatedCost.toLocaleString("en-US")} | ${fmt(cold)} | ${fmt(warm)} |`);
}

const clusters: [string, ClusterFactsInput][] = [
  ["16 pools x 8 H100 (128 devices)", h100Fleet("h100-128", 16)],
  ["24 pools x 8 H100 (192 devices)", h100Fleet("h100-192", 24)],
];
const evalRows: string[] = [];
for (const [label, facts] of clusters) {
  const conv = sample(
    () => {
      if (!toCelCluster(facts).ok) throw new Error("conversion failed");
    },
    Math.min(SAMPLES, 500),
  );
  evalRows.push(`| ${label} | toCelCluster (once per cluster) | | ${fmt(conv)} | ${rate(perSecond(() => toCelCluster(facts)))} |`);
  const c = toCelCluster(facts);
  if (!c.ok) throw new Error(c.error.message);
  const cluster = c.cluster;
  for (const [name, expr] of Object.entries(EXPRESSIONS)) {
    const p = compiled(expr);
    const r = evaluateSelector(p, cluster);
    if (!r.ok) throw new Error(r.error.message);
    const t = sample(() => evaluateSelector(p, cluster));
    evalRows.push(`| ${label} | evaluate \`${name}\` | ${r.value} | ${fmt(t)} | ${rate(perSecond(() => evaluateSelector(p, cluster)))} |`);
  }
}

console.log(`Node ${process.version}, ${SAMPLES} samples per figure; times in microseconds, median / p99.\n`);
console.log("| expression | chars | estimated cost | cold compile | cached compile |");
console.log("|---|---|---|---|---|");
for (const r of compileRows) console.log(r);
console.log("\n| cluster | operation | selected | per cluster | throughput |");
console.log("|---|---|---|---|---|");
for (const r of evalRows) console.log(r);
console.log("\nExpressions:");
for (const [name, expr] of Object.entries(EXPRESSIONS)) console.log(`- \`${name}\`: \`${expr}\``);
