// The pinning promise for an azure:// prefix, end to end across two clusters:
// the fleet composes a replica per cluster; the first cluster's hydration Job
// (its argv and env as composed, run by the real binary against Azurite)
// verifies the prefix and its report pins the fleet; then a blob under the
// prefix is overwritten; the second cluster's Job, composed with the pin,
// resolves the prefix anew, sees other bytes and refuses them before
// publishing (exit 3, the expected manifest digest named). The fleet keeps the
// pinned bytes: the pin does not move, the first cluster stays Ready on them,
// and the second is a reported drift, not Ready. Azurite keeps no versions, so this
// is the ETag path (an account with versioning would read the listed versions,
// a stronger form of the same promise: docs/hydrator.md).
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HYDRATION_REPORT_KEY, HydrationReport } from "../../functions/api/hydration-report.ts";
import { INPUT_API_VERSION } from "../../functions/api/input.ts";
import { field, isObject } from "../../functions/common/json.ts";
import { composeFleet } from "../../functions/composition/fleet/compose.ts";
import { CACHE_MOUNT, CONTAINER_NAME, TERMINATION_LOG } from "../../functions/composition/replica/job.ts";
import type { FunctionResponse, JsonObject, JsonValue, ResourceState } from "../../functions/sdk/types.ts";
import { startAzurite, type Azurite } from "../support/azurite.ts";
import { contractOf, fleet, modelCache, observedReplica, replicaKeys, request as fleetRequest } from "../support/fleet-builders.ts";
import { BIN } from "../support/function-server.ts";
import { compose as composeReplica, observedObject, statusOf } from "../support/replica-builders.ts";

const IMAGE = "ghcr.io/function-model-cache/function-model-cache:v0.1.0";
const CLUSTERS = fleet().slice(0, 2); // gke-us-east1-h100, eks-us-east-1-h100
const [FIRST, SECOND] = ["gke-us-east1-h100", "eks-us-east-1-h100"];

let az: Azurite;
let models: ContainerClient;
let work: string;
let input: JsonObject;
let xr: JsonObject;

beforeAll(async () => {
  az = await startAzurite();
  work = await mkdtemp(join(tmpdir(), "fmc-azure-pin-"));
  models = az.admin().getContainerClient("models");
  await models.create();
  for (const [name, body] of Object.entries({ "config.json": '{"model_type":"qwen3"}\n', "model.safetensors": "weights, generation 1\n" })) {
    await models.getBlockBlobClient(`qwen/${name}`).upload(Buffer.from(body), Buffer.byteLength(body));
  }
  // The platform lets this cache's credentials go to the emulator (the default allows *.blob.core.windows.net only).
  const origin = new URL(az.endpoint).origin;
  input = { apiVersion: INPUT_API_VERSION, kind: "Input", tenancy: { credentialDestinations: { azure: [origin] } } };
  xr = modelCache({
    artifact: {
      kind: "Weights",
      source: { azure: { uri: "azure://fmcmodels/models/qwen/", endpoint: az.endpoint, credentialsSecretRef: { name: "azure-creds" } } },
    },
    clusterSelector: { matchLabels: { tier: "prod" } },
  });
});

