// Many small files, before against after: `hydrate` of a dataset-like repository (1-8 KiB files in directories of
// 1,000) from the hub stand-in (test/support/hf-hub-standin.ts) at several file counts, alternating two checkouts
// in one run, each run alone (docs/benchmarks.md, "Many small files: nearly flat memory").
//
//   node bench/hydrator/many-files.ts --before <checkout> [--after <checkout>] [--counts 1000,10000,40000] [--rounds 1]
//
// A checkout is a clone with `npm ci && npm run build:hydrator` done: its bin/function-model-cache.js runs with
// FMC_HYDRATOR_BUNDLE=<checkout>/dist/hydrator/main.js, as the hydrator image runs it. `--after` defaults to this
// checkout. Per run: wall seconds, CPU seconds (GNU time's %U+%S), peak RSS (%M), files per second, the 1-minute
// load average just before; and the manifest digest, which must be the same on both sides (same bytes, same
// artifact). The stand-in serves from this process on a port the OS picks. Not run by the tests.
import { spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { startHubStandin } from "../../test/support/hf-hub-standin.ts";

const { values } = parseArgs({
  options: {
    before: { type: "string" },
    after: { type: "string", default: resolve(import.meta.dirname, "../..") },
    counts: { type: "string", default: "1000,10000,40000" },
    rounds: { type: "string", default: "1" },
    dir: { type: "string", default: tmpdir() },
  },
});
if (values.before === undefined) {
  process.stderr.write("usage: node bench/hydrator/many-files.ts --before <checkout> [--after <checkout>] [--counts 1000,10000,40000] [--rounds 1]\n");
  process.exit(2);
}
const sides = [
  { name: "before", root: resolve(values.before) },
  { name: "after", root: resolve(values.after) },
];
for (const s of sides) {
  const bundle = join(s.root, "dist/hydrator/main.js");
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm ci && npm run build:hydrator in ${s.root}`);
}
const counts = values.counts.split(",").map(Number);
const rounds = Number(values.rounds);

interface Row {
  side: string;
  files: number;
  seconds: number;
  cpu: number;
  rssMiB: number;
  load: number;
  digest: string;
}

function hydrate(root: string, endpoint: string, repo: string, dest: string): Promise<Omit<Row, "side" | "files">> {
  return new Promise((done, failed) => {
    const load = loadavg()[0] as number;
    const t0 = process.hrtime.bigint();
    const args = ["-f", "TIME %M %U %S", process.execPath, join(root, "bin/function-model-cache.js"), "hydrate"];
    args.push("--source", `hf://${repo}@main`, "--endpoint", endpoint, "--dest", dest, "--progress", "none", "--output", "json");
    const child = spawn("/usr/bin/time", args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FMC_HYDRATOR_BUNDLE: join(root, "dist/hydrator/main.js") },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", failed);
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const m = /TIME (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      const digest = /"manifestDigest":"(sha256:[0-9a-f]{64})"/.exec(out)?.[1];
      if (code !== 0 || m === null || digest === undefined) return failed(new Error(`hydrate exited ${code}: ${err.slice(-2000)}`));
      done({ seconds, cpu: Number(m[2]) + Number(m[3]), rssMiB: Number(m[1]) / 1024, load, digest });
    });
  });
}

const hub = await startHubStandin();
const rows: Row[] = [];
try {
  for (const n of counts) {
    // 1,024 to 8,191 bytes each, distinct contents, 1,000 files a directory (the issue's dataset-like artifact).
    const pool = randomFillSync(Buffer.alloc(n * 64 + 8192));
    const repo = `bench/many-${n}`;
    hub.addRepo(
      repo,
      Array.from({ length: n }, (_, i) => ({
        path: `data/${String(Math.floor(i / 1000)).padStart(3, "0")}/${String(i).padStart(6, "0")}.json`,
        content: pool.subarray(i * 64, i * 64 + 1024 + ((i * 7919) % 7168)),
        lfs: false,
      })),
    );
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first, round by round.
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
        const work = await mkdtemp(join(values.dir, "fmc-many-"));
        try {
          const row = { side: s.name, files: n, ...(await hydrate(s.root, hub.endpoint, repo, join(work, "out"))) };
          rows.push(row);
          process.stderr.write(`${JSON.stringify(row)}\n`);
        } finally {
          await rm(work, { recursive: true, force: true });
        }
      }
    }
    const digests = new Set(rows.filter((x) => x.files === n).map((x) => x.digest));
    if (digests.size !== 1) throw new Error(`${n} files: the two sides published different artifacts: ${[...digests].join(", ")}`);
  }
} finally {
  await hub.stop();
}

process.stdout.write("| files | side | seconds | files/s | CPU s | peak RSS MiB | load avg (1 min) at start |\n|---|---|---|---|---|---|---|\n");
for (const x of rows) {
  process.stdout.write(
    `| ${x.files.toLocaleString("en")} | ${x.side} | ${x.seconds.toFixed(1)} | ${Math.round(x.files / x.seconds)} | ${x.cpu.toFixed(2)} | ${Math.round(x.rssMiB)} | ${x.load.toFixed(1)} |\n`,
  );
}
process.stdout.write(`manifest digests equal on both sides at every count: ${[...new Set(rows.map((x) => `${x.files}: ${x.digest}`))].join("; ")}\n`);
