// Runs the real CLI (`node functions/cli.ts hydrate|verify ...`) as a child
// process, as the Job and a person do, and reads its report line.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { HydrationReport } from "../../functions/api/hydration-report.ts";
import { BIN, ROOT } from "./function-server.ts";

export const CLI = join(ROOT, "functions", "cli.ts");

/**
 * The artifact the object-store hydrate tests (s3, gcs, azure) put under a prefix: two shards, small files, a
 * nested one, and a name a URL must encode and sha256sum must read back (a space, a plus, non-ASCII).
 */
export function objectStoreModel(): Record<string, Buffer> {
  return {
    "config.json": Buffer.from('{"model_type":"qwen3"}\n'),
    "tokenizer.json": Buffer.from('{"vocab":{}}\n'),
    "model-00001-of-00002.safetensors": randomBytes(5 * 1024 * 1024 + 3),
    "model-00002-of-00002.safetensors": randomBytes(1024 * 1024),
    "extra/notes.txt": Buffer.from("nested\n"),
    "extra/a b+c ü.txt": Buffer.from("odd name\n"),
  };
}

/** Every byte of a source's read (a web ReadableStream or a Node stream). */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as the hydration report. */
  report: HydrationReport;
  /** JSON lines before it (progress, retry notices). */
  events: Record<string, unknown>[];
}

/** `hydrate` unless the arguments name the command. */
function withCommand(args: string[]): string[] {
  return args[0] === "hydrate" || args[0] === "verify" ? args : ["hydrate", ...args];
}

function parse(code: number | null, stdout: string, stderr: string): CliRun {
  const lines = stdout.split("\n").filter((l) => l.trim() !== "");
  const last = lines.at(-1);
  if (last === undefined) throw new Error(`no output (exit ${code}); stderr:\n${stderr}`);
  const report = HydrationReport.parse(JSON.parse(last));
  const events = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, stdout, stderr, report, events };
}

/**
 * The image's entrypoint (bin/function-model-cache.js) with exactly a composed Job's arguments, as its Pod runs
 * it with no cluster (KUBERNETES_SERVICE_HOST unset): an environment of nothing but HOME and TMPDIR, the report
 * printed (and written to the termination log the arguments name).
 */
export function runEntrypoint(args: string[], dirs: { cwd: string; home: string; tmp: string }): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dirs.cwd, env: { HOME: dirs.home, TMPDIR: dirs.tmp }, encoding: "utf8", timeout: 120_000 });
  return parse(r.status, r.stdout, r.stderr);
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliRun> {
  return runCliRaw(args, env, timeoutMs).then((r) => parse(r.code, r.stdout, r.stderr));
}

/** The CLI's exit code, stdout and stderr as they are (a usage error prints no report to parse). */
export function runCliRaw(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...withCommand(args)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout: out, stderr: err });
    });
  });
}

/**
 * Runs the real CLI as a Job would: only PATH, HOME and `env` in its
 * environment (no credential leaks in from the test's), stdout and stderr
 * together, bounded in time.
 */
export function runCliIsolated(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** Starts the CLI without waiting (for kill -9 tests). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...withCommand(args)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** `sha256sum -c SHA256SUMS` in `dir`, the real command: throws with its output unless every line is OK. */
export function sha256sumCheck(dir: string): string {
  const r = spawnSync("sha256sum", ["--strict", "-c", "SHA256SUMS"], { cwd: dir, encoding: "utf8" });
  if (r.error) throw new Error(`sha256sum could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`sha256sum -c failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/**
 * The durable chunk indices the engine's staging records for the object whose id starts with `idPrefix`, under
 * `<dest>/.model-cache/staging` (what a resume after kill -9 must not fetch again).
 */
export async function durableChunks(dest: string, idPrefix: string): Promise<number[]> {
  const staging = join(dest, ".model-cache", "staging");
  for (const s of await readdir(staging).catch(() => [] as string[])) {
    const objects = join(staging, s, "objects");
    for (const f of await readdir(objects).catch(() => [] as string[])) {
      if (!f.endsWith(".state.json")) continue;
      const st = JSON.parse(await readFile(join(objects, f), "utf8").catch(() => "{}")) as { id?: string; done?: number[] };
      if (st.id?.startsWith(idPrefix)) return st.done ?? [];
    }
  }
  return [];
}
