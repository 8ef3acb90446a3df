// Starts Azurite's blob service (Microsoft's Azure Storage emulator) on a free
// loopback port over a temp directory, with an account of the test's own (not
// the well-known devstoreaccount1 key, so a test that looks for the key in a
// log looks for a value nothing else prints), and stops it again. Installed by
// scripts/ensure-azurite.sh; when it cannot be, the caller's test fails with the
// script's reason, never passes.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { freePort } from "./function-server.ts";
import { ensureTool, spawnUntilReady, stopChild } from "./s3-server.ts";

export interface Azurite {
  /** The account's blob service URL, path-style as Azurite serves it: http://127.0.0.1:<port>/<account>. */
  endpoint: string;
  account: string;
  /** The account key (base64), as a Secret would hold it. */
  key: string;
  /** The workspace directory: Azurite keeps blob bytes under `${dataDir}/__blobstorage__/`. */
  dataDir: string;
  /** A client of the official SDK with the account key: writes fixtures, reads back what Azurite holds. */
  admin(): BlobServiceClient;
  output(): string;
  stop(): Promise<void>;
}

export async function startAzurite(): Promise<Azurite> {
  const bin = ensureTool("ensure-azurite.sh");
  const dataDir = await mkdtemp(join(tmpdir(), "fmc-azurite-"));
  const port = await freePort();
  const account = "fmcmodels";
  const key = randomBytes(64).toString("base64");
  const endpoint = `http://127.0.0.1:${port}/${account}`;
  const server = await spawnUntilReady(
    "azurite-blob",
    bin,
    [
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--location",
      dataDir,
      "--silent",
      // No telemetry: the tests reach nothing beyond loopback.
      "--disableTelemetry",
      // The SDK may speak a newer service version than this Azurite's baseline; what the tests use is older than both.
      "--skipApiVersionCheck",
    ],
    { AZURITE_ACCOUNTS: `${account}:${key}` },
    // Any HTTP answer means it serves (an unsigned request to the account gets 403 or 400).
    async () => (await fetch(`${endpoint}?comp=list`, { signal: AbortSignal.timeout(1_000) })).status > 0,
    60_000,
  );
  return {
    endpoint,
    account,
    key,
    dataDir,
    admin: () => new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, key)),
    output: server.output,
    stop: async () => {
      await stopChild(server);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
