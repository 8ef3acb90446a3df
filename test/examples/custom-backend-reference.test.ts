// The Custom backend contract, checked from both ends with the reference
// substrate in examples/custom-backend-reference/: every custom volume the
// function composes in the rendered examples fits the reference CRD's schema;
// the reference controller's reconcile turns it into a claim and a hydration
// Job whose arguments the real hydrator accepts (with the pinned digest as
// --expect-manifest-digest); and each status the controller writes, read back
// by the function's decideCustom, gives the phase the contract promises
// (pending, hydrating, serving the pinned digest, failing on another).
import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { CustomVolumeStatus } from "../../functions/api/custom-backend.ts";
import { decideCustom, type CustomObservations } from "../../functions/composition/replica/custom.ts";
import { parseHydrateArgs } from "../../functions/hydrator/cli.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { field } from "../../functions/common/json.ts";
import { reconcile, type ModelVolume, type Obj, type Seen } from "../../examples/custom-backend-reference/controller/reconcile.ts";
import { pathOf } from "../../examples/custom-backend-reference/controller/main.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const REF = join(ROOT, "examples", "custom-backend-reference");
const DIGEST = "sha256:5b1e2f7c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";
const OTHER = `sha256:${"0".repeat(63)}1`;

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
  required?: string[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

/** Structural checks as the API server makes them: types, required fields, no unknown fields (it would prune them). */
function check(s: Schema, v: unknown, at: string, out: string[]): void {
  const t = Array.isArray(v) ? "array" : v === null ? "null" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v;
  if (s.type !== undefined && s.type !== t && !(s.type === "number" && t === "integer")) out.push(`${at}: ${t}, not ${s.type}`);
  if (t === "object" && !s["x-kubernetes-preserve-unknown-fields"]) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (o[r] === undefined) out.push(`${at}.${r}: required`);
    for (const [k, x] of Object.entries(o)) {
      const p = s.properties?.[k] ?? s.additionalProperties;
      if (p === undefined) out.push(`${at}.${k}: not in the schema (the API server would prune it)`);
      else check(p, x, `${at}.${k}`, out);
    }
  }
  if (t === "array" && s.items) (v as unknown[]).forEach((x, i) => check(s.items as Schema, x, `${at}[${i}]`, out));
}

const crd = parse(readFileSync(join(REF, "crd.yaml"), "utf8")) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
const schema = crd.spec.versions[0]?.schema.openAPIV3Schema ?? {};

/** The ModelVolume manifests the function composed in each rendered Custom example. */
function composedVolumes(): [string, JsonObject][] {
  return (
    readdirSync(join(ROOT, "examples"))
      // Refused by the tenancy policy, or blocked on a volume of the other backend: those compose no custom volume.
      .filter((d) => d.startsWith("replica-custom-") && d !== "replica-custom-refused" && d !== "replica-custom-backend-switched")
      .map((d) => {
        const docs = parseAllDocuments(readFileSync(join(ROOT, "examples", d, "expected.yaml"), "utf8")).map((x) => x.toJS() as JsonObject);
        const m = docs
          .map((o) => (o["spec"] as JsonObject | undefined)?.["forProvider"] as JsonObject | undefined)
          .map((f) => f?.["manifest"] as JsonObject | undefined)
          .find((x) => x?.["kind"] === "ModelVolume");
        if (m === undefined) throw new Error(`${d}: no ModelVolume composed`);
        return [d, m];
      })
  );
}

describe("what the function hands a substrate", () => {
  it("the schema check fails where the API server would (so the checks below can fail)", () => {
    const errors: string[] = [];
    check(schema.properties?.["spec"] ?? {}, { claimName: 1, extra: "x" }, "spec", errors);
    expect(errors).toEqual(
      expect.arrayContaining(["spec.cache: required", "spec.claimName: integer, not string", "spec.extra: not in the schema (the API server would prune it)"]),
    );
  });

  it.each(composedVolumes())("%s: the custom volume fits the reference CRD", (_d, m) => {
    const errors: string[] = [];
    check(schema.properties?.["spec"] ?? {}, m["spec"], "spec", errors);
    expect(errors).toEqual([]);
  });
});

const volume = (m: JsonObject): ModelVolume => ({ ...(m as unknown as ModelVolume), metadata: { ...(m["metadata"] as ModelVolume["metadata"]), uid: "u-1" } });
const options = { image: "ghcr.io/function-model-cache/function-model-cache@sha256:" + "e".repeat(64), defaultSize: "100Gi" };

/** What the function's decideCustom makes of the controller's status, as provider-kubernetes would read it back. */
function functionSees(v: ModelVolume, status: Obj, claimBound: boolean, pinnedDigest: string | undefined) {
  const o: CustomObservations = {
    resource: `reference (ModelVolume ${v.metadata.namespace}/${v.metadata.name})`,
    substrate: "reference",
    cluster: "prod-east",
    composed: true,
    manifest: { ...(v as unknown as JsonObject), status: status as JsonObject },
    syncError: undefined,
    claim: { namespace: v.metadata.namespace, name: v.spec.claimName },
    claimBound,
    pinnedDigest,
  };
  return decideCustom(o, undefined);
}

