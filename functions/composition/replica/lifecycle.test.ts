// The lifecycle rules: retries with backoff, refetch, revision rollover,
// retention, and the data-safety rules (never drop a volume, never replace a
// running Job for an unrelated change, pass others' resources through).
import { field } from "../../common/json.ts";
import { describe, expect, it } from "vitest";
import type { FunctionResponse, JsonObject, ResourceState } from "../../sdk/types.ts";
import { BACKOFF_CAP_SECONDS, backoffSeconds, decideRetry, MAX_ATTEMPTS } from "./lifecycle.ts";
import { MOUNTS_REQUIREMENT } from "./mounts.ts";
import { KEY, jobName } from "./names.ts";
import { composeScenario, fullSpec, scenarios } from "../../../test/support/replica-scenarios.ts";
import { baseXr, compose, EPOCH_MS, keysOfKind, manifestAt, observedObject, reportData, request, statusOf } from "../../../test/support/replica-builders.ts";
import { composeReplica } from "./compose.ts";
import { PERMANENT_FIX } from "./decide.ts";

const CLAIM = "qwen3-8b-3f9c2a1b7d";
const FAILED_AT = "2024-01-01T00:20:00Z";

/** Observe everything `xr` composes, with the current Job failed at FAILED_AT (its report's extra fields: `more`). */
function failedCluster(xr: JsonObject, more: JsonObject = {}): Record<string, ResourceState> {
  const first = compose(xr);
  const out: Record<string, ResourceState> = {};
  for (const [k, s] of Object.entries(first.desired.resources)) {
    if (k.startsWith("job-"))
      out[k] = observedObject(k, s.resource, {
        status: {
          failed: 5,
          conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "backoff limit", lastTransitionTime: FAILED_AT }],
        },
      });
    else if (k.startsWith("report-"))
      out[k] = observedObject(k, s.resource, {
        extra: reportData({
          phase: "Failed",
          source: "hf://Qwen/Qwen3-8B@main",
          message: "401 Unauthorized",
          bytesDone: 0,
          filesDone: 0,
          bytesPerSecond: 0,
          startedAt: FAILED_AT,
          updatedAt: FAILED_AT,
          ...more,
        }),
      });
    else out[k] = observedObject(k, s.resource, k.startsWith("volume-") ? { status: { phase: "Bound" } } : {});
  }
  return out;
}

