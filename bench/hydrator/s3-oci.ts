// Throughput of `function-model-cache hydrate` from the S3 server (versitygw)
// and the OCI registry (Distribution) on loopback, side by side in one run
// with what a user would use instead on the same files: `s5cmd cp` and
// `aws s3 cp --recursive` for S3, `oras pull` for the registry.
//
//   bash bench/hydrator/s3-oci.sh            # FMC_BENCH_FILES, FMC_BENCH_FILE_MB, FMC_BENCH_ROUNDS
//
// Every tool runs once per round, in a rotated order, into a fresh directory;
// the table shows medians and each peer's time relative to ours. The servers
// read from the page cache for every tool alike (the data was just written).
// Not run by the tests.
import { execFile } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createOciSource } from "../../functions/hydrator/sources/oci.ts";
import { createS3Source } from "../../functions/hydrator/sources/s3.ts";
import type { Source } from "../../functions/hydrator/sources/types.ts";
import { readSourceWhole } from "./source-only.ts";
import { measureMachineLimits } from "./cloud-bench.ts";
import { BIN } from "../../test/support/function-server.ts";
import { startRegistry } from "../../test/support/registry.ts";
import { ensureTool, startS3Server } from "../../test/support/s3-server.ts";

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

async function makeFiles(dir: string): Promise<{ name: string; sha256b64: string }[]> {
  const out = [];
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < FILES; i++) {
    const name = `model-${String(i).padStart(5, "0")}-of-${String(FILES).padStart(5, "0")}.safetensors`;
    const fh = await open(join(dir, name), "w");
    const h = createHash("sha256");
    for (let written = 0; written < FILE_MB * 1024 * 1024; written += chunk.length) {
      randomFillSync(chunk);
      h.update(chunk);
      await fh.write(chunk);
    }
    await fh.close();
    out.push({ name, sha256b64: h.digest("base64") });
  }
  return out;
}

/** The source layer alone: list, then read every object whole in parallel and hash it, no disk. */
async function sourceOnly(src: Source): Promise<{ seconds: number; peakKiB: number }> {
  return { seconds: await readSourceWhole(src), peakKiB: process.memoryUsage().rss / 1024 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const peers: Record<string, string> = { oras: ensureTool("ensure-oras.sh") };
  const toolLines = await new Promise<string>((resolve, reject) =>
    execFile("bash", [join(import.meta.dirname, "s3-oci-tools.sh")], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  for (const line of toolLines.trim().split("\n")) {
    const [k, v] = line.split("=");
    if (k && v) peers[k] = v;
  }
  const s3 = await startS3Server();
  const reg = await startRegistry("none");
  const work = await mkdtemp(join(tmpdir(), "fmc-bench-s3-oci-"));
  try {
    const src = join(work, "src");
    await mkdir(src);
    process.stderr.write(`writing ${FILES} x ${FILE_MB} MiB of random data\n`);
    const files = await makeFiles(src);

    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    await client.send(new CreateBucketCommand({ Bucket: "bench" }));
    for (const f of files) {
      // One PutObject per file with its SHA256, so the hydrator has a full-object checksum to check against.
      await client.send(
        new PutObjectCommand({
          Bucket: "bench",
          Key: `model/${f.name}`,
          Body: createReadStream(join(src, f.name)),
          ContentLength: FILE_MB * 1024 * 1024,
          ChecksumSHA256: f.sha256b64,
        }),
      );
    }
    client.destroy();
    await reg.oras(["push", `${reg.host}/bench/model:v1`, ...files.map((f) => f.name)], src);

    const s3env = s3.env();
    const hydrate = (source: string): string[] => [BIN, "hydrate", "--source", source, "--progress", "json"];
    const contenders: { name: string; server: "s3" | "oci"; run: (dest: string) => Promise<{ seconds: number; peakKiB: number }> }[] = [
      {
        name: "function-model-cache hydrate",
        server: "s3",
        run: (dest) => run(process.execPath, [...hydrate("s3://bench/model/"), "--endpoint", s3.endpoint, "--dest", dest], s3env),
      },
      {
        name: "s3:// source alone (list + read + sha256, no disk)",
        server: "s3",
        run: () => {
          const src = createS3Source({ uri: "s3://bench/model/", endpoint: s3.endpoint, env: s3env });
          if (!src.ok) throw new Error(src.error);
          return sourceOnly(src.value);
        },
      },
      {
        name: "s5cmd cp",
        server: "s3",
        run: (dest) => run(peers["s5cmd"] as string, ["--log", "error", "--endpoint-url", s3.endpoint, "cp", "s3://bench/model/*", `${dest}/`], s3env),
      },
      {
        name: "aws s3 cp --recursive",
        server: "s3",
        run: (dest) =>
          run(peers["aws"] as string, ["--endpoint-url", s3.endpoint, "s3", "cp", "--recursive", "--only-show-errors", "s3://bench/model/", dest], s3env),
      },
      {
        name: "function-model-cache hydrate",
        server: "oci",
        run: (dest) => run(process.execPath, [...hydrate(`oci://${reg.host}/bench/model:v1`), "--dest", dest]),
      },
      {
        name: "oci:// source alone (list + read + sha256, no disk)",
        server: "oci",
        run: () => {
          const src = createOciSource({ uri: `oci://${reg.host}/bench/model:v1`, env: {} });
          if (!src.ok) throw new Error(src.error);
          return sourceOnly(src.value);
        },
      },
      {
        name: "oras pull",
        server: "oci",
        run: (dest) => run(peers["oras"] as string, ["pull", "--plain-http", `${reg.host}/bench/model:v1`, "-o", dest]),
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
        if (got !== TOTAL) throw new Error(`${c.name} (${c.server}) fetched ${got} bytes, not ${TOTAL}`);
        await rm(dest, { recursive: true, force: true });
        times.set(i, [...(times.get(i) ?? []), r.seconds]);
        peaks.set(i, [...(peaks.get(i) ?? []), r.peakKiB]);
        process.stderr.write(`round ${round + 1}: ${c.server} ${c.name}: ${r.seconds.toFixed(2)} s\n`);
      }
    }
    const mib = TOTAL / 1024 / 1024;
    const limits = await measureMachineLimits(work, TOTAL);
    const lines = [
      `${FILES} files x ${FILE_MB} MiB (${mib} MiB), ${ROUNDS} rounds, loopback, medians; Node ${process.version}.`,
      `Machine limits for the same ${mib} MiB: SHA-256 on one core ${(mib / limits.sha256).toFixed(0)} MiB/s, ` +
        `disk write with fsync ${(mib / limits.disk).toFixed(0)} MiB/s.`,
      "",
      "| server | tool | median s | MiB/s | peak RSS MiB | time vs ours |",
      "|---|---|---|---|---|---|",
    ];
    for (const server of ["s3", "oci"] as const) {
      const ours = median(times.get(contenders.findIndex((c) => c.server === server)) ?? []);
      contenders.forEach((c, i) => {
        if (c.server !== server) return;
        const t = median(times.get(i) ?? []);
        // The source-alone rows run inside this process: their RSS is the benchmark's own.
        const peak = c.name.includes("source alone") ? Number.NaN : median(peaks.get(i) ?? []) / 1024;
        lines.push(
          `| ${server === "s3" ? "S3 (versitygw)" : "OCI (Distribution)"} | ${c.name} | ${t.toFixed(2)} | ${(mib / t).toFixed(0)} | ${Number.isNaN(peak) ? "-" : peak.toFixed(0)} | ${(t / ours).toFixed(2)}x |`,
        );
      });
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await reg.stop();
    await s3.stop();
  }
}

await main();
