// Where the hydrator's time goes: one `hydrate --files` from nginx on loopback
// under `node --cpu-prof`, and the profile's top self-time functions as a
// markdown table (the figure in docs/benchmarks.md, "Hydrator: CPU profile").
//
//   node bench/hydrator/profile.ts            # FMC_BENCH_FILES (4), FMC_BENCH_FILE_MB (256), FMC_BENCH_TOP (15)
//   FMC_BENCH_BIN=/path/to/other/checkout/bin/function-model-cache.js node bench/hydrator/profile.ts
//                                             # the same run with another checkout (the "before" column)
//   node bench/hydrator/profile.ts --table x.cpuprofile   # only the table of an existing profile
//   FMC_BENCH_NODE_ARGS="--trace-gc" ...      # Node flags for the measured process
//
// Self time is what the sampling profiler saw executing in the function itself (not its callees), so the
// hot spots of the hot path stand out: hashing, copies, stream plumbing, the garbage collector. Not run by the
// tests.
import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { BIN } from "../../test/support/function-server.ts";
import { startNginx } from "../../test/support/nginx.ts";

const FILES = Number(process.env["FMC_BENCH_FILES"] ?? 4);
const FILE_MB = Number(process.env["FMC_BENCH_FILE_MB"] ?? 256);
const TOP = Number(process.env["FMC_BENCH_TOP"] ?? 15);
const HYDRATOR = process.env["FMC_BENCH_BIN"] ?? BIN;
const MiB = 1024 * 1024;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time per function (name, file, line), largest first, as markdown rows. */
export function topSelfTime(profile: CpuProfile, top: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const n = byId.get(id);
    if (n === undefined) return;
    const f = n.callFrame;
    const where = f.url === "" ? "" : `${basename(f.url)}:${f.lineNumber + 1}`;
    const key = `${f.functionName || "(anonymous)"}\t${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const idle = [...self.entries()].filter(([k]) => k.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const out = [
    `Sampled ${(total / 1e6).toFixed(2)} s, of which busy (not idle) ${((total - idle) / 1e6).toFixed(2)} s.`,
    "",
    "| self ms | % of busy | function | where |",
    "|---|---|---|---|",
  ];
  for (const [k, v] of rows) {
    const [name, where] = k.split("\t");
    const pct = k.startsWith("(idle)") ? "-" : `${((100 * v) / Math.max(1, total - idle)).toFixed(1)}%`;
    out.push(`| ${(v / 1000).toFixed(0)} | ${pct} | \`${name}\` | ${where ? `\`${where}\`` : ""} |`);
  }
  return out;
}

function run(cmd: string, args: string[]): Promise<{ seconds: number; cpu: number; user: number; sys: number; peakKiB: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn("/usr/bin/time", ["-f", "%M %U %S", cmd, ...args], {
      stdio: ["ignore", process.env["FMC_BENCH_STDOUT"] ? "inherit" : "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${err}`));
      const [m, u, s] = (err.trim().split("\n").pop() ?? "").split(" ").map(Number);
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (u ?? 0) + (s ?? 0), user: u ?? 0, sys: s ?? 0, peakKiB: m ?? 0 });
    });
  });
}

async function main(): Promise<void> {
  const tableOnly = process.argv.indexOf("--table");
  if (tableOnly >= 0) {
    const p = JSON.parse(await readFile(process.argv[tableOnly + 1] as string, "utf8")) as CpuProfile;
    process.stdout.write(`${topSelfTime(p, TOP).join("\n")}\n`);
    return;
  }
  const work = await mkdtemp(join(process.env["FMC_BENCH_DIR"] ?? tmpdir(), "fmc-bench-prof-"));
  const src = join(work, "src");
  await mkdir(src);
  const nginx = await startNginx(src, { accessLog: false });
  try {
    const block = randomFillSync(Buffer.alloc(Math.min(FILE_MB, 64) * MiB));
    const files = [];
    for (let i = 0; i < FILES; i++) {
      randomFillSync(block, 0, 4096);
      const name = `model-${i + 1}.safetensors`;
      const fh = await open(join(src, name), "w");
      const h = createHash("sha256");
      for (let done = 0; done < FILE_MB * MiB; done += block.length) {
        const b = block.subarray(0, Math.min(block.length, FILE_MB * MiB - done));
        h.update(b);
        await fh.write(b);
      }
      await fh.close();
      files.push({ url: `${nginx.url}/${name}`, path: name, sha256: h.digest("hex") });
    }
    await writeFile(join(work, "files.json"), JSON.stringify(files));
    const profDir = join(work, "prof");
    const r = await run(process.execPath, [
      ...(process.env["FMC_BENCH_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== ""),
      "--cpu-prof",
      `--cpu-prof-dir=${profDir}`,
      HYDRATOR,
      "hydrate",
      "--files",
      join(work, "files.json"),
      "--dest",
      join(work, "dest"),
      "--progress",
      "none",
    ]);
    const [name] = (await readdir(profDir)).filter((f) => f.endsWith(".cpuprofile"));
    if (name === undefined) throw new Error("no profile written");
    const profile = JSON.parse(await readFile(join(profDir, name), "utf8")) as CpuProfile;
    const keep = process.env["FMC_BENCH_KEEP_PROFILE"];
    if (keep) await writeFile(keep, JSON.stringify(profile));
    const mib = FILES * FILE_MB;
    process.stdout.write(
      [
        `${HYDRATOR === BIN ? "this checkout" : HYDRATOR}: ${FILES} x ${FILE_MB} MiB from nginx, ${r.seconds.toFixed(2)} s (${(mib / r.seconds).toFixed(0)} MiB/s), ` +
          `${r.cpu.toFixed(2)} CPU s (${(r.cpu / (mib / 1024)).toFixed(2)} per GiB; user ${r.user.toFixed(2)}, system ${r.sys.toFixed(2)}), load ${loadavg()[0]?.toFixed(1)}, peak RSS ${(r.peakKiB / 1024).toFixed(0)} MiB; Node ${process.version}.`,
        "",
        ...topSelfTime(profile, TOP),
        "",
      ].join("\n"),
    );
  } finally {
    await nginx.stop();
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
