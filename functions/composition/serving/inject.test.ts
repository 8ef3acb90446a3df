import { describe, expect, it } from "vitest";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Container, PodTemplateSpec } from "kubernetes-models/v1";
import type { JsonObject } from "../../sdk/types.ts";
import { field } from "../../common/json.ts";
import { clone, injectMounts, volumeName, type CacheMount, type ContainerChoice } from "./inject.ts";
import { deployment, inferenceService, leaderWorkerSet, statefulSet } from "../../../test/support/serving-builders.ts";
import { kindOf } from "./workloads.ts";

const MOUNT: CacheMount = { cache: "ml-team/qwen3-8b", volumeName: "mc-qwen3-8b", claimName: "qwen3-8b-2a7f3c9e1d", mountPath: "/models/qwen3-8b" };
const VOLUME = { name: "mc-qwen3-8b", persistentVolumeClaim: { claimName: "qwen3-8b-2a7f3c9e1d", readOnly: true } };
const VM = { name: "mc-qwen3-8b", mountPath: "/models/qwen3-8b", readOnly: true };
const ALL: ContainerChoice = { mode: "AllContainers" };

function inject(m: JsonObject, choice: ContainerChoice = ALL, mounts = [MOUNT]): { out: JsonObject; conflicts: string[] } {
  const out = clone(m);
  const kind = kindOf(out);
  if (kind === undefined) throw new Error("unsupported kind");
  return { out, conflicts: injectMounts(kind.sites(out), mounts, choice) };
}

function validates(v: { validate(): void }): void {
  expect(() => v.validate()).not.toThrow();
}

