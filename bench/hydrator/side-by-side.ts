// The hydrator against every server kind and the tool a user would use instead, in one run, next to the machine's
// limits measured on the same bytes (docs/benchmarks.md, "Hydrator: side by side").
//
//   bash bench/hydrator/side-by-side.sh
//     FMC_BENCH_SECTIONS   which parts, comma-separated: limits,set,big,hub,many (default all)
//     FMC_BENCH_FILES (4) x FMC_BENCH_FILE_MB (256)   the "set" of files; FMC_BENCH_ROUNDS (3) rounds, rotated order
//     FMC_BENCH_BIG_MB (10240)     the one large file (HTTP, S3, OCI; one run each)
//     FMC_BENCH_HUB_MAX_MB (5120)  the hub-scale artifact: 50 files from 1 KiB to this, geometric
//     FMC_BENCH_MANY (40000)       the dataset-like artifact: this many files of 1-8 KiB
//     FMC_BENCH_DIR                the volume (default the temp dir)
//     FMC_BENCH_SERVERS            only these servers' rows, e.g. "OCI" or "HTTP,machine" (default all)
//     FMC_BENCH_BEFORE             another checkout's bin/function-model-cache.js, run beside this one's (before/after)
//     FMC_BENCH_BEFORE_BUNDLE      that checkout's dist/hydrator/main.js (its FMC_HYDRATOR_BUNDLE); unset, the
//                                  before runs from its sources, never from this checkout's bundle
//
// Servers: nginx (Debian's), versitygw (S3), CNCF Distribution (OCI, pushed with oras) and the project's hub
// stand-in (test/support/hf-hub-standin.ts), all on loopback. Peers: `curl --parallel` (and then `sha256sum -c`),
// `s5cmd cp`, `oras pull`, `huggingface_hub.snapshot_download`, and a minimal Node program (undici request,
// SHA-256, positional writes, one fsync per file: what Node itself allows, without the engine). Limits: `dd
// conv=fsync` (disk write), Node's SHA-256 on one core and on every core. CPU seconds and peak RSS are GNU time's
// `%U+%S` and `%M` of each contender's process tree; the load average is read before each run. Not run by the tests.
import { execFile, spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { BIN } from "../../test/support/function-server.ts";
import { startHubStandin, type HubStandin, type RepoFile } from "../../test/support/hf-hub-standin.ts";
import { startNginx, type Nginx } from "../../test/support/nginx.ts";
import { startRegistry, type Registry } from "../../test/support/registry.ts";
import { ensureTool, startS3Server, type S3Server } from "../../test/support/s3-server.ts";

const env = process.env;
const SECTIONS = new Set((env["FMC_BENCH_SECTIONS"] ?? "limits,set,big,hub,many").split(","));
const FILES = Number(env["FMC_BENCH_FILES"] ?? 4);
const FILE_MB = Number(env["FMC_BENCH_FILE_MB"] ?? 256);
const ROUNDS = Number(env["FMC_BENCH_ROUNDS"] ?? 3);
const BIG_MB = Number(env["FMC_BENCH_BIG_MB"] ?? 10240);
const HUB_MAX_MB = Number(env["FMC_BENCH_HUB_MAX_MB"] ?? 5120);
const MANY = Number(env["FMC_BENCH_MANY"] ?? 40000);
const MiB = 1024 * 1024;
/** Another checkout's bin/function-model-cache.js: its `hydrate` rows run beside this one's, in the same rounds (before/after). */
const BEFORE = env["FMC_BENCH_BEFORE"];

/** Random bytes in memory, filled a GiB at a time: randomFillSync aborts the process (a failed assertion in Node 24) on 4 GiB or more at once. */
function randomPool(bytes: number): Buffer {
  const pool = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += 1 << 30) randomFillSync(pool.subarray(at, at + (1 << 30)));
  return pool;
}

/**
 * The environment of a `hydrate` run by `bin`: the BEFORE checkout gets its own bundle (FMC_BENCH_BEFORE_BUNDLE)
 * or none, never this checkout's FMC_HYDRATOR_BUNDLE (which would make "before" run this code).
 */