describe("retry with backoff", () => {
  it.each([
    { attempt: 1, want: 60, reason: "the first retry waits the base delay" },
    { attempt: 2, want: 120, reason: "each attempt doubles the delay" },
    { attempt: 5, want: 960, reason: "still doubling" },
    { attempt: 10, want: BACKOFF_CAP_SECONDS, reason: "the delay is capped" },
  ])("backoff after attempt $attempt is $want s: $reason", ({ attempt, want }) => {
    expect(backoffSeconds(attempt)).toBe(want);
  });

  const xr = baseXr({}, { attempts: 2, claimName: CLAIM, phase: "Hydrating" });
  const observed = failedCluster(xr);
  const failedMs = Date.parse(FAILED_AT);

  it("within the backoff window: Failed, the failed Job stays, lastError kept, requeued when the window ends", () => {
    const rsp = composeReplica(request(xr, observed), { now: () => failedMs + 30_000 });
    const st = statusOf(rsp);
    expect(st.phase).toBe("Failed");
    expect(st.lastError).toBe("401 Unauthorized");
    expect(st.attempts).toBe(2);
    expect(keysOfKind(rsp, "Job")).toEqual([KEY.job(jobName({ claimName: CLAIM, refetch: "", attempt: 2 }))]);
    expect(rsp.ttlSeconds).toBe(backoffSeconds(2) - 30);
    expect(st.message).toContain("attempt 3 starts at 2024-01-01T00:22:00.000Z");
  });

  it("after the window: a new attempt with a new Job name, the failed Job dropped, lastError kept", () => {
    const rsp = composeReplica(request(xr, observed), { now: () => failedMs + backoffSeconds(2) * 1000 });
    const st = statusOf(rsp);
    expect(st.phase).toBe("Pending");
    expect(st.attempts).toBe(3);
    expect(st.lastError).toBe("401 Unauthorized");
    expect(keysOfKind(rsp, "Job")).toEqual([KEY.job(jobName({ claimName: CLAIM, refetch: "", attempt: 3 }))]);
    // The Role follows the new attempt's report, and only it.
    expect(field(manifestAt(rsp, KEY.role), "rules")).toEqual([
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: [`${jobName({ claimName: CLAIM, refetch: "", attempt: 3 })}-report`],
        verbs: ["get", "update", "patch"],
      },
    ]);
  });

  it("the last attempt failing gives up: Failed, no Job composed, until a refetch", () => {
    const last = baseXr({}, { attempts: MAX_ATTEMPTS, claimName: CLAIM, phase: "Hydrating" });
    const rsp = composeReplica(request(last, failedCluster(last)), { now: () => failedMs + 10 * 3600_000 });
    expect(statusOf(rsp).phase).toBe("Failed");
    expect(keysOfKind(rsp, "Job")).toEqual([]);
    expect(decideRetry(MAX_ATTEMPTS, FAILED_AT, Number.MAX_SAFE_INTEGER)).toEqual({ kind: "giveUp" });
    // Given up, and the Job gone: still Failed (status remembers), no new Job.
    const after = baseXr({}, statusOf(rsp) as JsonObject);
    const again = compose(after, Object.fromEntries(Object.entries(failedCluster(last)).filter(([k]) => !k.startsWith("job-") && !k.startsWith("report-"))));
    expect(statusOf(again).phase).toBe("Failed");
    expect(keysOfKind(again, "Job")).toEqual([]);
  });
});