describe("injectMounts", () => {
  it("Deployment: a read-only volume and a read-only mount in every container, the rest of the manifest untouched", () => {
    const before = deployment();
    const { out, conflicts } = inject(before);
    expect(conflicts).toEqual([]);
    const want = clone(before);
    const pod = field(want, "spec", "template", "spec") as JsonObject;
    pod["volumes"] = [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "16Gi" } }, VOLUME];
    const [vllm, sidecar] = pod["containers"] as [JsonObject, JsonObject];
    vllm["volumeMounts"] = [{ name: "shm", mountPath: "/dev/shm" }, VM];
    sidecar["volumeMounts"] = [VM];
    expect(out).toStrictEqual(want);
    expect(before).toStrictEqual(deployment()); // the earlier step's object is never changed
    validates(new Deployment(out as never));
  });

  it("StatefulSet: the pod template likewise, valid by the Kubernetes schema", () => {
    const { out, conflicts } = inject(statefulSet());
    expect(conflicts).toEqual([]);
    expect(field(out, "spec", "template", "spec", "volumes")).toContainEqual(VOLUME);
    validates(new StatefulSet(out as never));
  });

  it("LeaderWorkerSet: the leader and every worker of the gang mount the same claim", () => {
    const { out, conflicts } = inject(leaderWorkerSet());
    expect(conflicts).toEqual([]);
    for (const t of ["leaderTemplate", "workerTemplate"]) {
      const template = field(out, "spec", "leaderWorkerTemplate", t) as JsonObject;
      expect(field(template, "spec", "volumes")).toStrictEqual([{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "16Gi" } }, VOLUME]);
      expect(field(template, "spec", "containers")).toSatisfy((cs: JsonObject[]) =>
        cs.every((c) => (c["volumeMounts"] as JsonObject[]).at(-1)?.["name"] === "mc-qwen3-8b"),
      );
      // LWS embeds core/v1 PodTemplateSpec for both templates.
      validates(new PodTemplateSpec(template as never));
    }
    expect(field(out, "spec", "leaderWorkerTemplate", "size")).toBe(2);
  });

  it("LeaderWorkerSet without a leader template: the worker template serves both", () => {
    const lws = leaderWorkerSet();
    delete (field(lws, "spec", "leaderWorkerTemplate") as JsonObject)["leaderTemplate"];
    const { out, conflicts } = inject(lws);
    expect(conflicts).toEqual([]);
    expect(field(out, "spec", "leaderWorkerTemplate", "leaderTemplate")).toBeUndefined();
    expect(field(out, "spec", "leaderWorkerTemplate", "workerTemplate", "spec", "volumes")).toContainEqual(VOLUME);
  });

  it("InferenceService: the predictor gets the volume and its model container (kserve-container) the mount", () => {
    const { out, conflicts } = inject(inferenceService());
    expect(conflicts).toEqual([]);
    expect(field(out, "spec", "predictor", "volumes")).toStrictEqual([VOLUME]);
    const model = field(out, "spec", "predictor", "model") as JsonObject;
    expect(model["volumeMounts"]).toStrictEqual([VM]);
    expect(field(out, "spec", "predictor", "minReplicas")).toBe(1);
    validates(new Container({ name: "kserve-container", ...model } as never));
  });

  it("AnnotatedContainers: only the named containers mount; a pod site without one gets no volume", () => {
    const { out, conflicts } = inject(leaderWorkerSet(), { mode: "AnnotatedContainers", names: ["worker"] });
    expect(conflicts).toEqual([]);
    expect(field(out, "spec", "leaderWorkerTemplate", "leaderTemplate")).toStrictEqual(
      field(leaderWorkerSet(), "spec", "leaderWorkerTemplate", "leaderTemplate"),
    );
    expect(field(out, "spec", "leaderWorkerTemplate", "workerTemplate", "spec", "volumes")).toContainEqual(VOLUME);
    const d = inject(deployment(), { mode: "AnnotatedContainers", names: ["vllm"] }).out;
    const [vllm, sidecar] = field(d, "spec", "template", "spec", "containers") as [JsonObject, JsonObject];
    expect(vllm["volumeMounts"]).toContainEqual(VM);
    expect(sidecar["volumeMounts"]).toBeUndefined();
  });

  const conflictCases = [
    {
      reason: "AnnotatedContainers with no annotation says which annotation is missing",
      m: deployment(),
      choice: { mode: "AnnotatedContainers", names: [] } as ContainerChoice,
      want: ["input.serving.mountInto is AnnotatedContainers but the workload has no modelcache.dev/containers annotation naming the containers that mount"],
    },
    {
      reason: "a named container that does not exist is refused, not ignored",
      m: deployment(),
      choice: { mode: "AnnotatedContainers", names: ["vllm", "ghost"] } as ContainerChoice,
      want: ["modelcache.dev/containers names ghost, which no pod template of the workload has"],
    },
    {
      reason: "a mount already at the cache's path is never shadowed",
      m: (() => {
        const d = deployment();
        ((field(d, "spec", "template", "spec", "containers") as [JsonObject])[0]["volumeMounts"] as JsonObject[]).push({
          name: "weights",
          mountPath: "/models/qwen3-8b/",
        });
        return d;
      })(),
      choice: ALL,
      want: [
        "spec.template.spec: container vllm already mounts volume weights at /models/qwen3-8b, where ModelCache ml-team/qwen3-8b mounts; remove that mount or change the cache's spec.mountPath",
      ],
    },
    {
      reason: "a volume of the workload's own already named like the cache's is refused, not replaced",
      m: (() => {
        const d = deployment();
        (field(d, "spec", "template", "spec", "volumes") as JsonObject[]).push({ name: "mc-qwen3-8b", emptyDir: {} });
        return d;
      })(),
      choice: ALL,
      want: ["spec.template.spec.volumes: the workload already has a volume named mc-qwen3-8b, the name the cache's volume takes"],
    },
    {
      reason: "a workload without a pod template cannot mount",
      m: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" }, spec: {} } as JsonObject,
      choice: ALL,
      want: ["the workload has no pod template to mount into"],
    },
  ];
  it.each(conflictCases)("$reason", ({ m, choice, want }) => {
    expect(inject(m, choice).conflicts).toStrictEqual(want);
  });

  it("two caches: two volumes and two mounts, in the order asked", () => {
    const tok: CacheMount = { cache: "ml-team/qwen3-tokenizer", volumeName: "mc-qwen3-tokenizer", claimName: "tok-1", mountPath: "/models/tokenizer" };
    const { out } = inject(inferenceService(), ALL, [MOUNT, tok]);
    expect(field(out, "spec", "predictor", "volumes")).toStrictEqual([
      VOLUME,
      { name: "mc-qwen3-tokenizer", persistentVolumeClaim: { claimName: "tok-1", readOnly: true } },
    ]);
  });
});

describe("volumeName", () => {
  const cases = [
    { reason: "a cache's name makes a readable volume name", ref: "ml-team/qwen3-8b", want: "mc-qwen3-8b" },
    { reason: "a dotted name (legal for a cache, not for a volume) gets a bounded label", ref: "ml-team/qwen3.8b", want: /^mc-qwen3-8b-v-[0-9a-f]{10}$/ },
    { reason: "a long name stays within 63 characters", ref: `ml-team/${"a".repeat(80)}`, want: /^mc-a+-v-[0-9a-f]{10}$/ },
  ];
  it.each(cases)("$reason", ({ ref, want }) => {
    const v = volumeName(ref);
    if (typeof want === "string") expect(v).toBe(want);
    else expect(v).toMatch(want);
    expect(v.length).toBeLessThanOrEqual(63);
  });
});