const report = (phase: string, more: Obj = {}): Obj => ({
  phase,
  source: "hf://Qwen/Qwen3-8B@main",
  bytesDone: 0,
  filesDone: 0,
  bytesPerSecond: 0,
  startedAt: "t",
  updatedAt: "t",
  ...more,
});

describe("the reference substrate implements the contract", () => {
  const ready = composedVolumes().find(([d]) => d === "replica-custom-ready");
  if (ready === undefined) throw new Error("replica-custom-ready is not rendered");
  const v = volume(ready[1]);
  const pinned = v.spec.expectedManifestDigest;

  it("is handed the pinned digest, and composes a claim of the handed name and a Job the real hydrator accepts", async () => {
    expect(pinned).toBe(DIGEST);
    const plan = reconcile(v, { claim: undefined, job: undefined, report: undefined }, options);
    const kinds = plan.apply.map((o) => `${String(o["kind"])}/${String((o["metadata"] as Obj)["name"])}`);
    expect(kinds[0]).toBe(`PersistentVolumeClaim/${v.spec.claimName}`);
    const job = plan.apply.find((o) => o["kind"] === "Job");
    const container = field(job, "spec", "template", "spec", "containers");
    const args = (Array.isArray(container) ? field(container[0], "args") : []) as string[];
    expect(args.slice(args.indexOf("--expect-manifest-digest"), args.indexOf("--expect-manifest-digest") + 2)).toEqual(["--expect-manifest-digest", DIGEST]);
    const parsed = await parseHydrateArgs(args.slice(1), { HF_TOKEN: "t" });
    expect(parsed.kind, JSON.stringify(parsed)).toBe("run");
    for (const o of plan.apply)
      expect(pathOf(o)).toMatch(
        /^\/apis?\/.+\/namespaces\/mc-ml-team\/(persistentvolumeclaims|serviceaccounts|roles|rolebindings|configmaps|jobs)\/[a-z0-9.-]+$/,
      );
  });

  const rows: { reason: string; seen: Seen; bound: boolean; phase: string; message?: string }[] = [
    { reason: "nothing there yet: pending", seen: { claim: undefined, job: undefined, report: undefined }, bound: false, phase: "Pending" },
    {
      reason: "the hydrator reports progress: hydrating, with bytes",
      seen: {
        claim: { status: { phase: "Bound" } },
        job: { status: { active: 1 } },
        report: report("Hydrating", { bytesDone: 1024, bytesTotal: 4096, etaSeconds: 3 }),
      },
      bound: true,
      phase: "Hydrating",
    },
    {
      reason: "verified and Bound, the pinned digest: serving it, Ready",
      seen: {
        claim: { status: { phase: "Bound" } },
        job: undefined,
        report: report("Ready", { manifestDigest: DIGEST, resolvedRevision: "abc", bytesDone: 4096, bytesTotal: 4096 }),
      },
      bound: true,
      phase: "Ready",
      message: `${DIGEST} served by reference on mc-ml-team/qwen3-8b-3f9c2a1b7d`,
    },
    {
      reason: "serving other bytes than the pinned digest (a substrate that skipped the check): the function says Failed, never Ready",
      seen: { claim: { status: { phase: "Bound" } }, job: undefined, report: report("Ready", { manifestDigest: OTHER, bytesDone: 4096, bytesTotal: 4096 }) },
      bound: true,
      phase: "Failed",
    },
    {
      reason: "the hydrator refused other bytes (--expect-manifest-digest): Failed with its message",
      seen: {
        claim: { status: { phase: "Bound" } },
        job: { status: { conditions: [{ type: "Failed", status: "True" }] } },
        report: report("Failed", { message: `the artifact is ${OTHER}, expected ${DIGEST}` }),
      },
      bound: true,
      phase: "Failed",
      message: `the substrate reference failed: the artifact is ${OTHER}, expected ${DIGEST}; set a new refetch value on the ModelCache to ask it again`,
    },
  ];
  it.each(rows)("$reason", ({ seen, bound, phase, message }) => {
    const plan = reconcile(v, seen, options);
    expect(CustomVolumeStatus.safeParse(plan.status).success).toBe(true);
    const errors: string[] = [];
    check(schema.properties?.["status"] ?? {}, plan.status, "status", errors);
    expect(errors).toEqual([]);
    const d = functionSees(v, plan.status, bound, pinned);
    expect(d.phase, d.message).toBe(phase);
    if (message !== undefined) expect(d.message).toBe(message);
  });

  it("a source kind it does not fetch: Failed, saying which it does", () => {
    const plan = reconcile(
      { ...v, spec: { ...v.spec, artifact: { source: { configMap: { name: "x" } } } } },
      { claim: undefined, job: undefined, report: undefined },
      options,
    );
    expect(plan.apply).toEqual([]);
    expect(functionSees(v, plan.status, false, pinned).phase).toBe("Failed");
  });
});