describe("a permanent failure (the hydrator's report says permanent): Failed at once, never retried until a refetch", () => {
  // The rows above are a report without the field (an older hydrator's): transient, retried as always.
  const xr = baseXr({}, { attempts: 2, claimName: CLAIM, phase: "Hydrating" });
  const observed = failedCluster(xr, { permanent: "Source" });
  const failedMs = Date.parse(FAILED_AT);
  const job = (attempt: number) => KEY.job(jobName({ claimName: CLAIM, refetch: "", attempt }));

  for (const [when, now] of [
    ["within what would be the backoff window", failedMs + 30_000],
    ["after it", failedMs + backoffSeconds(2) * 1000],
  ] as const)
    it(`${when}: Failed with the cause and the fix, reason PermanentFailure, the failed Job dropped, no retry`, () => {
      const rsp = composeReplica(request(xr, observed), { now: () => now });
      const st = statusOf(rsp);
      expect(st).toMatchObject({ phase: "Failed", attempts: 2, lastError: "401 Unauthorized", permanentFailure: "Source" });
      expect(st.message).toBe(`attempt 2 failed: 401 Unauthorized; not retried: ${PERMANENT_FIX.Source}`);
      expect(keysOfKind(rsp, "Job")).toEqual([]);
      expect(Object.keys(rsp.desired.resources), "its report stays, the record").toContain(KEY.report(jobName({ claimName: CLAIM, refetch: "", attempt: 2 })));
      expect(rsp.conditions?.find((c) => c.type === "Hydrated")).toMatchObject({ status: "False", reason: "PermanentFailure" });
      expect(rsp.results?.find((r) => r.severity === "Warning")).toMatchObject({ reason: "PermanentFailure" });
      expect(rsp.ttlSeconds).toBe(60);
    });

  it("the Job failed by its FailJob rule, seen before its final report: kept, no retry past the backoff while the report is awaited (2 minutes), then as before", () => {
    const one = baseXr({}, { attempts: 1, claimName: CLAIM, phase: "Hydrating" });
    const first = compose(one).desired.resources;
    const early: Record<string, ResourceState> = { ...failedCluster(one) };
    for (const k of Object.keys(early)) {
      const composed = first[k]?.resource ?? {};
      if (k.startsWith("job-"))
        early[k] = observedObject(k, composed, {
          status: {
            failed: 1,
            conditions: [{ type: "Failed", status: "True", reason: "PodFailurePolicy", message: "exit code 3", lastTransitionTime: FAILED_AT }],
          },
        });
      if (k.startsWith("report-"))
        early[k] = observedObject(k, composed, {
          extra: reportData({
            phase: "Hydrating",
            source: "hf://Qwen/Qwen3-8B@main",
            bytesDone: 0,
            filesDone: 0,
            bytesPerSecond: 0,
            startedAt: FAILED_AT,
            updatedAt: FAILED_AT,
          }),
        });
    }
    // Past attempt 1's backoff (60 s), within the report's grace (120 s): the failed Job stays, attempt 2 does not start.
    const waiting = composeReplica(request(one, early), { now: () => failedMs + 90_000 });
    expect(statusOf(waiting)).toMatchObject({ phase: "Failed", attempts: 1 });
    expect(statusOf(waiting).message).toBe("attempt 1 failed: exit code 3; waiting to observe its report, which says whether a retry can help");
    expect(keysOfKind(waiting, "Job")).toEqual([job(1)]);
    // Its report arrives saying permanent: stopped.
    const stopped = composeReplica(request(one, failedCluster(one, { permanent: "Source" })), { now: () => failedMs + 95_000 });
    expect(statusOf(stopped)).toMatchObject({ phase: "Failed", permanentFailure: "Source" });
    expect(keysOfKind(stopped, "Job")).toEqual([]);
    // No report that says so within the grace (an older hydrator, a lost write): transient, attempt 2 starts.
    const late = composeReplica(request(one, early), { now: () => failedMs + 121_000 });
    expect(statusOf(late)).toMatchObject({ phase: "Pending", attempts: 2 });
    expect(keysOfKind(late, "Job")).toEqual([job(2)]);
  });

  it("a later pass with its Job and report gone: still Failed from the status, no Job of this run starts again", () => {
    const first = composeReplica(request(xr, observed), { now: () => failedMs + 30_000 });
    const after = baseXr({}, statusOf(first) as JsonObject);
    const gone = Object.fromEntries(Object.entries(observed).filter(([k]) => !k.startsWith("job-") && !k.startsWith("report-")));
    const rsp = composeReplica(request(after, gone), { now: () => failedMs + 10 * 3600_000 });
    expect(statusOf(rsp)).toMatchObject({ phase: "Failed", attempts: 2, lastError: "401 Unauthorized", permanentFailure: "Source" });
    expect(keysOfKind(rsp, "Job"), `not ${job(2)} again, nor a retry`).toEqual([]);
  });

  it("a refetch clears it: attempt 1 under a new Job name, no permanentFailure, no lastError", () => {
    const first = composeReplica(request(xr, observed), { now: () => failedMs + 30_000 });
    const after = baseXr({ refetch: "2024-06-01" }, statusOf(first) as JsonObject);
    const rsp = compose(after, observed);
    const st = statusOf(rsp);
    expect(st).toMatchObject({ phase: "Pending", attempts: 1, observedRefetch: "2024-06-01" });
    expect(st.permanentFailure).toBeUndefined();
    expect(st.lastError).toBeUndefined();
    expect(keysOfKind(rsp, "Job")).toEqual([KEY.job(jobName({ claimName: CLAIM, refetch: "2024-06-01", attempt: 1 }))]);
  });
});

