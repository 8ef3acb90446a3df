// The hydrator image runs `hydrate` and `verify` from a JavaScript bundle of
// functions/hydrator/main.ts (`npm run build:hydrator`, FMC_HYDRATOR_BUNDLE in
// the Dockerfile) instead of the TypeScript sources. Built here the same way,
// it must publish the same artifact, with the same manifest digest, as the
// sources do, verify it, and catch a corrupted file.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin", "function-model-cache.js");
const work = mkdtempSync(join(tmpdir(), "fmc-bundle-"));
const out = join(work, "dist");
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(() => {
  const r = spawnSync("npm", ["run", "-s", "build:hydrator", "--", `--outdir=${out}`], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  expect(r.status, r.stderr).toBe(0);
}, 300_000);

const run = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120_000 });
const bundled = { FMC_HYDRATOR_BUNDLE: join(out, "main.js") };

describe("the hydrator bundle", () => {
  it("splits the cloud SDKs into their own files, loaded only for their scheme", () => {
    const files = readdirSync(out);
    expect(files).toContain("main.js");
    expect(files.filter((f) => /^(s3|azure|gcs)-.*\.js$/.test(f))).toHaveLength(3);
  });

  it("is what bin runs for hydrate and verify when FMC_HYDRATOR_BUNDLE names it", () => {
    const missing = join(work, "no-such-bundle.js");
    const r = run({ FMC_HYDRATOR_BUNDLE: missing }, "hydrate", "--help");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("no-such-bundle.js");
    expect(run(bundled, "hydrate", "--help").stdout).toMatch(/^Usage: function-model-cache hydrate/);
  });

  it("publishes the artifact the sources publish (same manifest digest), verifies it, and catches a corrupted file", () => {
    const src = join(work, "src");
    mkdirSync(join(src, "sub"), { recursive: true });
    writeFileSync(join(src, "config.json"), "{}\n");
    writeFileSync(join(src, "sub", "weights.bin"), Buffer.alloc(3_000_000, 7));
    const digestOf = (stdout: string): string => (JSON.parse(stdout) as { manifestDigest: string }).manifestDigest;

    const fromSources = run({}, "hydrate", "--source", `file://${src}`, "--dest", join(work, "a"), "--progress", "none", "--output", "json");
    expect(fromSources.status, fromSources.stderr).toBe(0);
    const fromBundle = run(bundled, "hydrate", "--source", `file://${src}`, "--dest", join(work, "b"), "--progress", "none", "--output", "json");
    expect(fromBundle.status, fromBundle.stderr).toBe(0);
    expect(digestOf(fromBundle.stdout)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digestOf(fromBundle.stdout)).toBe(digestOf(fromSources.stdout));

    const v = run(bundled, "verify", join(work, "b"), "--expect-manifest-digest", digestOf(fromSources.stdout), "--output", "json");
    expect(v.status, v.stderr).toBe(0);

    writeFileSync(join(work, "b", "sub", "weights.bin"), Buffer.alloc(3_000_000, 8));
    const bad = run(bundled, "verify", join(work, "b"), "--output", "json");
    expect(bad.status).toBe(3);
    expect(bad.stderr + bad.stdout).toContain("sub/weights.bin");
  });
});
