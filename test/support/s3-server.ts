// Starts a real S3-compatible server (versitygw, posix backend, versioning on)
// on a free loopback port over a temp directory, and stops it again. The
// binary comes from scripts/ensure-s3-server.sh; when it cannot be installed
// the caller's test fails with the script's own reason, never passes.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, ROOT } from "./function-server.ts";

/** Runs one of the project's ensure-*.sh scripts and returns the path it prints, or throws with its log. */
export function ensureTool(script: string): string {
  // Its progress lines (one per step, with the step's duration; the build output is in a log file, scripts/lib.sh)
  // go straight to the test run's stderr: a first run that builds a server for minutes says so.
  const res = spawnSync("bash", [join(ROOT, "scripts", script)], { encoding: "utf8", timeout: 900_000, stdio: ["ignore", "pipe", "inherit"] });
  const path = res.stdout.trim().split("\n").pop() ?? "";
  if (res.status !== 0 || path === "") {
    throw new Error(
      `scripts/${script} could not install its tool (exit ${res.status}${res.error ? `, ${res.error.message}` : ""}): its reason is printed above`,
    );
  }
  return path;
}

export interface RunningServer {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Spawns `cmd` and resolves once `ready()` does, failing with the process output if it exits or times out. */
export async function spawnUntilReady(
  what: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<RunningServer> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  // A test process that dies without its afterAll must not leave servers behind.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      process.removeListener("exit", killOnExit);
      resolve(code);
    }),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${out}`);
    }
    if (await ready().catch(() => false)) return { child, output: () => out, exited };
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${what} was not ready within ${timeoutMs / 1000}s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopChild(server: RunningServer): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 5_000);
  await server.exited;
  clearTimeout(timer);
}

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The backing directory: bucket "b" is `${dataDir}/b`. */
  dataDir: string;
  /** The server's access log (one line per request, e.g. "s3_GetObject <key> ..."). */
  accessLog: string;
  /** AWS_* variables for a client of this server. */
  env(): Record<string, string>;
  output(): string;
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3Server> {
  const bin = ensureTool("ensure-s3-server.sh");
  const dir = await mkdtemp(join(tmpdir(), "fmc-s3-"));
  const dataDir = join(dir, "data");
  const versionsDir = join(dir, "versions");
  await mkdir(dataDir);
  await mkdir(versionsDir);
  const accessLog = join(dir, "access.log");
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = "fmc-test-access";
  const secretAccessKey = "fmc-test-secret-key-0123456789";
  const region = "us-east-1";
  const server = await spawnUntilReady(
    "versitygw",
    bin,
    ["--quiet", "--access-log", accessLog, "--port", `127.0.0.1:${port}`, "--region", region, "posix", "--versioning-dir", versionsDir, dataDir],
    { ROOT_ACCESS_KEY: accessKeyId, ROOT_SECRET_KEY: secretAccessKey },
    // Any HTTP answer (an unsigned request gets 403) means the gateway serves.
    async () => (await fetch(endpoint, { signal: AbortSignal.timeout(1_000) })).status > 0,
  );
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    dataDir,
    accessLog,
    env: () => ({
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      AWS_REGION: region,
      AWS_ENDPOINT_URL_S3: endpoint,
    }),
    output: server.output,
    stop: async () => {
      await stopChild(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