describe("refetch", () => {
  it("a new refetch value starts attempt 1 under a new Job name and records observedRefetch", () => {
    const before = baseXr({}, { attempts: 3, claimName: CLAIM, phase: "Ready" });
    const after = baseXr({ refetch: "2024-06-01" }, { attempts: 3, claimName: CLAIM, phase: "Ready" });
    const a = compose(before);
    const b = compose(after, failedCluster(before));
    expect(keysOfKind(b, "Job")).toHaveLength(1);
    expect(keysOfKind(b, "Job")).not.toEqual(keysOfKind(a, "Job"));
    expect(statusOf(b).attempts).toBe(1);
    expect(statusOf(b).observedRefetch).toBe("2024-06-01");
    expect(statusOf(b).lastError, "an earlier run's error does not carry into a refetch").toBeUndefined();
  });
});

describe("a running Job is not replaced by an unrelated change", () => {
  const running = baseXr({}, { attempts: 1, claimName: CLAIM, phase: "Hydrating" });
  it.each<{ reason: string; spec: JsonObject }>([
    {
      reason: "new resources",
      spec: {
        hydration: { activeDeadlineSeconds: 21600, backoffLimit: 4, ttlSecondsAfterFinished: 86400, concurrency: 8, resources: { limits: { memory: "2Gi" } } },
      },
    },
    {
      reason: "a node selector",
      spec: {
        hydration: {
          activeDeadlineSeconds: 21600,
          backoffLimit: 4,
          ttlSecondsAfterFinished: 86400,
          concurrency: 16,
          nodeSelector: { "node.kubernetes.io/instance-type": "c5.xlarge" },
        },
      },
    },
    { reason: "the fleet pinning the artifact", spec: { pin: { resolvedRevision: "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4" } } },
    { reason: "a new hydrator image", spec: { hydratorImage: "ghcr.io/function-model-cache/function-model-cache:v0.2.0" } },
  ])("$reason keeps the Job's name and key, and the Job Object never updates", ({ spec }) => {
    const a = compose(running);
    const b = compose(baseXr(spec, { attempts: 1, claimName: CLAIM, phase: "Hydrating" }));
    expect(keysOfKind(b, "Job")).toEqual(keysOfKind(a, "Job"));
    const [key] = keysOfKind(b, "Job");
    expect(field(b.desired.resources[key ?? ""]?.resource, "spec", "managementPolicies")).toEqual(["Observe", "Create", "Delete"]);
  });
});

