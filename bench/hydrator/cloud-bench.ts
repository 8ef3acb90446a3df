// What the Cloud Storage and Azure Blob benchmarks share: the random files,
// one timed run of a tool in a process of its own, the rounds in rotated
// order (each into a fresh directory, every file checked by its SHA-256), and the
// table. Not run by the tests.
import { execFile } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";

export interface Measured {
  seconds: number;
  /** User + system CPU seconds of the tool's process tree. */
  cpuSeconds: number;
  /** Peak RSS in KiB; NaN where the tool ran inside the benchmark's own process. */
  peakKiB: number;
}

export interface Contender {
  name: string;
  /** True when the tool keeps nothing on disk (the source alone): its output is not counted. */
  noDisk?: boolean;
  run(dest: string): Promise<Measured>;
}

/** One run of `cmd` under GNU time: wall clock (ours), user+sys CPU and peak RSS (GNU time's %U, %S, %M). */
export function timed(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile(
      "/usr/bin/time",
      ["-f", "%U %S %M", cmd, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 },
      (err, _stdout, stderr) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (err) return reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-3000)}`));
        const [user, sys, peak] = (stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
        resolve({ seconds, cpuSeconds: (user ?? Number.NaN) + (sys ?? Number.NaN), peakKiB: peak ?? Number.NaN });
      },
    );
  });
}

/** A run inside this process (the source alone): wall clock and this process's CPU time over it. */
export async function inProcess(f: () => Promise<unknown>): Promise<Measured> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await f();
  const used = process.cpuUsage(cpu);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6, peakKiB: Number.NaN };
}

/**
 * What a tool left under `dest` differs from the files it was to fetch: a file missing or of other bytes (its
 * SHA-256 differs), by name wherever in the tree the tool put it; the hydrator's SHA256SUMS and manifest aside.
 */
async function wrongBytes(dest: string, files: readonly BenchFile[]): Promise<string | undefined> {
  const found = new Map<string, string>();
  for (const entry of await readdir(dest, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.set(entry.name, join(entry.parentPath, entry.name));
  }
  for (const f of files) {
    const path = found.get(f.name);
    if (path === undefined) return `${f.name} is missing`;
    const h = createHash("sha256");
    for await (const chunk of createReadStream(path, { highWaterMark: 8 * 1024 * 1024 })) h.update(chunk as Buffer);
    const got = h.digest("hex");
    if (got !== f.sha256) return `${f.name} has sha256 ${got}, not ${f.sha256} (${(await stat(path)).size} bytes)`;
  }
  return undefined;
}

export interface BenchFile {
  name: string;
  /** Hex, what every tool's copy is checked against. */
  sha256: string;
  /** Raw, for Azure's Content-MD5. */
  md5: Buffer;
}

/** `files` random files of `fileMb` MiB named as a sharded checkpoint's, with each one's SHA-256 and MD5. */
export async function makeFiles(dir: string, files: number, fileMb: number): Promise<BenchFile[]> {
  const out = [];
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < files; i++) {
    const name = `model-${String(i).padStart(5, "0")}-of-${String(files).padStart(5, "0")}.safetensors`;
    const fh = await open(join(dir, name), "w");
    const sha = createHash("sha256");
    const md5 = createHash("md5");
    for (let written = 0; written < fileMb * 1024 * 1024; written += chunk.length) {
      randomFillSync(chunk);
      sha.update(chunk);
      md5.update(chunk);
      await fh.write(chunk);
    }
    await fh.close();
    out.push({ name, sha256: sha.digest("hex"), md5: md5.digest() });
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Runs {
  seconds: number[];
  cpu: number[];
  peak: number[];
  load: number[];
}

/**
 * Every contender once per round, in an order rotated each round, into a fresh directory under `work`; a run that
 * leaves any file missing or of other bytes fails the benchmark (checked after the run, outside its time). The
 * first contender is ours, the others' times are read against it.
 */
export async function rounds(contenders: Contender[], roundCount: number, files: readonly BenchFile[], work: string): Promise<Runs[]> {
  const runs: Runs[] = contenders.map(() => ({ seconds: [], cpu: [], peak: [], load: [] }));
  for (let round = 0; round < roundCount; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + round) % contenders.length;
      const c = contenders[i] as Contender;
      const dest = join(work, `dest-${i}-${round}`);
      await mkdir(dest);
      const load = loadavg()[0] as number;
      const r = await c.run(dest);
      const wrong = c.noDisk ? undefined : await wrongBytes(dest, files);
      if (wrong !== undefined) throw new Error(`${c.name}, round ${round + 1}: ${wrong}`);
      await rm(dest, { recursive: true, force: true });
      const into = runs[i] as Runs;
      into.seconds.push(r.seconds);
      into.cpu.push(r.cpuSeconds);
      into.peak.push(r.peakKiB);
      into.load.push(load);
      process.stderr.write(`round ${round + 1}: ${c.name}: ${r.seconds.toFixed(2)} s, ${r.cpuSeconds.toFixed(2)} CPU s, load ${load.toFixed(2)}\n`);
    }
  }
  return runs;
}

/** The markdown table of medians: one row per contender, times against the first contender's. */
export function table(server: string, contenders: Contender[], runs: Runs[], total: number): string {
  const mib = total / 1024 / 1024;
  const ours = median(runs[0]?.seconds ?? []);
  const lines = [
    "| server | tool | median s | MiB/s | CPU s | peak RSS MiB | time vs hydrate | load avg (1 min) at start |",
    "|---|---|---|---|---|---|---|---|",
  ];
  contenders.forEach((c, i) => {
    const r = runs[i] as Runs;
    const t = median(r.seconds);
    const peak = median(r.peak) / 1024;
    lines.push(
      `| ${server} | ${c.name} | ${t.toFixed(2)} | ${(mib / t).toFixed(0)} | ${median(r.cpu).toFixed(2)} | ` +
        `${Number.isNaN(peak) ? "-" : peak.toFixed(0)} | ${(t / ours).toFixed(2)}x | ${r.load.map((l) => l.toFixed(1)).join(", ")} |`,
    );
  });
  return lines.join("\n");
}

/** The peer tools bench/hydrator/cloud-tools.sh found or installed, by name; a missing one maps to undefined. */
export function peerTools(): Promise<Record<string, string | undefined>> {
  return new Promise((resolve, reject) =>
    execFile("bash", [join(import.meta.dirname, "cloud-tools.sh")], { timeout: 900_000 }, (err, stdout, stderr) => {
      process.stderr.write(stderr);
      if (err) return reject(new Error(`cloud-tools.sh failed: ${err.message}`));
      const tools: Record<string, string | undefined> = {};
      for (const line of stdout.trim().split("\n")) {
        const at = line.indexOf("=");
        if (at > 0) tools[line.slice(0, at)] = line.slice(at + 1) || undefined;
      }
      resolve(tools);
    }),
  );
}

/** Seconds the machine needs for `total` bytes: one core of SHA-256, and writing them to disk with fsync. */
export async function measureMachineLimits(dir: string, total: number): Promise<{ sha256: number; disk: number }> {
  const chunk = randomFillSync(Buffer.alloc(8 * 1024 * 1024));
  let t = process.hrtime.bigint();
  const h = createHash("sha256");
  for (let done = 0; done < total; done += chunk.length) h.update(chunk);
  h.digest();
  const sha256 = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  const fh = await open(join(dir, "disk-probe"), "w");
  for (let done = 0; done < total; done += chunk.length) await fh.write(chunk);
  await fh.sync();
  await fh.close();
  const disk = Number(process.hrtime.bigint() - t) / 1e9;
  await rm(join(dir, "disk-probe"));
  return { sha256, disk };
}

/** The machine's limits for `total` bytes, as a line for the results. */
export async function machineLimits(dir: string, total: number): Promise<string> {
  const { sha256, disk } = await measureMachineLimits(dir, total);
  const mib = total / 1024 / 1024;
  return `Machine limits for the same ${mib} MiB: SHA-256 on one core ${(mib / sha256).toFixed(0)} MiB/s, disk write with fsync ${(mib / disk).toFixed(0)} MiB/s.`;
}
