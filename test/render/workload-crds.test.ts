// Every workload of a kind Kubernetes does not ship (LeaderWorkerSet, KServe
// InferenceService) that an example's expected output composes is valid
// against that kind's own CRD, checked by the real `crossplane beta validate`
// (the API server's validation: structural schema, unknown fields, CEL rules).
// The CRDs are vendored, compressed, in test/fixtures/crds/ (README there).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseAllDocuments, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { ROOT } from "../support/function-server.ts";
import { crankPath, EXAMPLES_DIR, EXPECTED_FILE, listExamples } from "../support/render.ts";

const CRDS_DIR = join(ROOT, "test", "fixtures", "crds");
/** The kinds a vendored CRD covers, by `apiVersion/kind`. */
const COVERED = new Set(["leaderworkerset.x-k8s.io/v1/LeaderWorkerSet", "serving.kserve.io/v1beta1/InferenceService"]);

const work = mkdtempSync(join(tmpdir(), "fmc-crds-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The CRDs, unpacked once. */
const crdFiles = readdirSync(CRDS_DIR)
  .filter((f) => f.endsWith(".yaml.gz"))
  .map((f) => {
    const out = join(work, f.replace(/\.gz$/, ""));
    writeFileSync(out, gunzipSync(readFileSync(join(CRDS_DIR, f))));
    return out;
  });

/** The manifests inside the provider-kubernetes Objects of an expected output, of a covered kind. */
function coveredManifests(example: string): JsonObject[] {
  const docs = parseAllDocuments(readFileSync(join(EXAMPLES_DIR, example, EXPECTED_FILE), "utf8")).map((d) => d.toJSON() as JsonObject | null);
  const out: JsonObject[] = [];
  for (const d of docs) {
    const manifest = ((d?.["spec"] as JsonObject | undefined)?.["forProvider"] as JsonObject | undefined)?.["manifest"] as JsonObject | undefined;
    if (manifest && COVERED.has(`${String(manifest["apiVersion"])}/${String(manifest["kind"])}`)) out.push(manifest);
  }
  return out;
}

/** A Crossplane package tag that names no release: its (empty) cache entry stands for Crossplane's own CRDs. */
const OFFLINE_TAG = "v0.0.0-offline";

/**
 * `crossplane beta validate` of `manifests` against the vendored CRDs. The command also loads Crossplane's own
 * CRDs from a package it would download; an empty cache entry for it keeps it offline (none of those is needed).
 */
function validate(name: string, manifests: JsonObject[]): { code: number | null; out: string } {
  const cache = join(work, `cache-${name}`);
  mkdirSync(join(cache, "xpkg.crossplane.io", "crossplane", `crossplane@${OFFLINE_TAG}`), { recursive: true });
  const resources = join(work, `${name}.yaml`);
  writeFileSync(resources, manifests.map((m) => `---\n${stringify(m)}`).join(""));
  const r = spawnSync(
    crankPath(),
    ["beta", "validate", crdFiles.join(","), resources, "--cache-dir", cache, "--crossplane-image", `xpkg.crossplane.io/crossplane/crossplane:${OFFLINE_TAG}`],
    { encoding: "utf8", timeout: 120_000 },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const examples = listExamples().filter((e) => coveredManifests(e).length > 0);

describe("workloads of kinds Kubernetes does not ship, against their own CRDs", () => {
  it("the examples compose some: a LeaderWorkerSet gang and a KServe InferenceService at least", () => {
    const kinds = new Set(examples.flatMap((e) => coveredManifests(e).map((m) => String(m["kind"]))));
    expect([...kinds].sort()).toEqual(["InferenceService", "LeaderWorkerSet"]);
  });

  it.each(examples)("%s: every one validates", (example) => {
    const manifests = coveredManifests(example);
    const r = validate(example, manifests);
    expect(r.out).toContain(`Total ${manifests.length} resources: 0 missing schemas, ${manifests.length} success cases, 0 failure cases`);
    expect(r.code, r.out).toBe(0);
  });

  it("a manifest the CRD does not allow fails, naming the field (the check can fail)", () => {
    const [lws] = examples.flatMap((e) => coveredManifests(e)).filter((m) => m["kind"] === "LeaderWorkerSet");
    if (lws === undefined) throw new Error("no LeaderWorkerSet in the examples");
    const spec = lws["spec"] as JsonObject;
    const broken = { ...lws, spec: { ...spec, leaderWorkerTemplate: { ...(spec["leaderWorkerTemplate"] as JsonObject), size: "two" } } };
    const r = validate("broken", [broken]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/leaderWorkerTemplate\.size/);
  });
});
