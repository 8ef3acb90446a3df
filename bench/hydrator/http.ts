// Throughput of `function-model-cache hydrate` from nginx on loopback, side by
// side in one run with `curl` on the same files and with the machine's limits
// measured on the same bytes (disk write with fsync by `dd`, SHA-256 by
// `sha256sum` and by Node's crypto); then the hydrator's peak RSS and
// throughput while it fetches one large file (10 GiB by default).
//
//   bash bench/hydrator/http.sh   # FMC_BENCH_FILES, FMC_BENCH_FILE_MB, FMC_BENCH_ROUNDS, FMC_BENCH_BIG_MB, FMC_BENCH_DIR
//
// Every contender runs once per round, in a rotated order, into a fresh
// directory; the tables show medians. nginx and the limit probes read the
// source files from the page cache (they were just written) for every
// contender alike. Not run by the tests.
import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, stat, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHttpSource } from "../../functions/hydrator/sources/http.ts";
import type { Source } from "../../functions/hydrator/sources/types.ts";
import { readSourceWhole } from "./source-only.ts";
import { BIN } from "../../test/support/function-server.ts";
import { startNginx, type Nginx } from "../../test/support/nginx.ts";

const FILES = Number(process.env["FMC_BENCH_FILES"] ?? 4);
const FILE_MB = Number(process.env["FMC_BENCH_FILE_MB"] ?? 256);
const ROUNDS = Number(process.env["FMC_BENCH_ROUNDS"] ?? 5);
const BIG_MB = Number(process.env["FMC_BENCH_BIG_MB"] ?? 10240);
const BASE = process.env["FMC_BENCH_DIR"] ?? tmpdir();
const MiB = 1024 * 1024;
const TOTAL = FILES * FILE_MB * MiB;

interface Run {
  seconds: number;
  /** GNU time's %M: the largest resident set of the process tree's members, KiB. */
  peakKiB: number;
  /** GNU time's %U + %S: CPU seconds, user and system, of the process and its children. */
  cpuSeconds: number;
  stdout: string;
}

