// The Functions' processes on the live control plane. With
// PACKAGE_RUNTIME=External Crossplane starts no Deployment for a Function:
// control-plane.sh points each active FunctionRevision at a loopback port,
// and the suite runs the server there, with mutual TLS from a certificate
// signed by Crossplane's CA (as the Deployment runtime's <name>-tls-server).
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "../../support/function-server.ts";
import { log } from "./kube.ts";

export class LiveFunction {
  /** The last 200 kB the process printed, across restarts. */
  output = "";
  private child: ChildProcess | undefined;
  private readonly name: string;
  private readonly argv: string[];
  private readonly pidFile: string;

  /**
   * `name` is also the pid file's (`<state>/pids/<name>.pid`, which `control-plane.sh down` stops); `argv` runs
   * under node and must listen where the revision's endpoint points.
   */
  constructor(name: string, argv: string[], state: string) {
    this.name = name;
    this.argv = argv;
    this.pidFile = join(state, "pids", `${name}.pid`);
  }

  async start(): Promise<void> {
    // A process left by an interrupted run still holds the port: stop it.
    const stale = Number(await readFile(this.pidFile, "utf8").catch(() => "0"));
    if (stale > 0) {
      try {
        process.kill(stale, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const child = spawn(process.execPath, this.argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    await writeFile(this.pidFile, String(child.pid));
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-200_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.child = child;
    // Not waitFor: it would retry past a process that already exited.
    for (const deadline = Date.now() + 30_000; !this.output.includes('"msg":"serving"');) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not log "serving" within 30 s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`ok: ${this.name} serving with mutual TLS`);
  }

  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
  }
}