afterAll(async () => {
  await az?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const fleetStatus = (rsp: FunctionResponse): JsonObject => (rsp.desired.composite?.resource["status"] ?? {}) as JsonObject;
const clusterOf = (r: JsonObject): string => field(r, "spec", "cluster", "name") as string;

/** The fleet's response with each replica observed with the status its cluster reported (or none yet). */
function composeFleetWith(composite: JsonObject, statuses: Record<string, JsonObject | undefined>): FunctionResponse {
  const first = composeFleet(fleetRequest(composite, { clusters: CLUSTERS, input }), { defaultHydratorImage: IMAGE });
  const observed: Record<string, ResourceState> = {};
  for (const [key, r] of Object.entries(first.desired.resources)) {
    if (r.resource["kind"] === "ConfigMap") observed[key] = observedReplica(r.resource, undefined, key);
    else observed[key] = observedReplica(r.resource, statuses[clusterOf(r.resource)], key);
  }
  return composeFleet(fleetRequest(composite, { clusters: CLUSTERS, input, observed }), { defaultHydratorImage: IMAGE });
}

/** The ModelCacheReplica the fleet composed for `cluster`, in the full form (the contract's spec inlined). */
function replicaFor(rsp: FunctionResponse, cluster: string): JsonObject {
  const key = replicaKeys(rsp).find((k) => clusterOf(rsp.desired.resources[k]?.resource as JsonObject) === cluster) as string;
  const r = rsp.desired.resources[key]?.resource as JsonObject;
  const spec = r["spec"] as JsonObject;
  return {
    apiVersion: "modelcache.dev/v1alpha1",
    kind: "ModelCacheReplica",
    metadata: { name: field(r, "metadata", "name") ?? `qwen3-8b-${cluster}`, namespace: "ml-team" },
    spec: { ...contractOf(rsp).spec, cacheRef: spec["cacheRef"] ?? null, cluster: spec["cluster"] ?? null },
  };
}

/** The hydration Job the replica composes, its container's args and env. */
function jobOf(replica: JsonObject): { key: string; args: string[]; env: JsonObject[] } {
  const rsp = composeReplica(replica, {}, undefined, {}, input);
  for (const [key, s] of Object.entries(rsp.desired.resources)) {
    const m = field(s.resource, "spec", "forProvider", "manifest");
    if (!isObject(m) || m["kind"] !== "Job") continue;
    const containers = field(m, "spec", "template", "spec", "containers") as JsonObject[];
    const c = containers.find((x) => x["name"] === CONTAINER_NAME) as JsonObject;
    return { key, args: c["args"] as string[], env: (c["env"] ?? []) as JsonObject[] };
  }
  throw new Error(`no Job composed: ${JSON.stringify(statusOf(rsp))}`);
}

/**
 * Runs the composed Job's container as the pod would: the argv as composed, the claim and the termination log as
 * directories here, the env as composed with each secretKeyRef filled from the Secret the platform holds (only the
 * account key: the Secret holds no SAS token, as a Secret with one key does).
 */
async function runJob(job: { args: string[]; env: JsonObject[] }, claim: string): Promise<{ code: number | null; out: string; report: HydrationReport }> {
  const log = join(work, `termination-${Math.random().toString(36).slice(2)}`);
  const args = job.args.map((a) =>
    a === CACHE_MOUNT ? claim : a.startsWith(`${CACHE_MOUNT}/`) ? `${claim}${a.slice(CACHE_MOUNT.length)}` : a === TERMINATION_LOG ? log : a,
  );
  const secret: Record<string, string> = { AZURE_STORAGE_KEY: az.key };
  const env: Record<string, string> = { PATH: process.env["PATH"] ?? "", HOME: work };
  for (const e of job.env) {
    const name = e["name"] as string;
    if (typeof e["value"] === "string") env[name] = e["value"];
    const ref = field(e, "valueFrom", "secretKeyRef");
    if (isObject(ref) && typeof secret[ref["key"] as string] === "string") env[name] = secret[ref["key"] as string] as string;
  }
  expect(args.join(" "), "the key is never an argument").not.toContain(az.key);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => ((out += d.toString()), (stdout += d.toString())));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const report = HydrationReport.parse(JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}"));
      resolve({ code, out, report });
    });
  });
}

