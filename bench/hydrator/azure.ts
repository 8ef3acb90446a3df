// Throughput of `function-model-cache hydrate` from Azure Blob Storage
// (Azurite, the emulator, on loopback), side by side in one run with what a
// user would use instead on the same blobs: the official SDK's own download
// helpers (BlobClient.downloadToFile, and downloadToBuffer with parallel
// ranges), each in a process of its own so its peak RSS is its own. azcopy
// would be the first peer; its releases are binaries outside every package
// registry this project reaches, so it cannot be installed here.
//
//   bash bench/hydrator/azure.sh            # FMC_BENCH_FILES, FMC_BENCH_FILE_MB, FMC_BENCH_ROUNDS
//
// Every tool runs once per round, in a rotated order, into a fresh directory;
// the table shows medians and each peer's time relative to ours. Azurite is a
// Node.js process on the same 2 cores: it, not the network, bounds every
// row, so the rows compare the clients under the same server. Not run by the tests.
import { execFile } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { mkdir, mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAzureSource } from "../../functions/hydrator/sources/azure.ts";
import type { Source } from "../../functions/hydrator/sources/types.ts";
import { readSourceWhole } from "./source-only.ts";
import { BIN } from "../../test/support/function-server.ts";
import { startAzurite } from "../../test/support/azurite.ts";

const FILES = Number(process.env["FMC_BENCH_FILES"] ?? 4);
const FILE_MB = Number(process.env["FMC_BENCH_FILE_MB"] ?? 256);
const ROUNDS = Number(process.env["FMC_BENCH_ROUNDS"] ?? 3);
const TOTAL = FILES * FILE_MB * 1024 * 1024;

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ seconds: number; peakKiB: number }> {
  // GNU time reports the child's peak RSS; the wall clock is ours.
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile(
      "/usr/bin/time",
      ["-f", "%M", cmd, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 1_800_000 },
      (err, _stdout, stderr) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (err) return reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-3000)}`));
        const peakKiB = Number(stderr.trim().split("\n").pop());
        resolve({ seconds, peakKiB });
      },
    );
  });
}

/** Bytes of every regular file under `dir` (the check that a tool fetched everything). */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name !== "SHA256SUMS" && !entry.name.endsWith(".json")) {
      total += (await stat(join(entry.parentPath, entry.name))).size;
    }
  }
  return total;
}

async function makeFiles(dir: string): Promise<{ name: string; md5: Buffer }[]> {
  const out = [];
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < FILES; i++) {
    const name = `model-${String(i).padStart(5, "0")}-of-${String(FILES).padStart(5, "0")}.safetensors`;
    const fh = await open(join(dir, name), "w");
    const h = createHash("md5");
    for (let written = 0; written < FILE_MB * 1024 * 1024; written += chunk.length) {
      randomFillSync(chunk);
      h.update(chunk);
      await fh.write(chunk);
    }
    await fh.close();
    out.push({ name, md5: h.digest() });
  }
  return out;
}

/** The source layer alone: list, then read every object whole in parallel and hash it, no disk. */
async function sourceOnly(src: Source): Promise<{ seconds: number; peakKiB: number }> {
  return { seconds: await readSourceWhole(src), peakKiB: process.memoryUsage().rss / 1024 };
}

/** The machine's limits for the same volume: one core of SHA-256, and writing it to disk with fsync. */
async function machineLimits(dir: string): Promise<{ sha256: number; disk: number }> {
  const chunk = randomFillSync(Buffer.alloc(8 * 1024 * 1024));
  let t = process.hrtime.bigint();
  const h = createHash("sha256");
  for (let done = 0; done < TOTAL; done += chunk.length) h.update(chunk);
  h.digest();
  const sha256 = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  const fh = await open(join(dir, "disk-probe"), "w");
  for (let done = 0; done < TOTAL; done += chunk.length) await fh.write(chunk);
  await fh.sync();
  await fh.close();
  const disk = Number(process.hrtime.bigint() - t) / 1e9;
  await rm(join(dir, "disk-probe"));
  return { sha256, disk };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const az = await startAzurite();
  const work = await mkdtemp(join(tmpdir(), "fmc-bench-azure-"));
  try {
    const src = join(work, "src");
    await mkdir(src);
    process.stderr.write(`writing ${FILES} x ${FILE_MB} MiB of random data\n`);
    const files = await makeFiles(src);
    const container = az.admin().getContainerClient("bench");
    await container.create();
    for (const f of files) {
      // A block-list upload with the Content-MD5 set, as azcopy --put-md5 does: the hydrator checks it.
      await container.getBlockBlobClient(`model/${f.name}`).uploadFile(join(src, f.name), { concurrency: 4, blobHTTPHeaders: { blobContentMD5: f.md5 } });
    }

    const env = { AZURE_STORAGE_KEY: az.key };
    const helper = join(import.meta.dirname, "azure-sdk-download.ts");
    const contenders: { name: string; run: (dest: string) => Promise<{ seconds: number; peakKiB: number }> }[] = [
      {
        name: "function-model-cache hydrate",
        run: (dest) =>
          run(
            process.execPath,
            [BIN, "hydrate", "--source", "azure://fmcmodels/bench/model/", "--endpoint", az.endpoint, "--progress", "json", "--dest", dest],
            env,
          ),
      },
      {
        name: "azure:// source alone (list + read + sha256, no disk)",
        run: () => {
          const s = createAzureSource({ uri: "azure://fmcmodels/bench/model/", endpoint: az.endpoint, env });
          if (!s.ok) throw new Error(s.error);
          return sourceOnly(s.value);
        },
      },
      {
        name: "SDK BlobClient.downloadToFile (blobs in parallel)",
        run: (dest) => run(process.execPath, [helper, "toFile", az.endpoint, "bench", "model/", dest], env),
      },
      {
        name: "SDK BlobClient.downloadToBuffer (8 parallel 16 MiB ranges per blob)",
        run: (dest) => run(process.execPath, [helper, "toBuffer", az.endpoint, "bench", "model/", dest], env),
      },
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
    const limits = await machineLimits(work);
    const ours = median(times.get(0) ?? []);
    const lines = [
      `${FILES} files x ${FILE_MB} MiB (${mib} MiB), ${ROUNDS} rounds, Azurite ${"on loopback"}, medians; Node ${process.version}.`,
      `Machine limits for the same ${mib} MiB: SHA-256 on one core ${(mib / limits.sha256).toFixed(0)} MiB/s, ` +
        `disk write with fsync ${(mib / limits.disk).toFixed(0)} MiB/s.`,
      "",
      "| server | tool | median s | MiB/s | peak RSS MiB | time vs ours |",
      "|---|---|---|---|---|---|",
    ];
    contenders.forEach((c, i) => {
      const t = median(times.get(i) ?? []);
      // The source-alone row runs inside this process: its RSS is the benchmark's own.
      const peak = c.name.includes("source alone") ? Number.NaN : median(peaks.get(i) ?? []) / 1024;
      lines.push(
        `| Azure Blob (Azurite) | ${c.name} | ${t.toFixed(2)} | ${(mib / t).toFixed(0)} | ${Number.isNaN(peak) ? "-" : peak.toFixed(0)} | ${(t / ours).toFixed(2)}x |`,
      );
    });
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await az.stop();
  }
}

await main();
