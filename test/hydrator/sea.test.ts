// The hydrator as a Node single executable application (scripts/sea/build.sh),
// built for this machine and run with no Node.js on PATH at all: hydrate a
// directory, verify it, and catch a corrupted file, as a laptop or an
// air-gapped host without Node would.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const work = mkdtempSync(join(tmpdir(), "fmc-sea-"));
const bin = join(work, "function-model-cache-hydrator");
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  const r = spawnSync("bash", [join(ROOT, "scripts", "sea", "build.sh"), bin], { cwd: ROOT, encoding: "utf8", timeout: 600_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe(bin);
}, 600_000);

/** The binary alone: an environment with no PATH to any node. */
const run = (...args: string[]) => spawnSync(bin, args, { encoding: "utf8", env: { PATH: "/nonexistent", HOME: work }, timeout: 120_000 });

describe("the single-executable hydrator", () => {
  it("runs with no Node.js installed: hydrate, verify, and a corrupted file caught", () => {
    const src = join(work, "src");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "config.json"), "{}\n");
    writeFileSync(join(src, "sub", "weights.bin"), Buffer.alloc(200_000, 7));
    const dest = join(work, "bundle");

    const h = run("hydrate", "--source", `file://${src}`, "--dest", dest, "--progress", "none", "--output", "human");
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toMatch(new RegExp(`^Published: 2 files, 195\\.3 KiB in ${dest}\\n`));
    const digest = /digest {4}(sha256:[0-9a-f]{64})/.exec(h.stdout)?.[1] ?? "";

    const v = run("verify", dest, "--expect-manifest-digest", digest, "--output", "json");
    expect(v.status, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ phase: "Ready", manifestDigest: digest });

    writeFileSync(join(dest, "sub", "weights.bin"), Buffer.alloc(200_000, 8));
    const bad = run("verify", dest, "--output", "json");
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain("sub/weights.bin: sha256");
    expect(run("version").stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