/** Runs `cmd` under GNU time; `onLine` sees stdout line by line; `onChild` gets the measured process's pid. */
function run(cmd: string, args: string[], opts: { cwd?: string; onLine?: (line: string) => void; onChild?: (pid: number) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn("/usr/bin/time", ["-f", "%M %U %S", cmd, ...args], { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let partial = "";
    child.stdout.on("data", (d: Buffer) => {
      const s = d.toString();
      if (out.length < 1 << 20) out += s;
      if (opts.onLine) {
        const lines = (partial + s).split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) opts.onLine(l);
      }
    });
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    if (opts.onChild && child.pid !== undefined) {
      const timePid = child.pid;
      // GNU time forks the command: its one child is the process we measure.
      const find = setInterval(() => {
        try {
          const kids = readFileSync(`/proc/${timePid}/task/${timePid}/children`, "utf8").trim();
          if (kids !== "") {
            clearInterval(find);
            opts.onChild?.(Number(kids.split(" ")[0]));
          }
        } catch {
          clearInterval(find);
        }
      }, 20);
      child.on("exit", () => clearInterval(find));
    }
    child.on("error", reject);
    child.on("exit", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${err.slice(-4000)}`));
      const [peak, user, sys] = (err.trim().split("\n").pop() ?? "").split(" ").map(Number);
      resolve({ seconds, peakKiB: peak ?? Number.NaN, cpuSeconds: (user ?? Number.NaN) + (sys ?? Number.NaN), stdout: out });
    });
  });
}

/** Writes `count` files of `mb` MiB (a random 64 MiB block, repeated) and returns their names and sha256. */
async function makeFiles(dir: string, prefix: string, count: number, mb: number): Promise<{ name: string; sha256: string }[]> {
  const out = [];
  const block = randomFillSync(Buffer.alloc(Math.min(mb, 64) * MiB));
  for (let i = 0; i < count; i++) {
    // Each file differs from the others in its first block.
    randomFillSync(block, 0, 4096);
    const name = `${prefix}-${String(i + 1).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.safetensors`;
    const fh = await open(join(dir, name), "w");
    const h = createHash("sha256");
    for (let written = 0; written < mb * MiB; written += block.length) {
      const b = block.subarray(0, Math.min(block.length, mb * MiB - written));
      h.update(b);
      await fh.write(b);
    }
    await fh.close();
    out.push({ name, sha256: h.digest("hex") });
  }
  return out;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name !== "SHA256SUMS" && !entry.name.endsWith(".json") && !entry.name.endsWith(".sha256")) {
      total += (await stat(join(entry.parentPath, entry.name))).size;
    }
  }
  return total;
}

/** The http source alone: list, then read every file whole in parallel and hash it; no disk, in this process. */
async function sourceOnly(src: Source): Promise<Run> {
  return { seconds: await readSourceWhole(src), peakKiB: Number.NaN, cpuSeconds: Number.NaN, stdout: "" };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Node's crypto over files, 1 MiB reads from the page cache, as a child process (like sha256sum). */
const NODE_SHA256 = `
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
const buf = Buffer.allocUnsafe(1 << 20);
for (const f of process.argv.slice(1)) {
  const h = createHash("sha256"); const fd = openSync(f, "r"); let n;
  while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  closeSync(fd); process.stdout.write(h.digest("hex") + "  " + f + "\\n");
}`;

interface Contender {
  name: string;
  group: "tool" | "limit";
  /** What it guarantees, for the table. */
  does: string;
  run(dest: string): Promise<Run>;
  /** Bytes it must leave in `dest` (undefined: it writes nothing there). */
  writes: boolean;
}

async function throughput(nginx: Nginx, work: string, src: string, files: { name: string; sha256: string }[]): Promise<string[]> {
  const filesJson = join(work, "files.json");
  await writeFile(filesJson, JSON.stringify(files.map((f) => ({ url: `${nginx.url}/${f.name}`, path: f.name, sha256: f.sha256 }))));
  const sums = join(work, "SHA256SUMS.expected");
  await writeFile(sums, files.map((f) => `${f.sha256}  ${f.name}\n`).join(""));
  const srcPaths = files.map((f) => join(src, f.name));
  const curlArgs = ["-sS", "--fail", "--parallel", "--parallel-max", String(FILES), ...files.flatMap((f) => ["-o", f.name, `${nginx.url}/${f.name}`])];
  const contenders: Contender[] = [
    {
      name: "`function-model-cache hydrate --files`",
      group: "tool",
      does: "ranged 16 MiB chunks x 8, fdatasync per chunk, sha256 checked, published",
      writes: true,
      run: (dest) => run(process.execPath, [BIN, "hydrate", "--files", filesJson, "--dest", dest, "--progress", "json"]),
    },
    {
      name: "`function-model-cache hydrate --help`",
      group: "tool",
      does: "start-up only: load the program and exit (part of every hydrate run)",
      writes: false,
      run: () => run(process.execPath, [BIN, "hydrate", "--help"]),
    },
    {
      name: "`http://` source alone",
      group: "tool",
      does: "list + read every file whole in parallel + sha256, no disk (in the bench process)",
      writes: false,
      run: () => {
        const s = createHttpSource(files.map((f) => ({ url: `${nginx.url}/${f.name}`, path: f.name, sha256: f.sha256 })));
        if (!s.ok) throw new Error(s.error);
        return sourceOnly(s.value);
      },
    },
    {
      name: "`curl --parallel`",
      group: "tool",
      does: `${FILES} transfers at once, no fsync, no check`,
      writes: true,
      run: (dest) => run("curl", curlArgs, { cwd: dest }),
    },
    {
      name: "`curl --parallel` then `sha256sum -c`",
      group: "tool",
      does: "the same, then every file checked (the seeding flow by hand)",
      writes: true,
      run: (dest) => run("bash", ["-c", 'curl "$@" && sha256sum -c --quiet "$0"', sums, ...curlArgs], { cwd: dest }),
    },
    {
      name: "`dd conv=fsync` (disk write)",
      group: "limit",
      does: "copy the same files from the page cache, 1 MiB blocks, fsync each",
      writes: true,
      run: (dest) =>
        run("bash", ["-c", 'for f in "$@"; do dd if="$f" of="$(basename "$f")" bs=1M conv=fsync status=none || exit 1; done', "dd", ...srcPaths], {
          cwd: dest,
        }),
    },
    {
      name: "`sha256sum` (SHA-256, one core)",
      group: "limit",
      does: "hash the same files from the page cache",
      writes: false,
      run: () => run("sha256sum", srcPaths),
    },
    {
      name: "Node `crypto` SHA-256 (one core)",
      group: "limit",
      does: "hash the same files from the page cache, 1 MiB reads",
      writes: false,
      run: () => run(process.execPath, ["-e", NODE_SHA256, ...srcPaths]),
    },
  ];
  const times = new Map<number, number[]>();
  const peaks = new Map<number, number[]>();
  const cpus = new Map<number, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length;
      const c = contenders[i] as Contender;
      const dest = join(work, `dest-${i}-${round}`);
      await mkdir(dest);
      const r = await c.run(dest);
      if (c.writes) {
        const got = await treeBytes(dest);
        if (got !== TOTAL) throw new Error(`${c.name} left ${got} bytes, not ${TOTAL}`);
      }
      await rm(dest, { recursive: true, force: true });
      times.set(i, [...(times.get(i) ?? []), r.seconds]);
      peaks.set(i, [...(peaks.get(i) ?? []), r.peakKiB]);
      cpus.set(i, [...(cpus.get(i) ?? []), r.cpuSeconds]);
      process.stderr.write(`round ${round + 1}: ${c.name}: ${r.seconds.toFixed(2)} s\n`);
    }
  }
  const mib = TOTAL / MiB;
  const ours = median(times.get(0) ?? []);
  const lines = [
    `${FILES} files x ${FILE_MB} MiB (${mib} MiB), ${ROUNDS} rounds, loopback, medians; Node ${process.version}.`,
    "",
    "| | contender | what it does | median s | MiB/s | CPU s (user+sys) | peak RSS MiB | time vs hydrate |",
    "|---|---|---|---|---|---|---|---|",
  ];
  contenders.forEach((c, i) => {
    const t = median(times.get(i) ?? []);
    const peak = median(peaks.get(i) ?? []) / 1024;
    const cpu = median(cpus.get(i) ?? []);
    lines.push(
      `| ${c.group} | ${c.name} | ${c.does} | ${t.toFixed(2)} | ${c.name.includes("--help") ? "-" : (mib / t).toFixed(0)} | ${Number.isNaN(cpu) ? "-" : cpu.toFixed(2)} | ${Number.isNaN(peak) ? "-" : peak.toFixed(0)} | ${(t / ours).toFixed(2)}x |`,
    );
  });
  lines.push(
    "",
    `Every round (seconds), in contender order: ${contenders.map((c, i) => `${c.name.replace(/`/g, "")}: ${(times.get(i) ?? []).map((t) => t.toFixed(2)).join(" ")}`).join("; ")}`,
  );
  return lines;
}

/** The hydrator on one large file: peak RSS (GNU time), an RSS timeline against bytes done, throughput; curl once beside it. */
async function bigFile(nginx: Nginx, work: string, src: string): Promise<string[]> {
  const bytes = BIG_MB * MiB;
  const fs = await statfs(work);
  const free = Number(fs.bavail) * Number(fs.bsize);
  if (free < 2 * bytes + 4096 * MiB)
    throw new Error(`the large-file run needs ${(2 * bytes) / MiB + 4096} MiB free in ${work}, ${Math.floor(free / MiB)} MiB available`);
  process.stderr.write(`writing one ${BIG_MB} MiB file\n`);
  const [big] = await makeFiles(src, "big", 1, BIG_MB);
  if (big === undefined) throw new Error("no large file");
  const url = `${nginx.url}/${big.name}`;
  const lines = [`One file of ${BIG_MB} MiB (${(bytes / 1e9).toFixed(1)} GB), served by the same nginx; one run each.`, ""];
  const samples: { t: number; rssKiB: number; hwmKiB: number; done: number }[] = [];
  let done = 0;
  let pid: number | undefined;
  // read(2) bytes of any kind (rchar) and from the block device (read_bytes), last seen before exit.
  let io = "";
  const t0 = Date.now();
  const poll = setInterval(() => {
    if (pid === undefined) return;
    try {
      const st = readFileSync(`/proc/${pid}/status`, "utf8");
      const rss = Number(/VmRSS:\s+(\d+)/.exec(st)?.[1] ?? Number.NaN);
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(st)?.[1] ?? Number.NaN);
      samples.push({ t: Date.now() - t0, rssKiB: rss, hwmKiB: hwm, done });
      io = readFileSync(`/proc/${pid}/io`, "utf8");
    } catch {
      // exited
    }
  }, 250);
  const dest = join(work, "dest-big");
  await mkdir(dest);
  let r: Run;
  try {
    r = await run(process.execPath, [BIN, "hydrate", "--source", url, "--sha256", big.sha256, "--dest", dest, "--progress", "json"], {
      onChild: (p) => (pid = p),
      onLine: (l) => {
        if (!l.startsWith("{")) return;
        const j = JSON.parse(l) as { event?: string; bytesDone?: number };
        if (j.event === "progress" && typeof j.bytesDone === "number") done = j.bytesDone;
      },
    });
  } finally {
    clearInterval(poll);
  }
  const got = await treeBytes(dest);
  await rm(dest, { recursive: true, force: true });
  if (got !== bytes) throw new Error(`hydrate left ${got} bytes, not ${bytes}`);
  const at = (share: number): string => {
    const s = samples.find((x) => x.done >= share * bytes);
    return s === undefined ? "-" : (s.rssKiB / 1024).toFixed(0);
  };
  const maxRss = Math.max(...samples.map((s) => s.rssKiB).filter((x) => !Number.isNaN(x)));
  const ioField = (k: string): number => Number(new RegExp(`^${k}: (\\d+)`, "m").exec(io)?.[1] ?? Number.NaN);
  // rchar counts the socket reads (the file once) plus every read of a file: what is left was read back from staging.
  const reread = ioField("rchar") - bytes;
  const dest2 = join(work, "dest-big-curl");
  await mkdir(dest2);
  const c = await run("curl", ["-sS", "--fail", "-o", big.name, url], { cwd: dest2 });
  await rm(dest2, { recursive: true, force: true });
  lines.push(
    "| contender | seconds | MiB/s | CPU s (user+sys) | peak RSS MiB (GNU time) | RSS MiB at 1/4, 1/2, 3/4 of the bytes | largest RSS sample MiB |",
    "|---|---|---|---|---|---|---|",
    `| \`function-model-cache hydrate --source <url> --sha256 <hex>\` | ${r.seconds.toFixed(1)} | ${(BIG_MB / r.seconds).toFixed(0)} | ${r.cpuSeconds.toFixed(1)} | ${(r.peakKiB / 1024).toFixed(0)} | ${at(0.25)}, ${at(0.5)}, ${at(0.75)} | ${(maxRss / 1024).toFixed(0)} |`,
    `| \`curl -o\` (one connection, no fsync, no check) | ${c.seconds.toFixed(1)} | ${(BIG_MB / c.seconds).toFixed(0)} | ${c.cpuSeconds.toFixed(1)} | ${(c.peakKiB / 1024).toFixed(0)} | - | - |`,
    "",
    `Read back from staging to hash (read(2) bytes beyond the file's own, from /proc/<pid>/io near the end): ${(reread / MiB).toFixed(0)} MiB of ${BIG_MB} MiB; from the block device: ${(ioField("read_bytes") / MiB).toFixed(0)} MiB.`,
    "",
    `RSS samples (every 250 ms, MiB): ${samples
      .filter((_, i) => i % Math.max(1, Math.floor(samples.length / 24)) === 0)
      .map((s) => `${(s.t / 1000).toFixed(0)}s:${(s.rssKiB / 1024).toFixed(0)}`)
      .join(" ")}`,
  );
  await rm(join(src, big.name), { force: true });
  return lines;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(BASE, "fmc-bench-http-"));
  let nginx: Nginx | undefined;
  try {
    const src = join(work, "src");
    await mkdir(src);
    nginx = await startNginx(src, { accessLog: false });
    const out: string[] = [];
    if (FILES > 0 && ROUNDS > 0) {
      process.stderr.write(`writing ${FILES} x ${FILE_MB} MiB of random data\n`);
      const files = await makeFiles(src, "model", FILES, FILE_MB);
      out.push(...(await throughput(nginx, work, src, files)));
      for (const f of files) await rm(join(src, f.name), { force: true });
    }
    if (BIG_MB > 0) out.push("", ...(await bigFile(nginx, work, src)));
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    await nginx?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
