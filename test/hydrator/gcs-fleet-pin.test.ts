// The pinning test for gs://: two clusters of one fleet, one of which hydrates
// after the prefix got a new generation. The first cluster's Job (as the
// function composes it) hydrates from the emulator and reports the generations
// it resolved; the fleet pins them; the second cluster's Job, composed from the
// pin, reads exactly those generations after the overwrite and publishes the
// pinned manifest: the fleet keeps the pinned bytes. The same Job without the
// pin (what an unpinned source does) would publish other bytes, which the
// fleet would report as drift.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeFleet } from "../../functions/composition/fleet/compose.ts";
import { CONTAINER_NAME } from "../../functions/composition/replica/job.ts";
import { field } from "../../functions/common/json.ts";
import type { FunctionResponse, JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { contractOf, fleet, modelCache, observedReplica, replicaKeys, request } from "../support/fleet-builders.ts";
import { startGcsServer, type GcsServer } from "../support/gcs-server.ts";
import { runCliIsolated as cli } from "../support/hydrator.ts";
import { baseXr, compose, keysOfKind, manifestAt } from "../support/replica-builders.ts";

const opts = { defaultHydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.1.0" };
const prod = { clusterSelector: { matchLabels: { tier: "prod" } } };

let gcs: GcsServer;
let work: string;

beforeAll(async () => {
  gcs = await startGcsServer("memory");
  work = await mkdtemp(join(tmpdir(), "fmc-gcs-pin-"));
  await gcs.sdk.createBucket("fleet-models", { versioning: { enabled: true } });
  const b = gcs.sdk.bucket("fleet-models");
  await b.file("qwen/config.json").save('{"generation":1}\n', { resumable: false });
  await b.file("qwen/model.safetensors").save(randomBytes(2 * 1024 * 1024), { resumable: false });
}, 900_000);

afterAll(async () => {
  await gcs?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The hydrator's arguments of the Job the function composes for a replica of `spec` on one cluster. */
function jobArgs(spec: JsonObject): string[] {
  const rsp = compose(baseXr(spec));
  const [key] = keysOfKind(rsp, "Job");
  if (key === undefined) throw new Error(`no Job composed: ${JSON.stringify(rsp.results)}`);
  const containers = field(manifestAt(rsp, key), "spec", "template", "spec", "containers") as JsonObject[];
  return (containers.find((c) => c["name"] === CONTAINER_NAME)?.["args"] ?? []) as string[];
}

/** Runs those arguments as the Job would, into `dest` (the claim's mount), without the in-cluster report. */
async function runJob(args: string[], dest: string): Promise<{ code: number | null; out: string; report: Record<string, unknown> }> {
  const local: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--report-configmap" || a === "--termination-log") i++;
    else if (a === "--dest") {
      local.push(a, dest);
      i++;
    } else local.push(a);
  }
  const run = await cli(local, {});
  const last = run.out
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .at(-1);
  return { ...run, report: JSON.parse(last ?? "{}") as Record<string, unknown> };
}

/** The fleet's replicas observed with these per-cluster statuses. */
function observedFor(xr: JsonObject, statuses: Record<string, JsonObject>): Record<string, ResourceState> {
  const rsp = composeFleet(request(xr, { clusters: fleet() }), opts);
  const out: Record<string, ResourceState> = {};
  for (const [key, r] of Object.entries(rsp.desired.resources)) {
    if (r.resource["kind"] === "ConfigMap") out[key] = observedReplica(r.resource, undefined, key);
    else {
      const cluster = field(r.resource, "spec", "cluster", "name") as string;
      if (cluster in statuses) out[key] = observedReplica(r.resource, statuses[cluster], key);
    }
  }
  return out;
}

const clusterOf = (rsp: FunctionResponse, key: string): string => field(rsp.desired.resources[key]?.resource, "spec", "cluster", "name") as string;

describe("a gs:// prefix across a fleet", () => {
  it("keeps the pinned bytes on the second cluster after the prefix got a new generation", async () => {
    const source = { gcs: { uri: "gs://fleet-models/qwen/", endpoint: gcs.endpoint } };
    const artifact = { kind: "Weights", layout: "Flat", source };
    const xr = modelCache({ ...prod, artifact: { kind: "Weights", source } });

    // First pass: no pin; every selected cluster gets a replica.
    const first = composeFleet(request(xr, { clusters: fleet() }), opts);
    const keys = replicaKeys(first).filter((k) => first.desired.resources[k]?.resource["kind"] !== "ConfigMap");
    expect(keys.length).toBeGreaterThanOrEqual(2);
    const [a, b] = keys.map((k) => clusterOf(first, k)) as [string, string];
    const claimName = contractOf(first).spec["claimName"] as string;

    // Cluster A hydrates with the Job the function composes for it (no pin yet).
    const argsA = jobArgs({ artifact });
    expect(argsA).not.toContain("--gcs-generations");
    const runA = await runJob(argsA, join(work, "a"));
    expect(runA.code, runA.out).toBe(0);
    const { resolvedRevision, manifestDigest } = runA.report as { resolvedRevision: string; manifestDigest: string };
    expect(resolvedRevision).toMatch(/^generations:[0-9]+:sha256:[0-9a-f]{64}$/);

    // The prefix changes before cluster B hydrates: a new generation of one object.
    await gcs.sdk.bucket("fleet-models").file("qwen/config.json").save('{"generation":2}\n', { resumable: false });

    // Cluster A reports Ready; the fleet pins what it verified and hands the pin to every replica.
    const ready = { phase: "Ready", claimName, resolvedRevision, manifestDigest, bytesDone: 1, bytesTotal: 1 };
    const second = composeFleet(request(xr, { clusters: fleet(), observed: observedFor(xr, { [a]: ready }) }), opts);
    const status = second.desired.composite?.resource["status"] as JsonObject;
    expect(status["pin"]).toMatchObject({ resolvedRevision, manifestDigest, pinnedFrom: a });
    const pin = contractOf(second).spec["pin"] as JsonObject;
    expect(pin).toEqual({ resolvedRevision, manifestDigest });

    // Cluster B's Job, composed from the pin: it names the generations and the manifest.
    const argsB = jobArgs({ artifact, pin });
    expect(argsB.slice(argsB.indexOf("--gcs-generations"), argsB.indexOf("--gcs-generations") + 2)).toEqual(["--gcs-generations", resolvedRevision]);
    expect(argsB).toContain(manifestDigest);
    const runB = await runJob(argsB, join(work, "b"));
    expect(runB.code, runB.out).toBe(0);
    expect(runB.report).toMatchObject({ phase: "Ready", resolvedRevision, manifestDigest });
    expect(await readFile(join(work, "b", "config.json"), "utf8")).toBe('{"generation":1}\n');

    // Without the pin the same prefix is other bytes now: the manifest check refuses them (the Job fails, no drift).
    const unpinned = argsB.filter((x, i) => x !== "--gcs-generations" && argsB[i - 1] !== "--gcs-generations");
    const runC = await runJob(unpinned, join(work, "c"));
    expect(runC.code, runC.out).toBe(3);
    expect(runC.out).toContain(manifestDigest);

    // Cluster B reports what it verified: the fleet is Ready on both, with no drift.
    const third = composeFleet(
      request(modelCache({ ...prod, artifact: { kind: "Weights", source } }, { status: { pin: status["pin"] as JsonObject } }), {
        clusters: fleet(),
        observed: observedFor(xr, { [a]: ready, [b]: { ...ready, resolvedRevision: runB.report["resolvedRevision"] as string } }),
      }),
      opts,
    );
    const lines = (third.desired.composite?.resource["status"] as JsonObject)["clusters"] as JsonObject[];
    for (const name of [a, b]) expect(lines.find((l) => l["name"] === name)).toMatchObject({ phase: "Ready" });
    expect(JSON.stringify(third.results)).not.toMatch(/drift/i);
  });
});