describe("revision rollover and retention", () => {
  const byName = Object.fromEntries(scenarios().map((s) => [s.name, s]));
  const OLD_CLAIM = "qwen3-8b-0aa11bb22c";
  const OLD = KEY.volume(OLD_CLAIM);

  it("the old revision's volume stays, unchanged, while the new one is not Ready", () => {
    const s = byName["revision-rollout"];
    if (!s) throw new Error("scenario");
    const rsp = composeScenario(s);
    expect(statusOf(rsp).phase).toBe("Hydrating");
    expect(rsp.desired.resources[OLD]?.resource["spec"]).toEqual(s.observed[OLD]?.resource["spec"]);
    expect(rsp.desired.resources[KEY.volume(CLAIM)]).toBeDefined();
  });

  it("once the new one is Ready the old volume may be deleted: first allowed, then dropped", () => {
    const s = byName["revision-verified"];
    if (!s) throw new Error("scenario");
    const first = composeScenario(s);
    expect(statusOf(first).phase).toBe("Ready");
    expect(field(first.desired.resources[OLD]?.resource, "spec", "managementPolicies")).toEqual(["*"]);
    const flipped = { ...s.observed, [OLD]: observedObject(OLD, first.desired.resources[OLD]?.resource ?? {}, { status: { phase: "Bound" } }) };
    const second = compose(s.xr, flipped, undefined, { [MOUNTS_REQUIREMENT]: [] });
    expect(second.desired.resources[OLD], "dropped: Crossplane deletes the Object and, with Delete allowed, the claim").toBeUndefined();
    expect(statusOf(first).oldVolumes).toStrictEqual([{ claimName: OLD_CLAIM, mounts: 0, message: "released: nobody mounts it and spec.eviction is not set" }]);
  });

  // The serving step records each mount as a ConfigMap (serving/leases.ts); Crossplane delivers those of this cache and cluster.
  const record = (claim: string, workload = "Deployment serving/vllm"): JsonObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `m-${claim}`, namespace: "ml-team" },
    data: { cache: "ml-team/qwen3-8b", cluster: "prod-east", claim: `mc-ml-team/${claim}`, workload, consumer: "ServedModel ml-team/qwen3-8b" },
  });
  const keptAsIs = (rsp: FunctionResponse) => field(rsp.desired.resources[OLD]?.resource, "spec", "managementPolicies");
  const oldCases: { reason: string; required: Record<string, JsonObject[]>; eviction: { ttl: string } | undefined; kept: boolean; status: JsonObject }[] = [
    {
      reason: "while who mounts it is not known yet (records not delivered), the old volume stays",
      required: {},
      eviction: undefined,
      kept: true,
      status: { claimName: OLD_CLAIM, message: "kept: who mounts it is not known yet (the serving step's records are being read)" },
    },
    {
      reason: "a workload still mounting the old revision keeps its volume",
      required: { [MOUNTS_REQUIREMENT]: [record(OLD_CLAIM)] },
      eviction: undefined,
      kept: true,
      status: { claimName: OLD_CLAIM, mounts: 1, message: "kept: mounted by ServedModel ml-team/qwen3-8b: Deployment serving/vllm" },
    },
    {
      reason: "a record of another cluster or cache does not count",
      required: {
        [MOUNTS_REQUIREMENT]: [{ ...record(OLD_CLAIM), data: { ...(record(OLD_CLAIM)["data"] as JsonObject), cluster: "prod-west" } } as JsonObject],
      },
      eviction: undefined,
      kept: false,
      status: { claimName: OLD_CLAIM, mounts: 0, message: "released: nobody mounts it and spec.eviction is not set" },
    },
    {
      reason: "mounts of the new claim only: the old one is released",
      required: { [MOUNTS_REQUIREMENT]: [record(CLAIM)] },
      eviction: undefined,
      kept: false,
      status: { claimName: OLD_CLAIM, mounts: 0, message: "released: nobody mounts it and spec.eviction is not set" },
    },
    {
      reason: "unmounted with spec.eviction.ttl: kept until the TTL has passed since it was last mounted, and status says when",
      required: { [MOUNTS_REQUIREMENT]: [] },
      eviction: { ttl: "24h" },
      kept: true,
      status: {
        claimName: OLD_CLAIM,
        mounts: 0,
        unusedSince: "2025-01-01T00:00:00.000Z",
        releaseAt: "2025-01-02T00:00:00.000Z",
        message: "kept until 2025-01-02T00:00:00.000Z unless a workload mounts it again (spec.eviction.ttl 24h)",
      },
    },
  ];
  it.each(oldCases)("$reason", ({ required, eviction, kept, status }) => {
    const s = byName["revision-verified"];
    if (!s) throw new Error("scenario");
    const xr = eviction ? baseXr({ ...(s.xr["spec"] as JsonObject), eviction }, s.xr["status"] as JsonObject) : s.xr;
    const rsp = compose(xr, s.observed, EPOCH_MS + 366 * 86400_000, required);
    expect(statusOf(rsp).phase).toBe("Ready");
    expect(keptAsIs(rsp)).toStrictEqual(kept ? field(s.observed[OLD]?.resource, "spec", "managementPolicies") : ["*"]);
    expect(statusOf(rsp).oldVolumes).toStrictEqual([status]);
  });

  it("spec.eviction.ttl: released once the TTL has passed since the recorded last use; requeued for that moment before", () => {
    const s = byName["revision-verified"];
    if (!s) throw new Error("scenario");
    const xr = baseXr(
      { ...(s.xr["spec"] as JsonObject), eviction: { ttl: "1h" } },
      {
        ...(s.xr["status"] as JsonObject),
        oldVolumes: [{ claimName: OLD_CLAIM, mounts: 0, unusedSince: "2025-01-01T00:00:00.000Z", releaseAt: "2025-01-01T01:00:00.000Z", message: "" }],
      },
    );
    const soon = compose(xr, s.observed, Date.parse("2025-01-01T00:59:30Z"), { [MOUNTS_REQUIREMENT]: [] });
    expect(keptAsIs(soon)).toStrictEqual(field(s.observed[OLD]?.resource, "spec", "managementPolicies"));
    expect(soon.ttlSeconds).toBe(30);
    const late = compose(xr, s.observed, Date.parse("2025-01-01T01:00:00Z"), { [MOUNTS_REQUIREMENT]: [] });
    expect(keptAsIs(late)).toStrictEqual(["*"]);
    expect(statusOf(late).oldVolumes?.[0]?.message).toBe("released: nobody has mounted it for spec.eviction.ttl (1h)");
    // Mounted again before the TTL: kept, and the clock starts over when it is unmounted next.
    const again = compose(xr, s.observed, Date.parse("2025-01-01T00:30:00Z"), { [MOUNTS_REQUIREMENT]: [record(OLD_CLAIM)] });
    expect(statusOf(again).oldVolumes?.[0]).toStrictEqual({
      claimName: OLD_CLAIM,
      mounts: 1,
      message: "kept: mounted by ServedModel ml-team/qwen3-8b: Deployment serving/vllm",
    });
  });

  it("an old observe-only claim (a user's ExistingPVC) is never switched to deletion", () => {
    const s = byName["revision-verified"];
    if (!s) throw new Error("scenario");
    const existing = observedObject("volume-team-models", {
      apiVersion: "kubernetes.m.crossplane.io/v1alpha1",
      kind: "Object",
      spec: {
        managementPolicies: ["Observe"],
        forProvider: { manifest: { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "team-models", namespace: "serving" } } },
      },
    });
    const rsp = compose(s.xr, { ...s.observed, "volume-team-models": existing });
    expect(rsp.desired.resources["volume-team-models"]).toBeUndefined();
  });

  it.each([
    { whenUnselected: "Retain", policies: ["Observe", "Create", "Update", "LateInitialize"], reason: "Retain orphans the claim when the replica goes" },
    { whenUnselected: "Delete", policies: ["*"], reason: "Delete removes the claim with the replica" },
  ])("retention $whenUnselected: $reason", ({ whenUnselected, policies }) => {
    const rsp = compose(baseXr({ retention: { whenUnselected } }));
    expect(field(rsp.desired.resources[KEY.volume(CLAIM)]?.resource, "spec", "managementPolicies")).toEqual(policies);
  });
});

