// A newcomer's first minutes: the commands on the README's first screen, run
// as written with a clean HOME and the machine's default Node.js (whatever
// `node` is on PATH once this test run's own Node 24 is taken off it: v20 on
// the build machine, where the wrapper must find Node 24 itself). And
// `npx function-model-cache serve`, stopped with SIGTERM as a supervisor does,
// must not leave its server running (npm does not pass SIGTERM on).
//
// Two departures from a truly fresh machine, both to spare a shared machine a
// download it already made: FMC_CACHE_DIR points at this machine's cache of
// Node 24 (~/.cache/function-model-cache, which scripts/lib.sh fills), so the
// wrapper finds it rather than installing it again (its install path is the
// one scripts/lib.sh uses, exercised on CI's first run); and `npm ci` runs only
// when node_modules is missing or older than the lock file (the rule of
// scripts/lib.sh install_deps: on CI it has just run).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { homedir, tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/function-server.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const home = mkdtempSync(join(tmpdir(), "fmc-clean-home-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** The README's first-screen block: the fenced block after the first-screen marker. */
function firstScreen(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("<!-- first-screen:");
  expect(at, "README.md marks its first-screen commands").toBeGreaterThan(-1);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(block).not.toBeNull();
  return (block?.[1] ?? "").split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
}

/** PATH without this run's Node 24 (scripts/lib.sh puts it first): what a newcomer's shell has. */
const machinePath = (process.env["PATH"] ?? "")
  .split(delimiter)
  .filter((d) => !d.includes(`${join("function-model-cache", "node24")}`))
  .join(delimiter);
const env: NodeJS.ProcessEnv = {
  PATH: machinePath,
  HOME: home,
  FMC_CACHE_DIR: process.env["FMC_CACHE_DIR"] ?? join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "function-model-cache"),
  // A clean HOME makes npm check for a newer npm and say so: not what the test is about.
  npm_config_update_notifier: "false",
  TMPDIR: tmpdir(),
};
const machineNode = spawnSync("node", ["--version"], { env, encoding: "utf8" }).stdout.trim();

function depsCurrent(): boolean {
  const marker = join(ROOT, "node_modules", ".package-lock.json");
  return existsSync(marker) && statSync(marker).mtimeMs >= statSync(join(ROOT, "package-lock.json")).mtimeMs;
}

describe(`the README's first screen, with a clean HOME and the machine's Node (${machineNode || "none"})`, () => {
  it("runs as written: no EBADENGINE, no .ts error, the usage of each command", () => {
    expect(machineNode, "a node on the machine's PATH").toMatch(/^v\d+\./);
    const lines = firstScreen().map((l) => (l.trim().startsWith("npm ci") && depsCurrent() ? "true  # npm ci: node_modules is current" : l));
    expect(lines.some((l) => l.includes("function-model-cache"))).toBe(true);
    const r = spawnSync("bash", ["-euo", "pipefail", "-c", lines.join("\n")], { cwd: ROOT, env, encoding: "utf8", timeout: 600_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/EBADENGINE|ERR_UNKNOWN_FILE_EXTENSION|npm warn/);
    expect(r.stdout).toContain("Usage: function-model-cache hydrate");
    expect(r.stdout).toContain("Usage: function-model-cache verify");
  });

  it("`npx function-model-cache serve` stops when npx gets SIGTERM (npm does not pass it on)", async () => {
    const port = await freePort();
    const npx = spawn("npx", ["function-model-cache", "serve", "--insecure", "--address", `127.0.0.1:${port}`], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    npx.stdout.on("data", (d: Buffer) => (out += d.toString()));
    npx.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const listening = (): Promise<boolean> =>
      new Promise((res) => {
        const s = connect(port, "127.0.0.1");
        s.once("connect", () => (s.destroy(), res(true)));
        s.once("error", () => res(false));
      });
    const waitFor = async (want: boolean, what: string): Promise<void> => {
      for (let i = 0; i < 600; i++) {
        if ((await listening()) === want) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${what}; output:\n${out}`);
    };
    await waitFor(true, "the server never listened");
    npx.kill("SIGTERM");
    // Bounded only so a failure ends: the server polls its parent once a second, then drains.
    await waitFor(false, "the server still listens after npx was stopped: orphaned");
  }, 120_000);
});
