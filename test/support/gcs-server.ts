// Starts a real Cloud Storage emulator (fake-gcs-server) on a free loopback
// port through scripts/ensure-gcs-server.sh, which builds it once from the Go
// module proxy; when it cannot be installed the caller's test fails with the
// script's own reason, never passes. The official @google-cloud/storage SDK
// is the client that writes fixtures to it and reads back what it holds.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Storage } from "@google-cloud/storage";
import { freePort, ROOT } from "./function-server.ts";
import { ensureTool, spawnUntilReady, stopChild } from "./s3-server.ts";

export interface GcsServer {
  /** The JSON API's base URL (what --endpoint and spec.artifact.source.gcs.endpoint take). */
  endpoint: string;
  /** The filesystem backend's root (bucket b's object o is `${root}/b/o`); undefined for the memory backend. */
  root: string | undefined;
  /** The official SDK, pointed at the emulator (unauthenticated, as an emulator wants). */
  sdk: Storage;
  /** The emulator's access log since it was ready, one line per request ("GET /storage/v1/b/... HTTP/1.1" 206 ...). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * memory: bucket versioning works (a pinned generation stays readable after an overwrite). filesystem: objects are
 * plain files under `root`, so a test can corrupt one at rest; no versioning.
 */
export async function startGcsServer(backend: "memory" | "filesystem" = "memory"): Promise<GcsServer> {
  // Built (or found) first, so the readiness wait below never includes a build.
  ensureTool("ensure-gcs-server.sh");
  const dir = await mkdtemp(join(tmpdir(), "fmc-gcs-"));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await spawnUntilReady(
    "fake-gcs-server",
    "bash",
    [join(ROOT, "scripts", "ensure-gcs-server.sh"), "serve", String(port), dir, backend],
    {},
    async () => (await fetch(`${endpoint}/_internal/healthcheck`, { signal: AbortSignal.timeout(1_000) })).status === 200,
  );
  // The whole access log (spawnUntilReady keeps only a tail): a resume test counts a run's requests in it.
  let log = "";
  const keep = (d: Buffer): void => void (log += d.toString());
  server.child.stdout?.on("data", keep);
  server.child.stderr?.on("data", keep);
  return {
    endpoint,
    root: backend === "filesystem" ? dir : undefined,
    sdk: new Storage({ apiEndpoint: endpoint, projectId: "fmc-test" }),
    output: () => log,
    stop: async () => {
      await stopChild(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Media downloads of `name` the emulator served so far (each ranged chunk is one). */
export function mediaGets(server: GcsServer, bucket: string, name: string): number {
  const path = `/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`;
  return server
    .output()
    .split("\n")
    .filter((l) => l.includes(`GET ${path}`)).length;
}
