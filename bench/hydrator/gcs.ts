// Throughput of `function-model-cache hydrate` from a Cloud Storage emulator
// (fake-gcs-server, filesystem backend, on loopback), side by side in one run
// with what a user would use instead on the same objects: the official
// @google-cloud/storage SDK's download helper, TransferManager (gcloud storage
// cannot run here: no Google Cloud SDK package). Beside the S3/OCI one.
//
//   bash bench/hydrator/gcs.sh               # FMC_BENCH_FILES, FMC_BENCH_FILE_MB, FMC_BENCH_ROUNDS, FMC_BENCH_CONCURRENCY
//
// Every tool runs once per round, in a rotated order, into a fresh directory;
// the table shows medians and each peer's time relative to ours, with each
// tool's peak RSS (GNU time; the SDK runs in a process of its own,
// gcs-sdk-download.ts). Every tool checks the objects' own checksums (ours:
// crc32c and MD5 beside SHA-256; the SDK: crc32c/MD5). The emulator reads
// from the page cache for every tool alike. Not run by the tests.
import { execFile } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGcsSource } from "../../functions/hydrator/sources/gcs.ts";
import { readSourceWhole } from "./source-only.ts";
import { BIN } from "../../test/support/function-server.ts";
import { startGcsServer } from "../../test/support/gcs-server.ts";

const FILES = Number(process.env["FMC_BENCH_FILES"] ?? 4);
const FILE_MB = Number(process.env["FMC_BENCH_FILE_MB"] ?? 256);
const ROUNDS = Number(process.env["FMC_BENCH_ROUNDS"] ?? 3);
const CONCURRENCY = Number(process.env["FMC_BENCH_CONCURRENCY"] ?? 8);
const TOTAL = FILES * FILE_MB * 1024 * 1024;

function run(cmd: string, args: string[]): Promise<{ seconds: number; peakKiB: number }> {
  // GNU time reports the child's peak RSS; the wall clock is ours.
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile("/usr/bin/time", ["-f", "%M", cmd, ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 }, (err, _stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (err) return reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-3000)}`));
      resolve({ seconds, peakKiB: Number(stderr.trim().split("\n").pop()) });
    });
  });
}

/** Bytes of every regular file under `dir` (the check that a tool fetched everything). */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name !== "SHA256SUMS" && !entry.name.endsWith(".json")) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function makeFiles(dir: string): Promise<string[]> {
  const out = [];
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < FILES; i++) {
    const name = `model-${String(i).padStart(5, "0")}-of-${String(FILES).padStart(5, "0")}.safetensors`;
    const fh = await open(join(dir, name), "w");
    for (let written = 0; written < FILE_MB * 1024 * 1024; written += chunk.length) await fh.write(randomFillSync(chunk));
    await fh.close();
    out.push(name);
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const gcs = await startGcsServer("filesystem");
  const work = await mkdtemp(join(tmpdir(), "fmc-bench-gcs-"));
  try {
    const src = join(work, "src");
    await mkdir(src);
    process.stderr.write(`writing ${FILES} x ${FILE_MB} MiB of random data\n`);
    const files = await makeFiles(src);
    await gcs.sdk.createBucket("bench");
    // Written by the SDK, as a user uploads: the emulator computes each object's crc32c and MD5.
    for (const f of files) await gcs.sdk.bucket("bench").upload(join(src, f), { destination: `model/${f}`, resumable: false });
    await rm(src, { recursive: true, force: true });

    const sdk = (dest: string, mode: "many" | "chunks") =>
      run(process.execPath, [join(import.meta.dirname, "gcs-sdk-download.ts"), gcs.endpoint, "bench", "model/", dest, mode, String(CONCURRENCY)]);
    const contenders: { name: string; run: (dest: string) => Promise<{ seconds: number; peakKiB: number }> }[] = [
      {
        name: "function-model-cache hydrate",
        run: (dest) =>
          run(process.execPath, [
            BIN,
            "hydrate",
            "--source",
            "gs://bench/model/",
            "--endpoint",
            gcs.endpoint,
            "--dest",
            dest,
            "--progress",
            "json",
            "--concurrency",
            String(CONCURRENCY),
          ]),
      },
      {
        name: "gs:// source alone (list + read + sha256, no disk)",
        run: async () => {
          const s = createGcsSource({ uri: "gs://bench/model/", endpoint: gcs.endpoint, env: {} });
          if (!s.ok) throw new Error(s.error);
          return { seconds: await readSourceWhole(s.value), peakKiB: Number.NaN };
        },
      },
      { name: "@google-cloud/storage TransferManager.downloadManyFiles", run: (dest) => sdk(dest, "many") },
      { name: "@google-cloud/storage TransferManager.downloadFileInChunks (16 MiB), file by file", run: (dest) => sdk(dest, "chunks") },
    ];
    const times = new Map<number, number[]>();
    const peaks = new Map<number, number[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < contenders.length; k++) {
        const i = (k + round) % contenders.length;
        const c = contenders[i] as (typeof contenders)[number];
        const dest = join(work, `dest-${i}-${round}`);
        await mkdir(dest);
        const r = await c.run(dest);
        const got = c.name.includes("source alone") ? TOTAL : await treeBytes(dest);
        if (got !== TOTAL) throw new Error(`${c.name} fetched ${got} bytes, not ${TOTAL}`);
        await rm(dest, { recursive: true, force: true });
        times.set(i, [...(times.get(i) ?? []), r.seconds]);
        peaks.set(i, [...(peaks.get(i) ?? []), r.peakKiB]);
        process.stderr.write(`round ${round + 1}: ${c.name}: ${r.seconds.toFixed(2)} s\n`);
      }
    }
    const mib = TOTAL / 1024 / 1024;
    const ours = median(times.get(0) ?? []);
    const lines = [
      `${FILES} files x ${FILE_MB} MiB (${mib} MiB), ${ROUNDS} rounds, concurrency ${CONCURRENCY}, loopback, medians; Node ${process.version}.`,
      "",
      "| server | tool | median s | MiB/s | peak RSS MiB | time vs ours |",
      "|---|---|---|---|---|---|",
    ];
    contenders.forEach((c, i) => {
      const t = median(times.get(i) ?? []);
      // The source-alone row runs inside this process: its RSS is the benchmark's own.
      const peak = median(peaks.get(i) ?? []) / 1024;
      lines.push(
        `| GCS (fake-gcs-server) | ${c.name} | ${t.toFixed(2)} | ${(mib / t).toFixed(0)} | ${Number.isNaN(peak) ? "-" : peak.toFixed(0)} | ${(t / ours).toFixed(2)}x |`,
      );
    });
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await gcs.stop();
  }
}

await main();