/** The replica's status after its Job ran: the Job finished (or failed) and its report in the report ConfigMap. */
function replicaStatusAfter(replica: JsonObject, report: HydrationReport, succeeded: boolean): JsonObject {
  const first = composeReplica(replica, {}, undefined, {}, input);
  const observed: Record<string, ResourceState> = {};
  const jobStatus: JsonObject = succeeded
    ? { succeeded: 1, completionTime: "2024-01-01T00:10:00Z", conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2024-01-01T00:10:00Z" }] }
    : {
        failed: 1,
        conditions: [{ type: "Failed", status: "True", reason: "PodFailurePolicy", message: "exit code 3", lastTransitionTime: "2024-01-01T00:10:00Z" }],
      };
  for (const [key, state] of Object.entries(first.desired.resources)) {
    if (key.startsWith("job-")) observed[key] = observedObject(key, state.resource, { status: jobStatus });
    else if (key.startsWith("report-"))
      observed[key] = observedObject(key, state.resource, { extra: { data: { [HYDRATION_REPORT_KEY]: JSON.stringify(report) } } });
    else if (key.startsWith("volume-"))
      observed[key] = observedObject(key, state.resource, { status: { phase: "Bound", accessModes: ["ReadWriteMany"], capacity: { storage: "40Gi" } } });
    else observed[key] = observedObject(key, state.resource);
  }
  return JSON.parse(JSON.stringify(statusOf(composeReplica(replica, observed, undefined, {}, input)))) as JsonObject;
}

describe("an azure:// prefix pinned across two clusters", () => {
  it("the first cluster's verified bytes pin the fleet; a blob overwritten afterwards is refused on the second cluster, and the fleet keeps the pinned bytes", async () => {
    // Both clusters selected, nothing pinned yet: each replica gets a Job for the prefix.
    const start = composeFleetWith(xr, {});
    expect(replicaKeys(start)).toHaveLength(2);
    expect(fleetStatus(start)["pin"]).toBeUndefined();

    // The first cluster hydrates and verifies.
    const firstReplica = replicaFor(start, FIRST as string);
    const firstClaim = join(work, "first-claim");
    const a = await runJob(jobOf(firstReplica), firstClaim);
    expect(a.code, a.out).toBe(0);
    expect(a.report).toMatchObject({ phase: "Ready", source: "azure://fmcmodels/models/qwen/", resolvedRevision: expect.stringMatching(/^etags:sha256:/) });
    const firstStatus = replicaStatusAfter(firstReplica, a.report, true);
    expect(firstStatus["phase"]).toBe("Ready");

    // Its report pins the fleet; the second replica now carries the pin.
    const pinnedRsp = composeFleetWith(xr, { [FIRST as string]: firstStatus });
    const pin = fleetStatus(pinnedRsp)["pin"] as JsonObject;
    expect(pin).toMatchObject({ resolvedRevision: a.report.resolvedRevision, manifestDigest: a.report.manifestDigest, pinnedFrom: FIRST });
    const composite = { ...xr, status: { pin } };
    const secondReplica = replicaFor(composeFleetWith(composite, { [FIRST as string]: firstStatus }), SECOND as string);
    expect(field(secondReplica, "spec", "pin")).toEqual({ resolvedRevision: a.report.resolvedRevision, manifestDigest: a.report.manifestDigest });

    // A blob under the prefix is overwritten after the pin.
    await models.getBlockBlobClient("qwen/model.safetensors").upload(Buffer.from("weights, generation 2\n"), 22);

    // The second cluster's Job resolves the prefix anew, gets other bytes and refuses them before publishing.
    const secondJob = jobOf(secondReplica);
    expect(secondJob.args).toEqual(expect.arrayContaining(["--expect-manifest-digest", a.report.manifestDigest as string]));
    const secondClaim = join(work, "second-claim");
    const b = await runJob(secondJob, secondClaim);
    expect(b.code, b.out).toBe(3);
    expect(b.report.phase).toBe("Failed");
    expect(b.report.message).toContain(`expected ${a.report.manifestDigest as string}`);
    await expect(readFile(join(secondClaim, "model.safetensors"))).rejects.toThrow();
    const secondStatus = replicaStatusAfter(secondReplica, b.report, false);
    expect(secondStatus["phase"]).not.toBe("Ready");
    expect(JSON.stringify(secondStatus), "the hydrator's reason reaches the replica's status").toContain(`expected ${a.report.manifestDigest as string}`);

    // The fleet keeps the pinned bytes: the pin stays, the first cluster stays Ready on them, the second says why not.
    const after = composeFleetWith(composite, { [FIRST as string]: firstStatus, [SECOND as string]: secondStatus });
    expect(fleetStatus(after)["pin"]).toEqual(pin);
    const byName = new Map(((fleetStatus(after)["clusters"] ?? []) as JsonObject[]).map((c) => [c["name"] as string, c]));
    expect(byName.get(FIRST as string)).toMatchObject({ phase: "Ready" });
    // The second cluster is a reported drift, naming the revision it resolved and the pinned one.
    expect(byName.get(SECOND as string)).toMatchObject({
      phase: "Failed",
      drift: true,
      message: `cluster ${SECOND as string} resolved revision ${b.report.resolvedRevision as string}, pinned ${a.report.resolvedRevision as string}`,
    });
    expect(after.desired.composite?.ready).not.toBe("True");
    expect((await readFile(join(firstClaim, "model.safetensors"), "utf8")).trim()).toBe("weights, generation 1");
    for (const text of [a.out, b.out, JSON.stringify(after)] as JsonValue[]) expect(String(text)).not.toContain(az.key);
  });
});
