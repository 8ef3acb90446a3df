// replication: AllMatchingNodes, the node's copy Job run for real: the function composes it once the
// cluster's shared copy reports a digest; the real `function-model-cache` binary runs its exact argv with its
// volumes as directories (the shared copy, built by the real hydrator, read-only at /seed; the node's local
// claim at /cache). Every file is hashed and the manifest digest must be the shared copy's: a seed whose
// bytes changed is refused as permanent (exit 3, which the Job's podFailurePolicy fails at once) and
// nothing is published on the node.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runEntrypoint, type CliRun } from "../support/hydrator.ts";
import { afterAll, describe, expect, it } from "vitest";
import { field, isObject } from "../../functions/common/json.ts";
import { HydrationReport } from "../../functions/api/hydration-report.ts";
import { CACHE_MOUNT, TERMINATION_LOG } from "../../functions/composition/replica/job.ts";
import { SEED_MOUNT } from "../../functions/composition/replica/node-local.ts";
import { EXIT } from "../../functions/hydrator/hydrate.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { nodeCopyJob } from "../support/node-scenarios.ts";

const work = mkdtempSync(join(tmpdir(), "node-copy-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
const fresh = (what: string): string => {
  const d = join(work, `${++seq}-${what}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const run = (args: string[]): CliRun => runEntrypoint(args, { cwd: fresh("cwd"), home: fresh("home"), tmp: fresh("tmp") });

/** The cluster's shared copy, as its own Job publishes it: a verified Flat bundle built by the real hydrator. */
function sharedCopy(): { dir: string; digest: string } {
  const src = fresh("source");
  mkdirSync(join(src, "tokenizer"), { recursive: true });
  writeFileSync(join(src, "model.safetensors"), Buffer.alloc(3 * 1024 * 1024, 7));
  writeFileSync(join(src, "config.json"), '{"architectures":["Qwen3ForCausalLM"]}\n');
  writeFileSync(join(src, "tokenizer", "tokenizer.json"), '{"version":"1.0"}\n');
  const dir = fresh("shared");
  const r = run(["hydrate", "--source", `file://${src}`, "--dest", dir, "--progress", "json"]);
  expect(r.code, r.stderr).toBe(EXIT.ok);
  return { dir, digest: r.report.manifestDigest ?? "" };
}

/** The Job's argv with its mounts rewritten onto directories: /seed, /cache, /tmp and the termination log. */
function podArgs(job: JsonObject, seed: string, cache: string): { args: string[]; terminationLog: string } {
  const pod = field(job, "spec", "template", "spec");
  const containers = field(pod, "containers");
  const c = Array.isArray(containers) && isObject(containers[0]) ? containers[0] : {};
  const terminationLog = join(fresh("pod"), "termination-log");
  const mounts: Record<string, string> = { [SEED_MOUNT]: seed, [CACHE_MOUNT]: cache, "/tmp": fresh("tmp") };
  const rewrite = (a: string): string => {
    if (a === TERMINATION_LOG) return terminationLog;
    const [scheme, path] = a.startsWith("file://") ? ["file://", a.slice(7)] : ["", a];
    for (const [mp, dir] of Object.entries(mounts)) if (path === mp || path.startsWith(`${mp}/`)) return `${scheme}${dir}${path.slice(mp.length)}`;
    return a;
  };
  return { args: (c["args"] as string[]).map(rewrite), terminationLog };
}

describe("a node's copy Job, run for real on the shared copy", () => {
  const shared = sharedCopy();
  const job = nodeCopyJob(shared.digest);

  it("mounts the shared copy read-only and its own local claim, and expects the shared copy's digest", () => {
    const args = (field(job, "spec", "template", "spec", "containers") as JsonObject[])[0]?.["args"] as string[];
    expect(args[args.indexOf("--expect-manifest-digest") + 1]).toBe(shared.digest);
    expect(args[args.indexOf("--dest") + 1]).toBe(CACHE_MOUNT);
  });

  it("publishes exactly the shared copy's bytes on the node, verified, and a re-run does nothing new", () => {
    const node = fresh("node-claim");
    const { args, terminationLog } = podArgs(job, shared.dir, node);
    const r = run(args);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.report.phase).toBe("Ready");
    expect(r.report.manifestDigest).toBe(shared.digest);
    expect(HydrationReport.parse(JSON.parse(readFileSync(terminationLog, "utf8")))).toEqual(r.report);
    for (const f of ["model.safetensors", "config.json", "tokenizer/tokenizer.json", "SHA256SUMS"])
      expect(readFileSync(join(node, f)), f).toEqual(readFileSync(join(shared.dir, f)));
    const v = run(["verify", node, "--expect-manifest-digest", shared.digest]);
    expect(v.code, v.stderr).toBe(EXIT.ok);
    const again = run(podArgs(job, shared.dir, node).args);
    expect(again.code, again.stderr).toBe(EXIT.ok);
    expect(again.report.manifestDigest).toBe(shared.digest);
  });

  it("refuses a shared copy whose bytes changed since it was verified: permanent, nothing published on the node", () => {
    const tampered = fresh("tampered");
    cpSync(shared.dir, tampered, { recursive: true });
    writeFileSync(join(tampered, "config.json"), '{"architectures":["SomethingElse"]}\n');
    const node = fresh("node-claim");
    const r = run(podArgs(job, tampered, node).args);
    expect(r.code).toBe(EXIT.permanent);
    expect(r.report.phase).toBe("Failed");
    expect(existsSync(join(node, "SHA256SUMS"))).toBe(false);
    expect(existsSync(join(node, "config.json"))).toBe(false);
  });
});
