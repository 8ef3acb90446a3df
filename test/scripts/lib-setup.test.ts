// scripts/lib.sh's set-up, honest and quiet: a long step says one line when
// it starts (with how long it took on this machine last time) and one when it
// ends (with how long it took), its output in a log file, the end of which is
// shown on failure; the Crossplane version is asked of the Go module proxy
// directly, over its HTTP protocol (a real local server speaking it here), once
// per machine, with no 403 printed.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const LIB = resolve(import.meta.dirname, "../../scripts/lib.sh");
const work = mkdtempSync(join(tmpdir(), "fmc-lib-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;

/** Sources lib.sh with its own cache dir and runs `script`; stdout, stderr, exit code. FMC_XP_VERSION is set (no proxy asked) unless a test clears it. */
function lib(
  script: string,
  env: Record<string, string> = {},
  cache = join(work, `cache${++seq}`),
): { code: number | null; out: string; err: string; cache: string } {
  const r = spawnSync("bash", ["-c", `source "${LIB}"\n${script}`], {
    encoding: "utf8",
    env: { ...process.env, FMC_CACHE_DIR: cache, FMC_XP_VERSION: "v2.2.1", ...env },
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr, cache };
}

describe("step", () => {
  it("one line at the start and one at the end with the duration, the output in the log; the next run says how long it took last time", () => {
    const first = lib(`step demo "building the demo" bash -c 'echo go: downloading a; echo go: downloading b'`);
    expect(first.code, first.err).toBe(0);
    // Durations are whole seconds of the clock: a quick step that straddles a second's edge takes "1 s".
    const lines = first.err.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`==> building the demo; log: ${first.cache}/logs/demo.log`);
    expect(lines[1]).toMatch(/^==> building the demo: done in [01] s$/);
    expect(readFileSync(join(first.cache, "logs", "demo.log"), "utf8")).toBe("go: downloading a\ngo: downloading b\n");
    const again = lib(`step demo "building the demo" true`, {}, first.cache);
    expect(again.err.split("\n")[0]).toMatch(
      new RegExp(`^==> building the demo \\(took [01] s on this machine last time\\); log: ${first.cache}/logs/demo\\.log$`),
    );
  });

  it("on failure: the exit code, and the end of the log", () => {
    const r = lib(`step broken "building the broken thing" bash -c 'echo compiling; echo "error: undefined: x" >&2; exit 7' || echo "rc=$?"`);
    expect(r.out.trim()).toBe("rc=7");
    expect(r.err).toMatch(/==> building the broken thing FAILED after [01] s \(exit 7\); the end of .*broken\.log:\ncompiling\nerror: undefined: x\n$/);
  });

  it("fmt_secs", () => {
    expect(lib(`fmt_secs 42; echo; fmt_secs 612`).out).toBe("42 s\n10 min 12 s");
  });
});

describe("the Crossplane version, asked of the module proxy", () => {
  // A process of its own (the test blocks in spawnSync while lib.sh asks it): the GOPROXY protocol's
  // $module/@v/$version.zip, refusing what it does not serve with 403 as the proxy here does; it serves
  // the versions listed in the file SERVED and logs every request to ASKED.
  const served = join(work, "served");
  const askedLog = join(work, "asked");
  let proxy: ChildProcess;
  let url: string;
  const serve = (...versions: string[]): void => writeFileSync(served, versions.join("\n"));
  const asked = (): string[] =>
    existsSync(askedLog)
      ? readFileSync(askedLog, "utf8")
          .split("\n")
          .filter((l) => l !== "")
      : [];
  beforeAll(async () => {
    serve();
    proxy = spawn(
      process.execPath,
      [
        "-e",
        `
      const { createServer } = require("node:http"); const fs = require("node:fs");
      const s = createServer((req, res) => {
        fs.appendFileSync(${JSON.stringify(askedLog)}, req.method + " " + req.url + "\\n");
        const m = /^\\/github\\.com\\/crossplane\\/crossplane\\/v2\\/@v\\/(v[\\d.]+)\\.zip$/.exec(req.url);
        const ok = m !== null && fs.readFileSync(${JSON.stringify(served)}, "utf8").split("\\n").includes(m[1]);
        res.writeHead(ok ? 200 : 403).end();
      }).listen(0, "127.0.0.1", () => console.log(s.address().port));`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const port = await new Promise<string>((r) => proxy.stdout?.once("data", (d: Buffer) => r(d.toString().trim())));
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => proxy?.kill());

  it("the tested version when served; else the newest candidate served; remembered, so asked once per machine; no 403 printed", () => {
    serve("v2.2.1", "v2.2.3");
    const pinned = lib(`echo "$XP_VERSION"`, { GOPROXY: `${url},direct`, FMC_XP_VERSION: "" });
    expect(pinned.out.trim()).toBe("v2.2.1");
    expect(pinned.err).toBe("");

    serve("v2.2.3");
    rmSync(askedLog, { force: true });
    const other = lib(`echo "$XP_VERSION"; resolve_xp_version`, { GOPROXY: `${url},direct`, FMC_XP_VERSION: "" });
    expect(other.out.trim().split("\n"), "resolved at source time, then read back from the cache").toEqual(["v2.2.3", "v2.2.3"]);
    expect(other.err).toBe("==> the Go module proxy does not serve Crossplane v2.2.1 (the tested version); using v2.2.3\n");
    expect(asked()).toEqual([
      "HEAD /github.com/crossplane/crossplane/v2/@v/v2.2.1.zip",
      "HEAD /github.com/crossplane/crossplane/v2/@v/v2.2.4.zip",
      "HEAD /github.com/crossplane/crossplane/v2/@v/v2.2.3.zip",
    ]);
    expect(readFileSync(join(other.cache, "crossplane.version"), "utf8").trim()).toBe("v2.2.3");
  });

  it("FMC_XP_VERSION overrides without asking", () => {
    rmSync(askedLog, { force: true });
    expect(lib(`echo "$XP_VERSION"`, { GOPROXY: url, FMC_XP_VERSION: "v2.1.0" }).out.trim()).toBe("v2.1.0");
    expect(asked()).toEqual([]);
  });
});
