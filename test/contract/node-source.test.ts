// replication: AllMatchingNodes on a cluster with no shared copy (nodeLocal.seed Auto, the platform allowing
// input.tenancy.nodeLocal.seedFromSource): each node's Job hydrates from the source itself. The function
// composes the first node's Job unpinned; the real `function-model-cache` binary runs its exact argv against a
// real HTTP server (nginx) into a directory standing for the node's local claim; its verified report, observed,
// pins the bytes, and the next node's Job, composed from that observation, must publish exactly them and
// refuse other bytes (exit 3, nothing published on the node).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runEntrypoint, type CliRun } from "../support/hydrator.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { field, isObject } from "../../functions/common/json.ts";
import type { HydrationReport } from "../../functions/api/hydration-report.ts";
import { CACHE_MOUNT, TERMINATION_LOG } from "../../functions/composition/replica/job.ts";
import { NODE_ANNOTATION } from "../../functions/composition/replica/node-local.ts";
import { EXIT } from "../../functions/hydrator/hydrate.ts";
import type { FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../functions/sdk/types.ts";
import { startNginx, type Nginx } from "../support/nginx.ts";
import { baseXr, compose, observedObject, reportData, statusOf, type ObservedAs } from "../support/replica-builders.ts";
import { NODE_SOURCE_INPUT } from "../support/node-scenarios.ts";

const work = mkdtempSync(join(tmpdir(), "node-source-"));
let seq = 0;
const fresh = (what: string): string => {
  const d = join(work, `${++seq}-${what}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const WEIGHTS = Buffer.alloc(3 * 1024 * 1024, 7);
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let nginx: Nginx;
beforeAll(async () => {
  const root = fresh("served");
  writeFileSync(join(root, "model.safetensors"), WEIGHTS);
  nginx = await startNginx(root, { accessLog: false });
});
afterAll(async () => {
  await nginx?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The platform allows node copies from the source, and (for this test's server on loopback) loopback sources. */
const input = (): JsonObject => ({
  ...NODE_SOURCE_INPUT,
  tenancy: { ...(NODE_SOURCE_INPUT["tenancy"] as JsonObject), sources: { refusedAddresses: ["LinkLocal", "Metadata"] } },
});

/** A cluster with no storage class for a shared copy, two nodes, an HTTP source pinned per file, nothing pinned by the fleet. */
const xr = (file = "model.safetensors", status?: JsonObject): JsonObject =>
  baseXr(
    {
      cluster: {
        name: "prod-east",
        providerConfigRef: { kind: "ClusterProviderConfig", name: "prod-east" },
        cloud: "Existing",
        csiDrivers: [],
        nodes: [{ name: "gpu-node-0" }, { name: "gpu-node-1" }],
      },
      artifact: { kind: "Weights", layout: "Flat", source: { http: { url: `${nginx.url}/${file}`, sha256: sha256(WEIGHTS) } } },
      nodeLocal: { size: "40Gi" },
    },
    status,
  );

const run = (args: string[]): CliRun => runEntrypoint(args, { cwd: fresh("cwd"), home: fresh("home"), tmp: fresh("tmp") });

/** Each node's Job composed in this response. */
function nodeJobs(rsp: FunctionResponse): Map<string, { key: string; job: JsonObject }> {
  const out = new Map<string, { key: string; job: JsonObject }>();
  for (const [key, s] of Object.entries(rsp.desired.resources)) {
    if (!key.startsWith("nodejob-")) continue;
    const job = field(s.resource, "spec", "forProvider", "manifest");
    if (isObject(job)) out.set(String(field(job, "metadata", "annotations", NODE_ANNOTATION)), { key, job });
  }
  return out;
}

const argsOf = (job: JsonObject): string[] => {
  const containers = field(job, "spec", "template", "spec", "containers");
  const c = Array.isArray(containers) && isObject(containers[0]) ? containers[0] : {};
  return c["args"] as string[];
};

/** The Job's argv with its mounts rewritten onto directories: /cache (the node's local claim), /tmp, the termination log. */
function podArgs(job: JsonObject, cache: string): string[] {
  const mounts: Record<string, string> = { [CACHE_MOUNT]: cache, "/tmp": fresh("tmp") };
  return argsOf(job).map((a) => {
    if (a === TERMINATION_LOG) return join(fresh("pod"), "termination-log");
    for (const [mp, dir] of Object.entries(mounts)) if (a === mp || a.startsWith(`${mp}/`)) return `${dir}${a.slice(mp.length)}`;
    return a;
  });
}

/** What provider-kubernetes would observe once the first node's Job finished with `report`: its claim Bound, its Job Complete, its report. */
function observedAfter(rsp: FunctionResponse, node: string, report: HydrationReport): Record<string, ResourceState> {
  const out: Record<string, ResourceState> = {};
  for (const [key, s] of Object.entries(rsp.desired.resources)) {
    const on = field(s.resource, "spec", "forProvider", "manifest", "metadata", "annotations", NODE_ANNOTATION);
    if (key.startsWith("node") && on !== undefined && on !== node) continue;
    const as: ObservedAs = key.startsWith("nodevolume-")
      ? { status: { phase: "Bound" } }
      : key.startsWith("nodejob-")
        ? { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } }
        : key.startsWith("nodereport-")
          ? { extra: reportData(report as unknown as Record<string, JsonValue>) }
          : {};
    out[key] = observedObject(key, s.resource, as);
  }
  return out;
}

/** What provider-kubernetes would observe once the first node's Job failed on exit code 3 (podFailurePolicy FailJob) with `report`. */
function observedFailed(rsp: FunctionResponse, node: string, report: HydrationReport): Record<string, ResourceState> {
  const out = observedAfter(rsp, node, report);
  for (const key of Object.keys(out).filter((k) => k.startsWith("nodejob-")))
    out[key] = observedObject(key, rsp.desired.resources[key]?.resource ?? {}, {
      status: {
        failed: 1,
        conditions: [{ type: "Failed", status: "True", reason: "PodFailurePolicy", message: "exit code 3", lastTransitionTime: report.updatedAt }],
      },
    });
  return out;
}

describe("a node's Job hydrating from the source, run for real against nginx", () => {
  it("the first node copies unpinned; its verified copy pins the next node, which publishes exactly those bytes and refuses others", () => {
    // 1. First pass: no shared copy composed; only the first node by name gets a Job, from the source itself, unpinned.
    const first = compose(xr(), {}, undefined, {}, input());
    expect(Object.keys(first.desired.resources).filter((k) => k.startsWith("volume-") || k.startsWith("job-"))).toEqual([]);
    const jobs1 = nodeJobs(first);
    expect([...jobs1.keys()]).toEqual(["gpu-node-0"]);
    const job0 = jobs1.get("gpu-node-0")?.job ?? {};
    expect(argsOf(job0).slice(0, 3)).toEqual(["hydrate", "--source", `${nginx.url}/model.safetensors`]);
    expect(argsOf(job0)).not.toContain("--expect-manifest-digest");
    expect(argsOf(job0)[argsOf(job0).indexOf("--dest") + 1]).toBe(CACHE_MOUNT);

    // 2. The real hydrator runs the first node's Job: verified bytes on its local claim.
    const node0 = fresh("gpu-node-0-claim");
    const r0 = run(podArgs(job0, node0));
    expect(r0.code, r0.stderr).toBe(EXIT.ok);
    expect(r0.report.phase).toBe("Ready");
    const pin = r0.report.manifestDigest ?? "";
    expect(pin).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(node0, "model.safetensors"))).toEqual(WEIGHTS);

    // 3. Its report observed: the replica reports that digest as the cluster's pin, and the next node's Job expects it.
    const second = compose(xr(), observedAfter(first, "gpu-node-0", r0.report), undefined, {}, input());
    const status = statusOf(second);
    expect({ sharedPhase: status.sharedPhase, manifestDigest: status.manifestDigest, seed: status.seed }).toEqual({
      sharedPhase: "Ready",
      manifestDigest: pin,
      seed: "Source",
    });
    const job1 = nodeJobs(second).get("gpu-node-1")?.job ?? {};
    expect(argsOf(job1)[argsOf(job1).indexOf("--expect-manifest-digest") + 1]).toBe(pin);

    // 4. The next node publishes exactly the pinned bytes, verified.
    const node1 = fresh("gpu-node-1-claim");
    const r1 = run(podArgs(job1, node1));
    expect(r1.code, r1.stderr).toBe(EXIT.ok);
    expect(r1.report.manifestDigest).toBe(pin);
    expect(readFileSync(join(node1, "model.safetensors"))).toEqual(WEIGHTS);
    expect(readFileSync(join(node1, "SHA256SUMS"))).toEqual(readFileSync(join(node0, "SHA256SUMS")));
    const v = run(["verify", node1, "--expect-manifest-digest", pin]);
    expect(v.code, v.stderr).toBe(EXIT.ok);

    // 5. The source now serves other bytes under the same name. Even with a per-file checksum that admits them (a
    //    moving revision does so), the pinned manifest refuses them: permanent, nothing published on the node.
    const other = Buffer.alloc(WEIGHTS.length, 8);
    writeFileSync(join(nginx.root, "model.safetensors"), other);
    const moved = podArgs(job1, fresh("gpu-node-1-moved")).map((a) => (a === sha256(WEIGHTS) ? sha256(other) : a));
    expect(moved).toContain(sha256(other));
    const dest = moved[moved.indexOf("--dest") + 1] ?? "";
    const r2 = run(moved);
    expect(r2.code).toBe(EXIT.permanent);
    expect(r2.report.phase).toBe("Failed");
    expect(r2.report.message).toContain(`not the expected ${pin}: the source changed since it was pinned`);
    expect(existsSync(join(dest, "SHA256SUMS"))).toBe(false);
    expect(existsSync(join(dest, "model.safetensors"))).toBe(false);

    // 6. And the Job as composed (its own checksum) refuses them too.
    const dest3 = fresh("gpu-node-1-as-composed");
    const r3 = run(podArgs(job1, dest3));
    expect(r3.code).toBe(EXIT.permanent);
    expect(existsSync(join(dest3, "model.safetensors"))).toBe(false);
  });
});

describe("the source answers 404: the first node's real Job fails for good, and no node retries it or takes it over", () => {
  it("the hydrator's report says permanent Source; observed, the node is Failed with the cause, no Job anywhere, the others Blocked", () => {
    const first = compose(xr("no-such.safetensors"), {}, undefined, {}, input());
    const job0 = nodeJobs(first).get("gpu-node-0")?.job ?? {};
    const r0 = run(podArgs(job0, fresh("gpu-node-0-claim")));
    expect(r0.code, r0.stderr).toBe(EXIT.permanent);
    expect(r0.report).toMatchObject({ phase: "Failed", permanent: "Source" });
    expect(r0.report.message).toMatch(/404/);

    // Observed: its Job failed (FailJob on exit 3), its report the hydrator's own.
    const observed = observedFailed(first, "gpu-node-0", r0.report);
    const second = compose(xr("no-such.safetensors"), observed, undefined, {}, input());
    const line = (rsp: FunctionResponse, n: string) => statusOf(rsp).nodes?.find((x) => x.name === n);
    expect(line(second, "gpu-node-0")).toMatchObject({ phase: "Failed", attempts: 1, permanentFailure: "Source", lastError: r0.report.message });
    expect(line(second, "gpu-node-1")?.phase).toBe("Blocked");
    expect([...nodeJobs(second).keys()], "no retry on gpu-node-0, no hand-over to gpu-node-1").toEqual([]);
    expect(second.conditions?.find((c) => c.type === "Hydrated")?.reason).toBe("PermanentFailure");

    // The next pass, from the status it wrote, the Job dropped: the same, and still nothing runs.
    const wrote = second.desired.composite?.resource["status"] as JsonObject;
    const dropped = Object.fromEntries(Object.entries(observed).filter(([k]) => !k.startsWith("nodejob-")));
    const third = compose(xr("no-such.safetensors", wrote), dropped, undefined, {}, input());
    expect(line(third, "gpu-node-0")).toMatchObject({ phase: "Failed", permanentFailure: "Source" });
    expect([...nodeJobs(third).keys()]).toEqual([]);
  });
});