function bundleEnv(bin: string): Record<string, string> {
  return bin === BEFORE ? { FMC_HYDRATOR_BUNDLE: env["FMC_BENCH_BEFORE_BUNDLE"] ?? "" } : {};
}

/** Each `hydrate` contender, and the same with the BEFORE checkout when one is given. */
function withBefore(cs: Contender[]): Contender[] {
  if (BEFORE === undefined) return cs;
  return cs.flatMap((c) => (c.hydrate ? [c, { ...c, name: `${c.name} (before)`, run: (d: string) => c.hydrate?.(BEFORE, d) as Promise<Run> }] : [c]));
}

interface Run {
  seconds: number;
  cpu: number;
  peakKiB: number;
  load: number;
}

function run(cmd: string, args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const load = loadavg()[0] as number;
    const t0 = process.hrtime.bigint();
    const child = spawn("/usr/bin/time", ["-f", "%M %U %S", cmd, ...args], {
      cwd: o.cwd,
      env: { ...process.env, ...(o.env ?? {}) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    child.on("error", reject);
    child.on("exit", (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.slice(0, 6).join(" ")} exited ${code}:\n${err.slice(-3000)}`));
      const [m, u, s] = (err.trim().split("\n").pop() ?? "").split(" ").map(Number);
      resolve({ seconds, cpu: (u ?? NaN) + (s ?? NaN), peakKiB: m ?? NaN, load });
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function treeBytes(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name === "SHA256SUMS" || e.parentPath.includes(".model-cache") || e.parentPath.includes(".cache")) continue;
    bytes += (await stat(join(e.parentPath, e.name))).size;
    files++;
  }
  return { bytes, files };
}

/** Random files from one random block (each file's first 4 KiB differ); returns name and sha256 (hex, base64). */
async function makeFiles(dir: string, prefix: string, sizes: number[]): Promise<{ name: string; size: number; hex: string; b64: string }[]> {
  const block = randomFillSync(Buffer.alloc(64 * MiB));
  const out = [];
  for (const [i, size] of sizes.entries()) {
    randomFillSync(block, 0, 4096);
    const name = `${prefix}-${String(i + 1).padStart(5, "0")}-of-${String(sizes.length).padStart(5, "0")}.safetensors`;
    const fh = await open(join(dir, name), "w");
    const h = createHash("sha256");
    for (let done = 0; done < size; done += block.length) {
      const b = block.subarray(0, Math.min(block.length, size - done));
      h.update(b);
      await fh.write(b);
    }
    await fh.close();
    const d = h.digest();
    out.push({ name, size, hex: d.toString("hex"), b64: d.toString("base64") });
  }
  return out;
}

/** Node's floor: undici request per file (all at once), SHA-256 as bytes arrive, positional writes, one fsync per file, no engine. */
const NODE_MINIMAL = `
const { request } = require("undici");
const { createHash } = require("node:crypto");
const { open } = require("node:fs/promises");
const [dest, ...urls] = process.argv.slice(1);
Promise.all(urls.map(async (u) => {
  const fh = await open(dest + "/" + u.split("/").pop(), "w");
  const h = createHash("sha256");
  const { body } = await request(u);
  let pos = 0;
  for await (const b of body) { h.update(b); await fh.write(b, 0, b.length, pos); pos += b.length; }
  await fh.sync(); await fh.close();
  return h.digest("hex");
})).then((d) => process.stdout.write(d.join("\\n") + "\\n"));`;

/** SHA-256 of the given files from the page cache, 1 MiB reads, in this many processes at once. */
const NODE_SHA = `
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
const buf = Buffer.allocUnsafe(1 << 20);
for (const f of process.argv.slice(1)) {
  const h = createHash("sha256"); const fd = openSync(f, "r"); let n;
  while ((n = readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  closeSync(fd);
}`;

interface Contender {
  section: string;
  server: string;
  name: string;
  /** Bytes and files it must leave in its directory (undefined: writes nothing checked). */
  expect?: { bytes: number; files: number };
  run(dest: string): Promise<Run>;
  /** For `hydrate` rows: the same run with another checkout's program. */
  hydrate?: (bin: string, dest: string) => Promise<Run>;
}

interface Row {
  c: Contender;
  runs: Run[];
  bytes: number;
  files: number;
}

function table(rows: Row[], title: string): string[] {
  const lines = [
    title,
    "",
    "| server | contender | runs | median s | MiB/s | files/s | CPU s | CPU s per GiB | peak RSS MiB | load avg (1 min) at start |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const t = median(r.runs.map((x) => x.seconds));
    const cpu = median(r.runs.map((x) => x.cpu));
    const peak = median(r.runs.map((x) => x.peakKiB)) / 1024;
    lines.push(
      `| ${r.c.server} | ${r.c.name} | ${r.runs.length} | ${t.toFixed(2)} | ${(r.bytes / MiB / t).toFixed(r.bytes / MiB / t < 10 ? 1 : 0)} | ${r.files > 1 ? (r.files / t).toFixed(0) : "-"} | ${cpu.toFixed(2)} | ${(cpu / (r.bytes / 1024 / MiB)).toFixed(2)} | ${peak.toFixed(0)} | ${r.runs.map((x) => x.load.toFixed(1)).join(", ")} |`,
    );
  }
  return lines;
}

/** FMC_BENCH_SERVERS=OCI,machine: only the rows of servers whose name contains one of these (and only they are loaded). */
function wanted(server: string): boolean {
  const only = env["FMC_BENCH_SERVERS"]?.split(",");
  return only === undefined || only.some((o) => server.includes(o));
}

async function measure(work: string, all: Contender[], rounds: number, bytes: number, files: number): Promise<Row[]> {
  const contenders = all.filter((c) => wanted(c.server));
  const rows: Row[] = contenders.map((c) => ({ c, runs: [], bytes, files }));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < rows.length; k++) {
      const row = rows[(k + round) % rows.length] as Row;
      const dest = join(work, `dest-${k}-${round}`);
      await mkdir(dest);
      const r = await row.c.run(dest);
      if (row.c.expect) {
        const got = await treeBytes(dest);
        if (got.bytes !== row.c.expect.bytes || got.files !== row.c.expect.files)
          throw new Error(`${row.c.server} ${row.c.name} left ${got.files} files, ${got.bytes} bytes; expected ${row.c.expect.files}, ${row.c.expect.bytes}`);
      }
      await rm(dest, { recursive: true, force: true });
      row.runs.push(r);
      process.stderr.write(
        `${row.c.server} ${row.c.name}: ${r.seconds.toFixed(2)} s, ${r.cpu.toFixed(2)} CPU s, ${(r.peakKiB / 1024).toFixed(0)} MiB, load ${r.load.toFixed(1)}\n`,
      );
    }
  }
  return rows;
}

interface Servers {
  nginx: Nginx;
  s3: S3Server;
  reg: Registry;
  hub: HubStandin;
  s5cmd: string;
  oras: string;
  python: string;
}

/**
 * Puts the files on every server measured: served by nginx from `src`, uploaded to S3 with their SHA256, pushed
 * with oras (the hub is the caller's). A server left out by FMC_BENCH_SERVERS gets nothing (versitygw refuses one
 * PUT over 5 GiB: FMC_BENCH_SERVERS=HTTP for a 10 GiB file).
 */
async function publishEverywhere(sv: Servers, src: string, files: { name: string; size: number; b64: string }[], tag: string): Promise<void> {
  if (wanted("S3 (versitygw)")) await uploadToS3(sv, src, files, tag);
  if (wanted("OCI (Distribution)")) await sv.reg.oras(["push", `${sv.reg.host}/bench/${tag}:v1`, ...files.map((f) => f.name)], src);
}

async function uploadToS3(sv: Servers, src: string, files: { name: string; size: number; b64: string }[], tag: string): Promise<void> {
  const client = new S3Client({
    endpoint: sv.s3.endpoint,
    region: sv.s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: sv.s3.accessKeyId, secretAccessKey: sv.s3.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: tag })).catch(() => undefined);
  for (const f of files) {
    await client.send(
      new PutObjectCommand({ Bucket: tag, Key: `m/${f.name}`, Body: createReadStream(join(src, f.name)), ContentLength: f.size, ChecksumSHA256: f.b64 }),
    );
  }
  client.destroy();
}

function serverContenders(sv: Servers, work: string, tag: string, files: { name: string; size: number; hex: string }[], srcDir: string): Contender[] {
  const bytes = files.reduce((a, f) => a + f.size, 0);
  const expect = { bytes, files: files.length };
  const urls = files.map((f) => `${sv.nginx.url}/${f.name}`);
  const filesJson = join(work, `${tag}-files.json`);
  const sums = join(work, `${tag}-SHA256SUMS`);
  const curlArgs = [
    "-sS",
    "--fail",
    "--parallel",
    "--parallel-max",
    String(Math.min(8, files.length)),
    ...files.flatMap((f, i) => ["-o", f.name, urls[i] as string]),
  ];
  const hydrateWith =
    (args: string[], e: Record<string, string> = {}) =>
    (bin: string, dest: string): Promise<Run> =>
      run(process.execPath, [bin, "hydrate", ...args, "--dest", dest, "--progress", "none", "--output", "json"], { env: { ...e, ...bundleEnv(bin) } });
  const hydrate = (args: string[], e: Record<string, string> = {}): Pick<Contender, "run" | "hydrate"> => ({
    run: (d) => hydrateWith(args, e)(BIN, d),
    hydrate: hydrateWith(args, e),
  });
  void writeFile(filesJson, JSON.stringify(files.map((f, i) => ({ url: urls[i], path: f.name, sha256: f.hex }))));
  void writeFile(sums, files.map((f) => `${f.hex}  ${f.name}\n`).join(""));
  void srcDir;
  return withBefore([
    { section: tag, server: "HTTP (nginx)", name: "`hydrate --files` (sha256 pinned)", expect, ...hydrate(["--files", filesJson]) },
    { section: tag, server: "HTTP (nginx)", name: "`curl --parallel`", expect, run: (d) => run("curl", curlArgs, { cwd: d }) },
    {
      section: tag,
      server: "HTTP (nginx)",
      name: "`curl --parallel` then `sha256sum -c`",
      expect,
      run: (d) => run("bash", ["-c", 'curl "$@" && sha256sum -c --quiet "$0"', sums, ...curlArgs], { cwd: d }),
    },
    {
      section: tag,
      server: "HTTP (nginx)",
      name: "minimal Node program (undici + SHA-256 + write, no engine)",
      expect,
      run: (d) => run(process.execPath, ["-e", NODE_MINIMAL, d, ...urls], { cwd: join(import.meta.dirname, "..", "..") }),
    },
    {
      section: tag,
      server: "S3 (versitygw)",
      name: "`hydrate s3://`",
      expect,
      ...hydrate(["--source", `s3://${tag}/m/`, "--endpoint", sv.s3.endpoint], sv.s3.env()),
    },
    {
      section: tag,
      server: "S3 (versitygw)",
      name: "`s5cmd cp`",
      expect,
      run: (d) => run(sv.s5cmd, ["--log", "error", "--endpoint-url", sv.s3.endpoint, "cp", `s3://${tag}/m/*`, `${d}/`], { env: sv.s3.env() }),
    },
    { section: tag, server: "OCI (Distribution)", name: "`hydrate oci://`", expect, ...hydrate(["--source", `oci://${sv.reg.host}/bench/${tag}:v1`]) },
    {
      section: tag,
      server: "OCI (Distribution)",
      name: "`oras pull`",
      expect,
      run: (d) => run(sv.oras, ["pull", "--plain-http", `${sv.reg.host}/bench/${tag}:v1`, "-o", d]),
    },
  ]);
}

function hubContenders(sv: Servers, repo: string, bytes: number, files: number, label: string): Contender[] {
  const expect = { bytes, files };
  const hf = (bin: string, d: string): Promise<Run> =>
    run(process.execPath, [bin, "hydrate", "--source", `hf://${repo}@main`, "--endpoint", sv.hub.endpoint, "--dest", d, "--progress", "none"], {
      env: bundleEnv(bin),
    });
  const py = `import sys\nfrom huggingface_hub import snapshot_download\nsnapshot_download("${repo}", local_dir=sys.argv[1], max_workers=8)`;
  return withBefore([
    {
      section: label,
      server: "hub stand-in",
      name: "`hydrate hf://`",
      expect,
      run: (d) => hf(BIN, d),
      hydrate: (bin, d) => hf(bin, d),
    },
    {
      section: label,
      server: "hub stand-in",
      name: "`huggingface_hub` `snapshot_download(local_dir=…, max_workers=8)`",
      expect,
      run: (d) =>
        run(sv.python, ["-c", py, d], { env: { HF_ENDPOINT: sv.hub.endpoint, HF_HUB_DISABLE_TELEMETRY: "1", HF_HOME: join(d, ".cache", "hf-home") } }),
    },
  ]);
}

async function limits(work: string, src: string, files: { name: string }[]): Promise<Row[]> {
  const paths = files.map((f) => join(src, f.name));
  const bytes = (await Promise.all(paths.map((p) => stat(p)))).reduce((a, s) => a + s.size, 0);
  const cores = availableParallelism();
  const split = Array.from({ length: cores }, (_, i) => paths.filter((_, j) => j % cores === i)).filter((g) => g.length > 0);
  const contenders: Contender[] = [
    {
      section: "limits",
      server: "machine",
      name: "`dd conv=fsync` (disk write, 1 MiB blocks, from the page cache)",
      run: (d) =>
        run("bash", ["-c", 'for f in "$@"; do dd if="$f" of="$(basename "$f")" bs=1M conv=fsync status=none || exit 1; done', "dd", ...paths], { cwd: d }),
    },
    { section: "limits", server: "machine", name: "Node SHA-256, one core", run: () => run(process.execPath, ["-e", NODE_SHA, ...paths]) },
    {
      section: "limits",
      server: "machine",
      name: `Node SHA-256, ${split.length} processes (every core it may use)`,
      run: () =>
        run("bash", [
          "-c",
          `for g in "$@"; do ${process.execPath} -e '${NODE_SHA.replace(/'/g, "'\\''")}' $g & done; wait`,
          "x",
          ...split.map((g) => g.join(" ")),
        ]),
    },
    { section: "limits", server: "machine", name: "`sha256sum` (coreutils, one core)", run: () => run("sha256sum", paths) },
  ];
  return measure(work, contenders, ROUNDS, bytes, files.length);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(env["FMC_BENCH_DIR"] ?? tmpdir(), "fmc-bench-sbs-"));
  const src = join(work, "src");
  await mkdir(src);
  const tools = await new Promise<string>((resolve, reject) =>
    execFile("bash", [join(import.meta.dirname, "s3-oci-tools.sh")], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const sv: Servers = {
    nginx: await startNginx(src, { accessLog: false }),
    s3: await startS3Server(),
    reg: await startRegistry("none"),
    hub: await startHubStandin(),
    s5cmd: /s5cmd=(.*)/.exec(tools)?.[1] ?? "s5cmd",
    oras: ensureTool("ensure-oras.sh"),
    python: ensureTool("ensure-python-hf.sh"),
  };
  const out: string[] = [
    `Node ${process.version}, ${availableParallelism()} cores; commit ${await new Promise<string>((r) => execFile("git", ["rev-parse", "--short", "HEAD"], (_e, o) => r(o.trim())))}.`,
    "",
  ];
  const print = (lines: string[]): void => {
    out.push(...lines, "");
    process.stdout.write(`${lines.join("\n")}\n\n`);
  };
  try {
    if (SECTIONS.has("set") || SECTIONS.has("limits")) {
      const files = await makeFiles(
        src,
        "model",
        Array.from({ length: FILES }, () => FILE_MB * MiB),
      );
      if (SECTIONS.has("limits")) print(table(await limits(work, src, files), `Machine limits on the same ${FILES} x ${FILE_MB} MiB, ${ROUNDS} rounds:`));
      if (SECTIONS.has("set")) {
        await publishEverywhere(sv, src, files, "set");
        const repoFiles: RepoFile[] = [];
        for (const f of files) repoFiles.push({ path: f.name, content: await readWhole(join(src, f.name)) });
        sv.hub.addRepo("bench/set", repoFiles);
        const total = FILES * FILE_MB * MiB;
        const cs = [...serverContenders(sv, work, "set", files, src), ...hubContenders(sv, "bench/set", total, FILES, "set")];
        print(table(await measure(work, cs, ROUNDS, total, FILES), `${FILES} x ${FILE_MB} MiB, ${ROUNDS} rounds (rotated order), medians:`));
      }
      for (const f of files) await rm(join(src, f.name), { force: true });
    }
    if (SECTIONS.has("big") && BIG_MB > 0) {
      const files = await makeFiles(src, "big", [BIG_MB * MiB]);
      await publishEverywhere(sv, src, files, "big");
      const cs = serverContenders(sv, work, "big", files, src).filter((c) => !c.name.includes("sha256sum"));
      print(table(await measure(work, cs, 1, BIG_MB * MiB, 1), `One file of ${BIG_MB} MiB, one run each:`));
      await rm(join(src, (files[0] as { name: string }).name), { force: true });
    }
    if (SECTIONS.has("hub")) {
      // 50 files, sizes geometric from 1 KiB to HUB_MAX_MB, all views of one random pool (the stand-in serves from memory).
      const max = HUB_MAX_MB * MiB;
      const ratio = (max / 1024) ** (1 / 49);
      const sizes = Array.from({ length: 50 }, (_, i) => Math.round(1024 * ratio ** i));
      const pool = randomPool(max + 50 * 4096);
      const repoFiles = sizes.map((s, i) => ({
        path: `${i < 40 ? "" : "weights/"}f-${String(i).padStart(2, "0")}.${s > 100 * 1024 ? "safetensors" : "json"}`,
        content: pool.subarray(i * 4096, i * 4096 + s),
      }));
      sv.hub.addRepo("bench/hub-scale", repoFiles);
      const bytes = sizes.reduce((a, b) => a + b, 0);
      print(
        table(
          await measure(work, hubContenders(sv, "bench/hub-scale", bytes, 50, "hub"), 1, bytes, 50),
          `Hub-scale: 50 files from 1 KiB to ${HUB_MAX_MB} MiB (${(bytes / MiB).toFixed(0)} MiB), one run each:`,
        ),
      );
    }
    if (SECTIONS.has("many")) {
      const pool = randomFillSync(Buffer.alloc(MANY * 64 + 8192));
      const repoFiles = Array.from({ length: MANY }, (_, i) => ({
        path: `data/${String(Math.floor(i / 1000)).padStart(3, "0")}/${String(i).padStart(6, "0")}.json`,
        content: pool.subarray(i * 64, i * 64 + 1024 + ((i * 7919) % 7168)),
        lfs: false,
      }));
      sv.hub.addRepo("bench/many", repoFiles);
      const bytes = repoFiles.reduce((a, f) => a + f.content.length, 0);
      print(
        table(
          await measure(work, hubContenders(sv, "bench/many", bytes, MANY, "many"), 1, bytes, MANY),
          `Dataset-like: ${MANY} files of 1-8 KiB (${(bytes / MiB).toFixed(0)} MiB), one run each:`,
        ),
      );
    }
  } finally {
    await sv.nginx.stop();
    await sv.s3.stop();
    await sv.reg.stop();
    await sv.hub.stop();
    await rm(work, { recursive: true, force: true });
  }
  if (env["FMC_BENCH_OUT"]) await writeFile(env["FMC_BENCH_OUT"], out.join("\n"));
}

async function readWhole(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

await main();
