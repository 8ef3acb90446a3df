// Starts the real function (bin/function-model-cache.js serve) as a child
// process on a free loopback port, the way Crossplane or `crossplane render`
// talks to it, and stops it again.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = fileURLToPath(new URL("../../bin/function-model-cache.js", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface FunctionProcess {
  port: number;
  child: ChildProcess;
  /** Everything the process printed, for assertions and failure messages. */
  output(): string;
  /**
   * Resolves with the output once `text` has been printed `times` times, and rejects (showing the output) after
   * `ms`. The server logs asynchronously, so a client can hold its answer before the line about it is written.
   */
  waitForOutput(text: string, times?: number, ms?: number): Promise<string>;
  /** Resolves with the exit code once the process exits. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `serve` with `args` plus an --address on a free port and waits until it logs "serving". */
export async function startFunction(args: string[], env: NodeJS.ProcessEnv = {}): Promise<FunctionProcess> {
  const port = await freePort();
  return spawnServing(port, [BIN, "serve", "--address", `127.0.0.1:${port}`, ...args], env);
}

/** Runs `node argv` (a server that will listen on `port`) and waits until it logs "serving". */
export async function spawnServing(port: number, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<FunctionProcess> {
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`function did not start within 20s:\n${out}`)), 20_000);
    const check = () => {
      if (out.includes('"msg":"serving"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`function exited with ${code} before serving:\n${out}`));
    });
  });
  return {
    port,
    child,
    output: () => out,
    waitForOutput: async (text, times = 1, ms = 10_000) => {
      const count = () => out.split(text).length - 1;
      for (const deadline = Date.now() + ms; count() < times;) {
        if (Date.now() > deadline) throw new Error(`the function printed ${JSON.stringify(text)} ${count()} time(s), not ${times}, within ${ms} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return out;
    },
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
