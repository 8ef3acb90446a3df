// scripts/demo.sh, the README's first command, as a user runs it: the default
// example, a serving example (which runs the platform's own step first, a
// stand-in), and an example that shows a refusal (render fails as intended).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../support/function-server.ts";

const demo = (example?: string) =>
  spawnSync("bash", [join(ROOT, "scripts", "demo.sh"), ...(example ? [example] : [])], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });

describe("scripts/demo.sh", () => {
  it("renders the default example end to end: the fleet's replicas and its status", () => {
    const r = demo();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kind: ModelCacheReplica/);
    expect(r.stdout).toMatch(/message: 'composed a replica for each of 2 newly selected clusters/);
  });

  it("renders a serving example with the platform's step first: the workload mounts the verified cache", () => {
    const r = demo("serving-ready-mounted");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/runs the platform's own step first/);
    expect(r.stdout).toMatch(/1 cache mount\(s\) verified: ml-team\/qwen3-8b on gke-us-east1-a/);
    expect(r.stdout).toMatch(/kind: LeaderWorkerSet/);
  });

  it("says a refusal is meant, and exits 0 when render fails as intended", () => {
    const r = demo("fleet-bad-cel");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/render failed as intended/);
  });
});
