// The official SDK's own download helpers, as peers of the Azure benchmark
// beside azcopy. Every blob under a prefix into a directory, the blobs in
// parallel, with the helper named on the command line:
//   node bench/hydrator/azure-sdk-download.ts <toFile|toBuffer> <endpoint> <container> <prefix> <dest>
// Credentials from AZURE_STORAGE_KEY (account from the endpoint's last path segment, as Azurite serves it).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";

const [mode, endpoint, container, prefix, dest] = process.argv.slice(2) as [string, string, string, string, string];
const account = new URL(endpoint).pathname.split("/").filter(Boolean).pop() as string;
const client = new ContainerClient(`${endpoint}/${container}`, new StorageSharedKeyCredential(account, process.env["AZURE_STORAGE_KEY"] ?? ""));
const names: string[] = [];
for await (const b of client.listBlobsFlat({ prefix })) names.push(b.name);
await Promise.all(
  names.map(async (name) => {
    const out = join(dest, name.slice(prefix.length));
    const blob = client.getBlobClient(name);
    if (mode === "toFile") {
      // One streamed GET per blob (the helper has no parallel ranges of its own).
      await blob.downloadToFile(out);
    } else {
      // Parallel ranged GETs into one buffer the size of the blob, then written: the SDK's parallel download.
      await writeFile(out, await blob.downloadToBuffer(0, undefined, { concurrency: 8, blockSize: 16 * 1024 * 1024 }));
    }
  }),
);
