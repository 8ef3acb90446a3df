// Throughput of `function-model-cache hydrate` from Azure Blob Storage
// (Azurite, the emulator, on loopback), side by side in one run with what a
// user would use instead on the same blobs: `azcopy copy` (AzCopy v10, see
// cloud-tools.sh) and the official SDK's own download helpers
// (BlobClient.downloadToFile, and downloadToBuffer with parallel ranges), each
// in a process of its own so its CPU time and peak RSS are its own.
//
//   bash bench/hydrator/azure.sh            # FMC_BENCH_FILES, FMC_BENCH_FILE_MB, FMC_BENCH_ROUNDS
//
// Every tool runs once per round, in a rotated order, into a fresh directory;
// the table shows medians and each peer's time relative to ours. Every blob
// carries its Content-MD5, which ours and azcopy check. Azurite is a Node.js
// process on the same cores: it, not the network, bounds every row, so the rows
// compare the clients under the same server. Not run by the tests.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from "@azure/storage-blob";
import { createAzureSource } from "../../functions/hydrator/sources/azure.ts";
import { readSourceWhole } from "./source-only.ts";
import { type Contender, inProcess, machineLimits, makeFiles, peerTools, rounds, table, timed } from "./cloud-bench.ts";
import { BIN } from "../../test/support/function-server.ts";
import { startAzurite } from "../../test/support/azurite.ts";

const FILES = Number(process.env["FMC_BENCH_FILES"] ?? 4);
const FILE_MB = Number(process.env["FMC_BENCH_FILE_MB"] ?? 256);
const ROUNDS = Number(process.env["FMC_BENCH_ROUNDS"] ?? 3);
const TOTAL = FILES * FILE_MB * 1024 * 1024;

async function main(): Promise<void> {
  const tools = await peerTools();
  const az = await startAzurite();
  const work = await mkdtemp(join(tmpdir(), "fmc-bench-azure-"));
  try {
    const src = join(work, "src");
    await mkdir(src);
    process.stderr.write(`writing ${FILES} x ${FILE_MB} MiB of random data\n`);
    const files = await makeFiles(src, FILES, FILE_MB);
    const container = az.admin().getContainerClient("bench");
    await container.create();
    for (const f of files) {
      // A block-list upload with the Content-MD5 set, as azcopy --put-md5 does: the hydrator checks it.
      await container.getBlockBlobClient(`model/${f.name}`).uploadFile(join(src, f.name), { concurrency: 4, blobHTTPHeaders: { blobContentMD5: f.md5 } });
    }
    await rm(src, { recursive: true, force: true });

    const env = { AZURE_STORAGE_KEY: az.key };
    const helper = join(import.meta.dirname, "azure-sdk-download.ts");
    const contenders: Contender[] = [
      {
        name: "`function-model-cache hydrate`",
        run: (dest) =>
          timed(
            process.execPath,
            [BIN, "hydrate", "--source", "azure://fmcmodels/bench/model/", "--endpoint", az.endpoint, "--progress", "json", "--dest", dest],
            env,
          ),
      },
      {
        name: "`azure://` source alone (list + read + sha256, no disk)",
        noDisk: true,
        run: () =>
          inProcess(() => {
            const s = createAzureSource({ uri: "azure://fmcmodels/bench/model/", endpoint: az.endpoint, env });
            if (!s.ok) throw new Error(s.error);
            return readSourceWhole(s.value);
          }),
      },
    ];
    const azcopy = tools["azcopy"];
    if (azcopy !== undefined) {
      // azcopy takes no account key for Blob: a read+list SAS on the container, as a user would hand it.
      const sas = generateBlobSASQueryParameters(
        { containerName: "bench", permissions: ContainerSASPermissions.parse("rl"), expiresOn: new Date(Date.now() + 24 * 3600_000) },
        new StorageSharedKeyCredential(az.account, az.key),
      ).toString();
      // Its logs and job plans in the benchmark's directory, not the user's ~/.azcopy.
      const azEnv = { AZCOPY_LOG_LOCATION: join(work, "azcopy-logs"), AZCOPY_JOB_PLAN_LOCATION: join(work, "azcopy-plans") };
      contenders.push({
        name: "`azcopy copy <container>/model/*?<SAS> <dest> --from-to BlobLocal --check-md5 FailIfDifferent`",
        run: (dest) =>
          timed(
            azcopy,
            // --from-to: azcopy infers Blob only from *.blob.core.windows.net hosts, not from Azurite's loopback address.
            ["copy", `${az.endpoint}/bench/model/*?${sas}`, dest, "--from-to", "BlobLocal", "--check-md5", "FailIfDifferent", "--output-level", "quiet"],
            azEnv,
          ),
      });
    }
    contenders.push(
      {
        name: "SDK `BlobClient.downloadToFile` (blobs in parallel)",
        run: (dest) => timed(process.execPath, [helper, "toFile", az.endpoint, "bench", "model/", dest], env),
      },
      {
        name: "SDK `BlobClient.downloadToBuffer` (8 parallel 16 MiB ranges per blob)",
        run: (dest) => timed(process.execPath, [helper, "toBuffer", az.endpoint, "bench", "model/", dest], env),
      },
    );
    const runs = await rounds(contenders, ROUNDS, files, work);
    const mib = TOTAL / 1024 / 1024;
    process.stdout.write(
      [
        `${FILES} files x ${FILE_MB} MiB (${mib} MiB), ${ROUNDS} rounds, Azurite on loopback, medians; Node ${process.version}.`,
        await machineLimits(work, TOTAL),
        "",
        table("Azure Blob (Azurite)", contenders, runs, TOTAL),
        "",
      ].join("\n"),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
    await az.stop();
  }
}

await main();
