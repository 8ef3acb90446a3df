// Throughput of `function-model-cache hydrate` from a Cloud Storage emulator
// (fake-gcs-server, filesystem backend, on loopback), side by side in one run
// with what a user would use instead on the same objects: `gcloud storage cp`
// (when the Google Cloud CLI is on PATH; see cloud-tools.sh) and the official
// @google-cloud/storage SDK's download helper, TransferManager. Beside the
// S3/OCI one.
//
//   bash bench/hydrator/gcs.sh               # FMC_BENCH_FILES, FMC_BENCH_FILE_MB, FMC_BENCH_ROUNDS, FMC_BENCH_CONCURRENCY,
//                                            # FMC_BENCH_COMPARE_BIN (+ _LABEL): another checkout's hydrator beside ours
//
// Every tool runs once per round, in a rotated order, into a fresh directory;
// the table shows medians and each peer's time relative to ours, with each
// tool's CPU seconds and peak RSS (GNU time; the SDK runs in a process of its
// own, gcs-sdk-download.ts). Every tool checks the objects' own checksums
// (ours: crc32c beside SHA-256; the SDK and gcloud: crc32c). The
// emulator reads from the page cache for every tool alike. Not run by the tests.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGcsSource } from "../../functions/hydrator/sources/gcs.ts";
import { readSourceWhole } from "./source-only.ts";
import { type Contender, inProcess, machineLimits, makeFiles, peerTools, rounds, table, timed } from "./cloud-bench.ts";
import { BIN } from "../../test/support/function-server.ts";
import { startGcsServer } from "../../test/support/gcs-server.ts";

const FILES = Number(process.env["FMC_BENCH_FILES"] ?? 4);
const FILE_MB = Number(process.env["FMC_BENCH_FILE_MB"] ?? 256);
const ROUNDS = Number(process.env["FMC_BENCH_ROUNDS"] ?? 3);
const CONCURRENCY = Number(process.env["FMC_BENCH_CONCURRENCY"] ?? 8);
const TOTAL = FILES * FILE_MB * 1024 * 1024;
/** FMC_BENCH_COMPARE_BIN: bin/function-model-cache.js of another checkout, run as one more contender. */
const COMPARE_BIN = process.env["FMC_BENCH_COMPARE_BIN"];
const COMPARE_LABEL = process.env["FMC_BENCH_COMPARE_LABEL"] ?? "the other checkout";

async function main(): Promise<void> {
  const tools = await peerTools();
  const gcs = await startGcsServer("filesystem");
  const work = await mkdtemp(join(tmpdir(), "fmc-bench-gcs-"));
  try {
    const src = join(work, "src");
    await mkdir(src);
    process.stderr.write(`writing ${FILES} x ${FILE_MB} MiB of random data\n`);
    const files = await makeFiles(src, FILES, FILE_MB);
    await gcs.sdk.createBucket("bench");
    // Written by the SDK, as a user uploads: the emulator computes each object's crc32c and MD5.
    for (const f of files) await gcs.sdk.bucket("bench").upload(join(src, f.name), { destination: `model/${f.name}`, resumable: false });
    await rm(src, { recursive: true, force: true });

    const hydrate = (bin: string, dest: string) =>
      timed(process.execPath, [
        bin,
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
      ]);
    const sdk = (dest: string, mode: "many" | "chunks") =>
      timed(process.execPath, [join(import.meta.dirname, "gcs-sdk-download.ts"), gcs.endpoint, "bench", "model/", dest, mode, String(CONCURRENCY)]);
    const contenders: Contender[] = [
      { name: "`function-model-cache hydrate`", run: (dest) => hydrate(BIN, dest) },
      // Another checkout's hydrator beside this one, in the same rounds (a change measured side by side).
      ...(COMPARE_BIN !== undefined ? [{ name: `\`hydrate\` at ${COMPARE_LABEL}`, run: (dest: string) => hydrate(COMPARE_BIN, dest) }] : []),
      {
        name: "`gs://` source alone (list + read + sha256, no disk)",
        noDisk: true,
        run: () =>
          inProcess(() => {
            const s = createGcsSource({ uri: "gs://bench/model/", endpoint: gcs.endpoint, env: {} });
            if (!s.ok) throw new Error(s.error);
            return readSourceWhole(s.value);
          }),
      },
    ];
    const gcloud = tools["gcloud"];
    if (gcloud !== undefined) {
      // A configuration directory of the benchmark's own (the user's gcloud configuration is neither read nor
      // written), no credentials (the emulator wants none) and the JSON API pointed at the emulator.
      const env = {
        CLOUDSDK_CONFIG: join(work, "gcloud-config"),
        CLOUDSDK_AUTH_DISABLE_CREDENTIALS: "true",
        CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE: `${gcs.endpoint}/`,
        CLOUDSDK_CORE_PROJECT: "fmc-bench",
        CLOUDSDK_CORE_DISABLE_PROMPTS: "1",
        CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: "true",
      };
      // Once before the rounds, untimed: gcloud's first run in a fresh configuration directory sets it up.
      await new Promise<void>((resolve, reject) =>
        execFile(gcloud, ["storage", "ls", "gs://bench/model/"], { env: { ...process.env, ...env } }, (err, _o, stderr) =>
          err ? reject(new Error(`gcloud storage ls failed: ${stderr}`)) : resolve(),
        ),
      );
      contenders.push({
        name: "`gcloud storage cp gs://bench/model/* <dest>`",
        run: (dest) => timed(gcloud, ["storage", "cp", "gs://bench/model/*", dest], env),
      });
    }
    contenders.push(
      { name: "@google-cloud/storage `TransferManager.downloadManyFiles`", run: (dest) => sdk(dest, "many") },
      { name: "@google-cloud/storage `TransferManager.downloadFileInChunks` (16 MiB), file by file", run: (dest) => sdk(dest, "chunks") },
    );
    const runs = await rounds(contenders, ROUNDS, files, work);
    const mib = TOTAL / 1024 / 1024;
    process.stdout.write(
      [
        `${FILES} files x ${FILE_MB} MiB (${mib} MiB), ${ROUNDS} rounds, concurrency ${CONCURRENCY}, loopback, medians; Node ${process.version}.`,
        await machineLimits(work, TOTAL),
        "",
        table("GCS (fake-gcs-server)", contenders, runs, TOTAL),
        "",
      ].join("\n"),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
    await gcs.stop();
  }
}

await main();
