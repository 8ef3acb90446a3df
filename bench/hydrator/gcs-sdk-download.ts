// The benchmark's peer for gs://, run as its own process so its peak RSS is
// its own: the official @google-cloud/storage SDK's download helper
// (TransferManager) against the emulator, as a user would fetch a prefix with
// it. Not run by the tests.
//
//   node bench/hydrator/gcs-sdk-download.ts <endpoint> <bucket> <prefix> <dest> many|chunks <concurrency>
//
// many:   downloadManyFiles(prefix): one stream per file, files in parallel (the SDK validates crc32c/MD5).
// chunks: downloadFileInChunks per file, one file after the other: parallel ranged reads of each file, as the
//         hydrator reads (the SDK validates crc32c).
import { Storage, TransferManager } from "@google-cloud/storage";
import { join } from "node:path";

const [endpoint, bucketName, prefix, dest, mode, concurrency] = process.argv.slice(2);
if (endpoint === undefined || bucketName === undefined || prefix === undefined || dest === undefined || (mode !== "many" && mode !== "chunks")) {
  process.stderr.write("usage: gcs-sdk-download.ts <endpoint> <bucket> <prefix> <dest> many|chunks <concurrency>\n");
  process.exit(2);
}
const limit = Number(concurrency ?? 8);
const bucket = new Storage({ apiEndpoint: endpoint, projectId: "fmc-bench" }).bucket(bucketName);
const tm = new TransferManager(bucket);
if (mode === "many") {
  await tm.downloadManyFiles(prefix, { concurrencyLimit: limit, passthroughOptions: { destination: dest } });
} else {
  const [files] = await bucket.getFiles({ prefix });
  for (const f of files) {
    await tm.downloadFileInChunks(f, {
      concurrencyLimit: limit,
      chunkSizeBytes: 16 * 1024 * 1024,
      destination: join(dest, f.name.slice(prefix.length)),
      validation: "crc32c",
      noReturnData: true,
    });
  }
}