describe("data safety", () => {
  it.each(
    scenarios()
      .filter((s) => s.refused === true)
      .map((s) => [s.name, s] as const),
  )("%s: refused by the tenancy policy, every observed Object is kept and nothing new composed", (_n, s) => {
    const rsp = composeScenario(s);
    expect(Object.keys(rsp.desired.resources).sort()).toEqual(Object.keys(s.observed).sort());
  });

  it.each(
    scenarios()
      .filter((s) => s.phase !== "Fatal" && s.refused !== true)
      .map((s) => [s.name, s] as const),
  )("%s: the current volume is always composed", (_n, s) => {
    const rsp = composeScenario(s);
    const claim = String(field(fullSpec(s), "storage", "existingPVC", "claimName") ?? field(fullSpec(s), "claimName"));
    // A pvcClone source's volume is first composed once the source is read (whether it is a clone is fixed then);
    // once it is observed, it is always composed.
    const deciding = field(fullSpec(s), "artifact", "source", "pvcClone") !== undefined && s.observed[KEY.volume(claim)] === undefined;
    if (!deciding) expect(rsp.desired.resources[KEY.volume(claim)]).toBeDefined();
    for (const key of Object.keys(s.observed).filter((k) => k.startsWith("volume-")))
      if (statusOf(rsp).phase !== "Ready") expect(rsp.desired.resources[key], `${key} kept`).toBeDefined();
  });

  it("desired resources and composite fields from earlier steps pass through untouched", () => {
    const other: ResourceState = { resource: { apiVersion: "example.org/v1", kind: "Thing", spec: { a: 1 } }, connectionDetails: {}, ready: "True" };
    const req = request(baseXr(), {}, { "other-step": other });
    req.desired.composite = {
      resource: { apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCacheReplica", status: { fromEarlier: "x" } },
      connectionDetails: {},
      ready: "Unspecified",
    };
    const rsp = composeReplica(req, { now: () => EPOCH_MS });
    expect(rsp.desired.resources["other-step"]).toBe(other);
    expect(field(rsp.desired.composite?.resource, "status", "fromEarlier")).toBe("x");
  });

  it.each<{ reason: string; spec: JsonObject; field: string }>([
    { reason: "a bad quantity", spec: { storage: { backend: "PVC", pvc: { size: "lots" } } }, field: "spec.storage.pvc.size" },
    { reason: "the default namespace", spec: { namespace: "default" }, field: "spec.namespace" },
    {
      reason: "two sources",
      spec: { artifact: { kind: "Weights", layout: "Flat", source: { configMap: { name: "a" }, s3: { uri: "s3://bucket/x" } } } },
      field: "spec.artifact.source",
    },
    {
      reason: "an ExistingPVC claim that disagrees with claimName",
      spec: { storage: { backend: "ExistingPVC", existingPVC: { claimName: "mine" } } },
      field: "spec.claimName",
    },
  ])("bad input ($reason) is Fatal naming $field, and passes the desired state through", ({ spec, field: f }) => {
    const other: ResourceState = { resource: { apiVersion: "example.org/v1", kind: "Thing" }, connectionDetails: {}, ready: "True" };
    const rsp = composeReplica(request(baseXr(spec), {}, { "other-step": other }), { now: () => EPOCH_MS });
    expect(rsp.results[0]?.severity).toBe("Fatal");
    expect(rsp.results[0]?.message).toContain(f);
    expect(rsp.desired.resources).toEqual({ "other-step": other });
  });

  it("a finished hydration drops its Job (a TTL-deleted Job is never re-created) and keeps its report", () => {
    const s = scenarios().find((x) => x.name === "ready-gke");
    if (!s) throw new Error("scenario");
    const rsp = composeScenario(s);
    expect(keysOfKind(rsp, "Job")).toEqual([]);
    expect(keysOfKind(rsp, "ConfigMap")).toHaveLength(1);
  });

  it("a Blocked replica starts no Job, but does not kill one already running", () => {
    const blocked = scenarios().find((x) => x.name === "blocked-gke-filestore");
    if (!blocked) throw new Error("scenario");
    expect(keysOfKind(compose(blocked.xr, blocked.observed), "Job")).toEqual([]);
    const first = compose(blocked.xr);
    const [jobKey] = keysOfKind(first, "Job");
    const withJob = {
      ...blocked.observed,
      [jobKey ?? ""]: observedObject(jobKey ?? "", first.desired.resources[jobKey ?? ""]?.resource ?? {}, { status: { active: 1 } }),
    };
    const rsp = compose(blocked.xr, withJob);
    expect(statusOf(rsp).phase).toBe("Blocked");
    expect(keysOfKind(rsp, "Job")).toEqual([jobKey]);
  });
});

describe("readiness is set only when true", () => {
  it.each([
    { reason: "a claim not yet Bound is not ready", status: { phase: "Pending" }, want: "False" },
    { reason: "a Bound claim is ready", status: { phase: "Bound" }, want: "True" },
  ])("$reason", ({ status, want }) => {
    const xr = baseXr();
    const first = compose(xr);
    const key = KEY.volume(CLAIM);
    const rsp = compose(xr, { [key]: observedObject(key, first.desired.resources[key]?.resource ?? {}, { status }) });
    expect(rsp.desired.resources[key]?.ready).toBe(want);
  });
});
