// The contract between the function and the hydrator, checked from both ends
// so they cannot drift apart silently:
//  - every hydration Job the function composes (for each replica example, each
//    scenario, and variants of every source kind the API allows) has container
//    args the hydrator's own parser accepts: no usage error (exit 2, which the
//    Job's podFailurePolicy turns into an immediate, permanent failure);
//  - for sources that need no server (inline and configMap, both file:// on a
//    ConfigMap volume) the Job is run for real: its volumes materialized in a
//    temp dir (a ConfigMap laid out as the kubelet's atomic writer does, the
//    claim as a plain directory), its argv and env rewritten onto them, and the
//    real `function-model-cache` binary started; the report it prints must be a
//    HydrationReport, and fed back to the function as the report ConfigMap it
//    observes, must make the replica Ready with that digest and revision;
//  - the verify-only Job (ExistingPVC) checks such a volume, and a pin for other
//    bytes fails with an exit code the Job treats as permanent and a message
//    that reaches the status;
//  - a pvcClone source's Jobs run for real on a volume such a Job published: the
//    copy (pvc://) has the source's digest, a volume without a manifest is
//    refused, and a clone's verify Job holds it to the named digest.
import { field, isObject } from "../../functions/common/json.ts";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HYDRATION_REPORT_KEY, HydrationReport } from "../../functions/api/hydration-report.ts";
import { CACHE_MOUNT, CONTAINER_NAME, EXIT_PERMANENT, TERMINATION_LOG } from "../../functions/composition/replica/job.ts";
import { observe } from "../../functions/composition/replica/objects.ts";
import { hydrationState } from "../../functions/composition/replica/phase.ts";
import { readReport } from "../../functions/composition/replica/report.ts";
import { scenarios } from "../support/replica-scenarios.ts";
import { nodeScenarios } from "../support/node-scenarios.ts";
import { SEED_MOUNT } from "../../functions/composition/replica/node-local.ts";
import { baseXr, compose as composeWith, observedObject, SENTINEL_SECRET, statusOf, type ObservedAs } from "../support/replica-builders.ts";
import { INPUT_API_VERSION } from "../../functions/api/input.ts";
import { CREDENTIAL_KEYS, SOURCE_KEYS } from "../../functions/sources/registry.ts";
import type { ModelCacheReplicaSpec } from "../../functions/api/replica.ts";
import { parseHydrateArgs, parseVerifyArgs } from "../../functions/hydrator/cli.ts";
import { EXIT } from "../../functions/hydrator/hydrate.ts";
import type { JsonObject, JsonValue, ResourceState } from "../../functions/sdk/types.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin", "function-model-cache.js");
const work = mkdtempSync(join(tmpdir(), "job-args-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
const fresh = (what: string): string => {
  const d = join(work, `${++seq}-${what}`);
  mkdirSync(d, { recursive: true });
  return d;
};

// ---------------------------------------------------------------------------
// What the function composes
// ---------------------------------------------------------------------------

/** ConfigMaps the platform keeps on the cluster, which a configMap source names (not composed by the function). */
const CLUSTER_CONFIGMAPS: Record<string, Record<string, string>> = {
  "prompt-templates": {
    "chat_template.jinja": "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}",
    "system prompt.txt": "You are a helpful assistant.\n",
  },
};

/**
 * The Input a platform engineer writes so these caches may send their
 * credentials to the test's own servers on loopback (the default policy
 * allows only the public hub and AWS S3: docs/security.md).
 */
function inputFor(xr: JsonObject): JsonObject | undefined {
  const src = field(xr, "spec", "artifact", "source");
  const origins = new Set<string>();
  const add = (u: unknown) => {
    if (typeof u !== "string") return;
    try {
      const url = new URL(u.includes("://") ? u : `https://${u.split("/")[0] ?? ""}`);
      for (const scheme of ["http:", "https:"]) origins.add(`${scheme}//${url.host}`);
    } catch {
      // not a URL: nothing to allow
    }
  };
  // Every kind's endpoint (huggingFace, s3, gcs, ...), whichever kinds the registry holds.
  for (const k of SOURCE_KEYS) add(field(src, k, "endpoint"));
  add(field(src, "oci", "reference"));
  add(field(src, "http", "url"));
  const files = field(src, "http", "files");
  if (Array.isArray(files)) for (const f of files) add(field(f, "url"));
  const list = [...origins];
  // Nothing on loopback: the default policy (the public hub, AWS S3) is the one to test.
  if (list.length === 0) return undefined;
  const credentialDestinations = Object.fromEntries(CREDENTIAL_KEYS.map((k) => [k, list]));
  return { apiVersion: INPUT_API_VERSION, kind: "Input", tenancy: { credentialDestinations } };
}

const compose = (xr: JsonObject, observed: Record<string, ResourceState> = {}) => composeWith(xr, observed, undefined, {}, inputFor(xr));

interface Case {
  label: string;
  /** The Job manifests composed (inside provider-kubernetes Objects). */
  jobs: JsonObject[];
  /** Every manifest composed beside them (ConfigMaps, Roles, ...). */
  manifests: JsonObject[];
  /** The ModelCacheReplica, when the case comes from composing it here (not from a rendered file). */
  xr?: JsonObject;
}

const manifestOf = (r: JsonValue | undefined): JsonObject | undefined => {
  const m = field(r, "spec", "forProvider", "manifest");
  return isObject(m) ? m : undefined;
};

function fromResources(label: string, resources: JsonValue[], xr?: JsonObject): Case {
  const manifests = resources.map(manifestOf).filter((m): m is JsonObject => m !== undefined);
  return { label, jobs: manifests.filter((m) => m["kind"] === "Job"), manifests, ...(xr ? { xr } : {}) };
}

function composedCase(label: string, xr: JsonObject, observed: Record<string, ResourceState> = {}): Case {
  const rsp = compose(xr, observed);
  return fromResources(
    label,
    Object.values(rsp.desired.resources).map((s) => s.resource),
    xr,
  );
}

/** The examples as `crossplane render` rendered them (expected.yaml), and their xr.yaml composed afresh. */
function exampleCases(): Case[] {
  const dirs = readdirSync(join(ROOT, "examples"))
    .filter((d) => d.startsWith("replica-"))
    .sort();
  const out: Case[] = [];
  for (const d of dirs) {
    const docs = parseAllDocuments(readFileSync(join(ROOT, "examples", d, "expected.yaml"), "utf8")).map((doc) => doc.toJS() as JsonValue);
    out.push(
      fromResources(
        `examples/${d}/expected.yaml`,
        docs.filter((x) => isObject(x) && x["kind"] === "Object"),
      ),
    );
    const xr = parseYaml(readFileSync(join(ROOT, "examples", d, "xr.yaml"), "utf8")) as JsonObject;
    out.push(composedCase(`examples/${d}/xr.yaml, first pass`, xr));
  }
  return out;
}

const COMMIT = "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
const DIGEST = `sha256:${"5".repeat(64)}`;
const OCI_DIGEST = `sha256:${"7".repeat(64)}`;

/** Variants of each source kind and option the API allows, beyond what the scenarios show. */
function variantCases(): Case[] {
  const v = (label: string, spec: JsonObject): Case => composedCase(`variant: ${label}`, baseXr(spec));
  const art = (source: JsonObject, layout = "Flat"): JsonObject => ({ artifact: { kind: "Weights", layout, source } });
  const hydration = (concurrency: number): JsonObject => ({
    hydration: { activeDeadlineSeconds: 600, backoffLimit: 1, ttlSecondsAfterFinished: 60, concurrency },
  });
  return [
    v("huggingFace, every option, HuggingFaceCache, concurrency at the API's maximum", {
      ...art(
        {
          huggingFace: {
            repo: "meta-llama/Llama-3.1-8B",
            revision: "v1.0",
            include: ["*.json", "*.safetensors", "tokenizer*"],
            exclude: ["original/", "*.pth"],
            endpoint: "https://hub.internal.example",
            tokenSecretRef: { name: "hf", key: "tok" },
          },
        },
        "HuggingFaceCache",
      ),
      ...hydration(64),
    }),
    v("huggingFace pinned to a commit and a manifest digest", {
      ...art({ huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main" } }),
      pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST },
    }),
    v("huggingFace, a pull-request ref, concurrency 1", { ...art({ huggingFace: { repo: "Qwen/Qwen3-8B", revision: "refs/pr/12" } }), ...hydration(1) }),
    // The API allows a glob or a region that starts with '-', which a parser reads as a flag unless it is joined with '='.
    v(
      "huggingFace, globs and a revision starting with '-'",
      art({ huggingFace: { repo: "Qwen/Qwen3-8B", revision: "-rc1", include: ["-x*", "*.json"], exclude: ["--help"] } }),
    ),
    v("s3, a region starting with '-'", art({ s3: { uri: "s3://models/p/", region: "-local" } })),
    v("s3, bucket only, nothing optional", art({ s3: { uri: "s3://models" } })),
    v(
      "s3, every option",
      art({
        s3: {
          uri: "s3://my.bucket-1/deep/prefix/",
          region: "us-east-2",
          endpoint: "http://minio.storage:9000",
          pathStyle: true,
          credentialsSecretRef: { name: "s3" },
        },
      }),
    ),
    v("gcs, bucket only, nothing optional", art({ gcs: { uri: "gs://models" } })),
    v("gcs, every option, pinned to generations", {
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: {
          gcs: { uri: "gs://my_bucket.example.com/deep/prefix/", endpoint: "http://gcs.storage:4443", credentialsSecretRef: { name: "gcp", key: "sa.json" } },
        },
      },
      pin: { resolvedRevision: `generations:1796290569003451:sha256:${"c".repeat(64)}`, manifestDigest: `sha256:${"d".repeat(64)}` },
    }),
    v(
      "azure, a prefix with a Secret, the account's default endpoint",
      art({ azure: { uri: "azure://acct/models/qwen/", credentialsSecretRef: { name: "azure-creds" } } }),
    ),
    v("azure, a prefix pinned to versions", {
      artifact: { kind: "Weights", layout: "Flat", source: { azure: { uri: "azure://acct/models/qwen/", credentialsSecretRef: { name: "azure-creds" } } } },
      pin: { resolvedRevision: `versions:2026-01-02T03:04:05.0000006Z:sha256:${"c".repeat(64)}`, manifestDigest: `sha256:${"d".repeat(64)}` },
    }),
    v(
      "azure, one blob from a path-style endpoint, anonymous",
      art({ azure: { uri: "azure://devstoreaccount1/m-1/a b/ü.bin", endpoint: "http://azurite.storage.svc:10000/devstoreaccount1" } }),
    ),
    v("http, one URL", art({ http: { url: "http://mirror.internal:8080/a/b/model.gguf?x=1", sha256: "a".repeat(64) } })),
    v(
      "http, files with nested paths and spaces",
      art({
        http: {
          files: [
            { url: "https://mirror.example.com/t.json", path: "tokenizer/tokenizer.json", sha256: "b".repeat(64) },
            { url: "https://mirror.example.com/c%20d.json", path: "config dir/c d.json", sha256: "c".repeat(64) },
          ],
        },
      }),
    ),
    v("oci by digest, registry with a port", art({ oci: { reference: `registry.example.com:5000/models/qwen3-8b@${OCI_DIGEST}` } })),
    v("oci without TLS (insecure)", art({ oci: { reference: "registry.lab.internal:5000/models/qwen3-8b:v1", insecure: true } })),
    v("oci by tag, pinned to a digest", {
      ...art({ oci: { reference: "ghcr.io/org/models/qwen3-8b:v1", pullSecretRef: { name: "pull" } } }),
      pin: { resolvedRevision: OCI_DIGEST, manifestDigest: DIGEST },
    }),
    v("inline, nested paths, spaces and non-ASCII", {
      artifact: {
        kind: "Bytes",
        layout: "Flat",
        source: {
          inline: {
            files: [
              { path: "templates/chat template.jinja", content: "{{ messages }}\n" },
              { path: "templates/deep/ünï.txt", content: "ü\n" },
              { path: "generation_config.json", content: '{"temperature": 0.6}' },
            ],
          },
        },
      },
    }),
    v("existingPVC to hydrate", { storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-models", hydrate: true } }, claimName: "team-models" }),
    v("existingPVC to verify against a pin", {
      storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-models", hydrate: false } },
      claimName: "team-models",
      pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST },
    }),
  ];
}

function scenarioCases(): Case[] {
  // A compact replica (required resources) composes what its full form does, which another scenario covers (functions/composition/replica/contract.test.ts).
  return scenarios()
    .filter((s) => s.required === undefined)
    .flatMap((s) => [composedCase(`scenario ${s.name}`, s.xr, s.observed), composedCase(`scenario ${s.name}, first pass`, s.xr)]);
}

const examples = exampleCases();
const variants = variantCases();
const all: Case[] = [...examples, ...scenarioCases(), ...variants];
const jobs = all.flatMap((c) => c.jobs.map((job, i) => ({ label: `${c.label}${c.jobs.length > 1 ? ` #${i}` : ""}`, job, c })));

// ---------------------------------------------------------------------------
// The pod, stood in for by directories
// ---------------------------------------------------------------------------

interface Pod {
  args: string[];
  env: Record<string, string>;
  /** mountPath -> local directory */
  mounts: Map<string, string>;
  /** local directory of each claim the pod mounts */
  claims: Map<string, string>;
  terminationLog: string;
  /** The args exactly as composed. */
  composedArgs: string[];
}

const list = (v: JsonValue | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const text = (v: JsonValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);

function container(job: JsonObject): JsonObject {
  const c = list(field(job, "spec", "template", "spec", "containers")).find((x) => x["name"] === CONTAINER_NAME);
  if (c === undefined) throw new Error(`no container named ${CONTAINER_NAME}`);
  return c;
}

/** Files as the kubelet's atomic writer lays out a ConfigMap volume: visible names are symlinks through ..data. */
function writeConfigMapVolume(dir: string, files: { path: string; content: string }[]): void {
  const ts = "..2026_01_01_00_00_00.000000001";
  for (const f of files) {
    mkdirSync(dirname(join(dir, ts, f.path)), { recursive: true });
    writeFileSync(join(dir, ts, f.path), f.content);
  }
  symlinkSync(ts, join(dir, "..data"));
  for (const top of new Set(files.map((f) => f.path.split("/")[0] as string))) symlinkSync(join("..data", top), join(dir, top));
}

/**
 * The pod as directories: volumes materialized, argv and env rewritten onto
 * them. Secret volumes get `secretData[name][key]` (an empty registry auth
 * file when not given); secretKeyRef variables get `${SENTINEL_SECRET}-<VAR>`.
 */
function materialize(
  job: JsonObject,
  manifests: JsonObject[],
  claimDirs: Map<string, string> = new Map(),
  secretData: Record<string, Record<string, string>> = {},
): Pod {
  const root = fresh("pod");
  const podSpec = field(job, "spec", "template", "spec");
  const c = container(job);
  const volumes = new Map<string, string>();
  const claims = new Map<string, string>();
  for (const vol of list(field(podSpec, "volumes"))) {
    const name = text(vol["name"]) as string;
    const claim = text(field(vol, "persistentVolumeClaim", "claimName"));
    const cm = field(vol, "configMap");
    const secret = field(vol, "secret");
    let dir: string;
    if (claim !== undefined) {
      dir = claimDirs.get(claim) ?? join(root, "claims", claim);
      mkdirSync(dir, { recursive: true });
      claims.set(claim, dir);
    } else if (isObject(cm)) {
      dir = join(root, "volumes", name);
      mkdirSync(dir, { recursive: true });
      const cmName = text(cm["name"]) as string;
      const composed = manifests.find((m) => m["kind"] === "ConfigMap" && field(m, "metadata", "name") === cmName);
      const data = (isObject(composed?.["data"]) ? composed["data"] : CLUSTER_CONFIGMAPS[cmName]) as Record<string, string> | undefined;
      if (data === undefined) throw new Error(`the Job mounts ConfigMap ${cmName}, which neither the function composes nor the cluster holds`);
      const items = list(cm["items"]);
      const files =
        items.length > 0
          ? items.map((it) => ({ path: text(it["path"]) as string, content: data[text(it["key"]) as string] ?? "" }))
          : Object.entries(data).map(([path, content]) => ({ path, content }));
      for (const it of items) expect(Object.keys(data), `ConfigMap ${cmName} holds the key the volume projects`).toContain(it["key"]);
      writeConfigMapVolume(dir, files);
    } else if (isObject(secret)) {
      dir = join(root, "volumes", name);
      // A dockerconfigjson Secret projected to its items (the kubelet writes Secrets the same way as ConfigMaps).
      const sd = secretData[text(secret["secretName"]) ?? ""] ?? {};
      writeConfigMapVolume(
        dir,
        list(secret["items"]).map((it) => ({ path: text(it["path"]) as string, content: sd[text(it["key"]) as string] ?? '{"auths":{}}' })),
      );
    } else {
      dir = join(root, "volumes", name); // emptyDir
      mkdirSync(dir, { recursive: true });
    }
    volumes.set(name, dir);
  }
  const mounts = new Map<string, string>();
  for (const m of list(c["volumeMounts"])) {
    const dir = volumes.get(text(m["name"]) as string);
    if (dir === undefined) throw new Error(`volumeMount ${String(m["name"])} names no volume`);
    mounts.set(text(m["mountPath"]) as string, dir);
  }
  const terminationPath = text(c["terminationMessagePath"]) ?? TERMINATION_LOG;
  const terminationLog = join(root, "termination-log");
  const byLength = [...mounts.keys()].sort((a, b) => b.length - a.length);
  const rewrite = (s: string): string => {
    if (s === terminationPath) return terminationLog;
    const [scheme, path] = s.startsWith("file://") ? ["file://", s.slice(7)] : s.startsWith("pvc://") ? ["pvc://", s.slice(6)] : ["", s];
    for (const mp of byLength) if (path === mp || path.startsWith(`${mp}/`)) return `${scheme}${mounts.get(mp) as string}${path.slice(mp.length)}`;
    return s;
  };
  const composedArgs = (Array.isArray(c["args"]) ? c["args"] : []).map((a) => {
    if (typeof a !== "string") throw new Error(`arg ${JSON.stringify(a)} is not a string`);
    return a;
  });
  const env: Record<string, string> = {};
  for (const e of list(c["env"])) {
    const name = text(e["name"]) as string;
    const value = text(e["value"]);
    if (value !== undefined) env[name] = rewrite(value);
    else if (isObject(field(e, "valueFrom", "secretKeyRef"))) env[name] = `${SENTINEL_SECRET}-${name}`;
  }
  return { args: composedArgs.map(rewrite), env, mounts, claims, terminationLog, composedArgs };
}

const isFileSource = (args: string[]): boolean => args[0] === "hydrate" && args.some((a, i) => args[i - 1] === "--source" && a.startsWith("file://"));

// ---------------------------------------------------------------------------
// Running the real binary
// ---------------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  report: HydrationReport;
}

function runCli(pod: Pod): Promise<Run> {
  // The root filesystem is read-only in the pod: the working directory and HOME must stay empty,
  // and so must the small /tmp emptyDir (1Gi): staging belongs on the claim.
  const cwd = fresh("cwd");
  const home = fresh("home");
  const scratch = [cwd, home, ...[...pod.mounts].filter(([mp]) => mp === "/tmp").map(([, d]) => d)];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...pod.args], {
      cwd,
      // Only what the pod has: its env (credentials as stand-ins), no cluster (KUBERNETES_SERVICE_HOST unset).
      env: { ...pod.env, HOME: home },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const written = scratch.filter((d) => readdirSync(d).length > 0);
      if (written.length > 0) {
        reject(
          new Error(
            `the hydrator wrote outside the claim (read-only root, bounded /tmp): ${written.map((d) => `${d}: ${readdirSync(d).join(", ")}`).join("; ")}`,
          ),
        );
        return;
      }
      const last = stdout.trim().split("\n").at(-1) ?? "";
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        reject(new Error(`exit ${code}: the last line of stdout is not JSON: ${JSON.stringify(last)}\nstderr: ${stderr}`));
        return;
      }
      const parsed = HydrationReport.safeParse(json);
      if (!parsed.success) reject(new Error(`exit ${code}: the printed report is not a HydrationReport: ${parsed.error.message}\n${last}`));
      else resolvePromise({ code, stdout, stderr, report: parsed.data });
    });
  });
}

/** The cluster as the function would observe it after the Job ran: everything there, the Job finished, the report in its ConfigMap. */
function observedAfter(xr: JsonObject, report: HydrationReport, jobStatus: JsonObject): Record<string, ResourceState> {
  const first = compose(xr);
  const out: Record<string, ResourceState> = {};
  const reportJson = JSON.parse(JSON.stringify(report)) as JsonObject;
  for (const [key, state] of Object.entries(first.desired.resources)) {
    if (key.startsWith("job-")) out[key] = observedObject(key, state.resource, { status: jobStatus });
    else if (key.startsWith("report-"))
      out[key] = observedObject(key, state.resource, { extra: { data: { [HYDRATION_REPORT_KEY]: JSON.stringify(reportJson) } } });
    else if (key.startsWith("volume-"))
      out[key] = observedObject(key, state.resource, { status: { phase: "Bound", accessModes: ["ReadWriteMany"], capacity: { storage: "40Gi" } } });
    else out[key] = observedObject(key, state.resource);
  }
  return out;
}

const COMPLETE: JsonObject = {
  succeeded: 1,
  completionTime: "2024-01-01T00:10:00Z",
  conditions: [{ type: "Complete", status: "True", lastTransitionTime: "2024-01-01T00:10:00Z" }],
};
const failedBy = (message: string): JsonObject => ({
  failed: 1,
  conditions: [{ type: "Failed", status: "True", reason: "PodFailurePolicy", message, lastTransitionTime: "2024-01-01T00:10:00Z" }],
});

/** What the function reads from the report ConfigMap, through its own reader and phase logic. */
function functionReads(spec: ModelCacheReplicaSpec, report: HydrationReport, jobStatus: JsonObject): ReturnType<typeof hydrationState> {
  const reportObs = observe(
    observedObject(
      "report-x",
      {
        apiVersion: "kubernetes.m.crossplane.io/v1alpha1",
        kind: "Object",
        spec: { forProvider: { manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "r" } } } },
      },
      { extra: { data: { [HYDRATION_REPORT_KEY]: JSON.stringify(report) } } },
    ),
  );
  const reading = readReport(reportObs);
  expect(reading).toEqual({ kind: "report", report });
  const jobObs = observe(
    observedObject(
      "job-x",
      {
        apiVersion: "kubernetes.m.crossplane.io/v1alpha1",
        kind: "Object",
        spec: { forProvider: { manifest: { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" } } } },
      },
      { status: jobStatus },
    ),
  );
  return hydrationState(spec, jobObs, reading, "j", "r");
}

const specOf = (xr: JsonObject): ModelCacheReplicaSpec => xr["spec"] as unknown as ModelCacheReplicaSpec;

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

describe("what is checked", () => {
  it("covers every replica example, and every example is one of the scenarios", () => {
    const names = new Set([...scenarios().map((s) => `replica-${s.name}`), ...nodeScenarios().map((s) => `replica-nodes-${s.name}`)]);
    const dirs = readdirSync(join(ROOT, "examples")).filter((d) => d.startsWith("replica-"));
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of dirs) expect(names, `examples/${d} has a scenario`).toContain(d);
    expect(examples.filter((c) => c.label.endsWith("expected.yaml")).length).toBe(dirs.length);
  });

  it("sees a Job for every source kind, both layouts and both commands", () => {
    const composedArgs = jobs.map(({ job }) => (container(job)["args"] as string[]).join(" "));
    for (const needle of [
      "--source hf://",
      "--source s3://",
      "--source gs://",
      "--gcs-generations generations:",
      "--source http",
      "--files ",
      "--source oci://",
      "--source file://",
      "--layout HuggingFaceCache",
      "--layout Flat",
      "verify /cache",
    ]) {
      expect(
        composedArgs.some((a) => a.includes(needle)),
        needle,
      ).toBe(true);
    }
  });

  it("passes the API's oci.insecure on to the hydrator, and only then", () => {
    const insecure = variants.find((c) => c.label.includes("insecure"));
    expect(container(insecure?.jobs[0] as JsonObject)["args"]).toContain("--plain-http");
    for (const { label, job } of jobs.filter(({ c }) => !c.label.includes("insecure"))) expect(container(job)["args"], label).not.toContain("--plain-http");
  });

  it("passes the platform's refused address classes on to the hydrator when they are not its default, and only then", async () => {
    const xr = baseXr({ artifact: { kind: "Weights", layout: "Flat", source: { s3: { uri: "s3://models" } } } });
    const input = { apiVersion: INPUT_API_VERSION, kind: "Input", tenancy: { sources: { refusedAddresses: ["LinkLocal", "Metadata", "Private"] } } };
    const strict = fromResources(
      "strict",
      Object.values(composeWith(xr, {}, undefined, {}, input).desired.resources).map((r) => r.resource),
    );
    const args = container(strict.jobs[0] as JsonObject)["args"] as string[];
    expect(args.slice(args.indexOf("--refuse-addresses"), args.indexOf("--refuse-addresses") + 2)).toEqual([
      "--refuse-addresses",
      "LinkLocal,Metadata,Private",
    ]);
    const parsed = await parseHydrateArgs(args.slice(1), {});
    expect(parsed.kind === "run" && parsed.value.refusedAddresses).toEqual(["LinkLocal", "Metadata", "Private"]);
    // Every other Job runs with the default policy, which is the hydrator's own default: no flag.
    for (const { label, job } of jobs) expect(container(job)["args"], label).not.toContain("--refuse-addresses");
  });

  it("has a Job in every variant (none is refused as invalid input)", () => {
    for (const c of variants) expect(c.jobs.length, c.label).toBeGreaterThan(0);
  });

  it("treats exactly the hydrator's usage and permanent exit codes as permanent in the Job's podFailurePolicy", () => {
    expect([...EXIT_PERMANENT].sort()).toEqual([EXIT.usage, EXIT.permanent].sort());
    expect(EXIT_PERMANENT).not.toContain(EXIT.retryable);
    for (const { label, job } of jobs) {
      const rule = list(field(job, "spec", "podFailurePolicy", "rules")).find((r) => r["action"] === "FailJob");
      expect(field(rule, "onExitCodes", "containerName"), label).toBe(CONTAINER_NAME);
      expect(field(rule, "onExitCodes", "values"), label).toEqual([...EXIT_PERMANENT]);
    }
  });
});

describe.each(jobs.map((j) => [j.label, j] as const))("Job of %s", (_label, { job, c }) => {
  const composed = container(job)["args"] as string[];

  it("runs the hydrator with a list of strings, hydrate or verify first", () => {
    expect(Array.isArray(composed)).toBe(true);
    expect(composed.every((a) => typeof a === "string")).toBe(true);
    expect(["hydrate", "verify"]).toContain(composed[0]);
    expect(container(job)["command"], "the image's entrypoint is the binary; no shell").toBeUndefined();
  });

  it("has args the hydrator's parser accepts (no usage error, exit 2)", async () => {
    const pod = materialize(job, c.manifests);
    const [cmd, ...rest] = pod.args;
    if (cmd === "verify") {
      const r = parseVerifyArgs(rest);
      expect(r.kind === "usage" ? r.error : r.kind).toBe("run");
      if (r.kind === "run") expect(r.value.dir).toBe(pod.mounts.get(CACHE_MOUNT));
    } else {
      const r = await parseHydrateArgs(rest, pod.env);
      expect(r.kind === "usage" ? r.error : r.kind).toBe("run");
      if (r.kind === "run") {
        expect(r.value.dest, "--dest is the claim's mount").toBe(pod.mounts.get(CACHE_MOUNT));
        expect(r.value.common.progress, "progress as JSON lines: a Job has no terminal").toBe("json");
        expect(r.value.created.reference).not.toContain(SENTINEL_SECRET);
      }
    }
  });

  it("writes its report to the ConfigMap the function composes, observes and lets it update", () => {
    const i = composed.indexOf("--report-configmap");
    expect(i, "--report-configmap is passed").toBeGreaterThan(0);
    const [ns, name] = (composed[i + 1] ?? "").split("/");
    expect(ns).toBe(field(job, "metadata", "namespace"));
    const cm = c.manifests.find((m) => m["kind"] === "ConfigMap" && field(m, "metadata", "name") === name && field(m, "metadata", "namespace") === ns);
    expect(cm, `ConfigMap ${ns}/${name} is composed`).toBeDefined();
    const sa = field(job, "spec", "template", "spec", "serviceAccountName");
    const role = c.manifests.find((m) => m["kind"] === "Role" && field(m, "metadata", "name") === sa);
    const rule = list(role?.["rules"]).find((r) => Array.isArray(r["resourceNames"]) && r["resourceNames"].includes(name ?? ""));
    expect(rule?.["verbs"], "the Job's service account may patch the report ConfigMap").toContain("patch");
    expect(composed[composed.indexOf("--termination-log") + 1]).toBe(text(container(job)["terminationMessagePath"]));
  });

  it("names no path outside the volumes it mounts, and passes no credential as an argument", () => {
    const pod = materialize(job, c.manifests);
    for (const a of pod.args) {
      const p = a.startsWith("file://") ? a.slice(7) : a.startsWith("pvc://") ? a.slice(6) : a;
      if (p.startsWith("/")) expect(p.startsWith(work), `${a} is on a mounted volume (or the termination log)`).toBe(true);
    }
    expect(pod.composedArgs.join("\n")).not.toContain(SENTINEL_SECRET);
  });
});

// A node's copy Job reads the cluster's shared copy (file:///seed): test/contract/node-copy.test.ts runs it on a real seed.
const fileJobs = jobs.filter(
  ({ job }) => isFileSource(container(job)["args"] as string[]) && !(container(job)["args"] as string[]).includes(`file://${SEED_MOUNT}`),
);

describe("file:// sources run for real", () => {
  it("exist among the composed Jobs (inline and configMap)", () => {
    expect(fileJobs.some(({ c }) => c.manifests.some((m) => m["kind"] === "ConfigMap" && isObject(m["data"])))).toBe(true);
    expect(
      fileJobs.some(({ job }) =>
        list(field(job, "spec", "template", "spec", "volumes")).some((v) => text(field(v, "configMap", "name")) === "prompt-templates"),
      ),
    ).toBe(true);
  });

  it.each(fileJobs.map((j) => [j.label, j] as const))(
    "%s: publishes the ConfigMap's files, prints a report the function accepts",
    async (_label, { job, c }) => {
      const pod = materialize(job, c.manifests);
      const r = await runCli(pod);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      expect(r.report.phase).toBe("Ready");
      expect(r.report.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(r.report.resolvedRevision).toBeDefined();
      expect(r.report.bytesTotal).toBeGreaterThan(0);
      expect(r.report.bytesDone).toBe(r.report.bytesTotal);
      // The same report in the termination message, within Kubernetes' limit.
      const tl = readFileSync(pod.terminationLog, "utf8");
      expect(Buffer.byteLength(tl)).toBeLessThanOrEqual(4096);
      expect(HydrationReport.parse(JSON.parse(tl))).toEqual(r.report);
      // Every file of the source volume arrived, byte for byte, and nothing of the kubelet's internals.
      const dest = pod.mounts.get(CACHE_MOUNT) as string;
      const sourceDir = [...pod.mounts.entries()].find(([mp]) => pod.composedArgs.includes(`file://${mp}`))?.[1] as string;
      const files = (d: string, rel = ""): string[] =>
        readdirSync(join(d, rel))
          .filter((n) => !n.startsWith(".."))
          .flatMap((n) => (statSync(join(d, rel, n)).isDirectory() ? files(d, join(rel, n)) : [join(rel, n)]));
      const want = files(sourceDir).sort();
      expect(want.length).toBeGreaterThan(0);
      expect(
        files(dest)
          .filter((p) => p !== "SHA256SUMS" && !p.startsWith(".model-cache"))
          .sort(),
      ).toEqual(want);
      for (const p of want) expect(readFileSync(join(dest, p), "utf8"), p).toBe(readFileSync(join(sourceDir, p), "utf8"));
      // The function's own reader and phase logic take it as done.
      const spec = c.xr ? specOf(c.xr) : (specOf(baseXr()) as ModelCacheReplicaSpec);
      expect(functionReads(spec, r.report, COMPLETE).state).toBe("done");
      // And, composing the replica with that report observed, it is Ready with the hydrator's digest and revision.
      if (c.xr) {
        const status = statusOf(compose(c.xr, observedAfter(c.xr, r.report, COMPLETE)));
        expect(status.phase, JSON.stringify(status)).toBe("Ready");
        expect(status.manifestDigest).toBe(r.report.manifestDigest);
        expect(status.resolvedRevision).toBe(r.report.resolvedRevision);
      }
    },
  );
});

describe("the verify-only Job on a hydrated volume", () => {
  const inlineXr = baseXr({
    artifact: {
      kind: "Bytes",
      layout: "Flat",
      source: {
        inline: {
          files: [
            { path: "chat_template.jinja", content: "{{ messages }}\n" },
            { path: "config/generation.json", content: '{"temperature": 0.6}' },
          ],
        },
      },
    },
  });

  async function hydrated(): Promise<{ dir: string; report: HydrationReport }> {
    const c = composedCase("inline", inlineXr);
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests);
    const r = await runCli(pod);
    expect(r.code, r.stderr).toBe(0);
    return { dir: pod.mounts.get(CACHE_MOUNT) as string, report: r.report };
  }

  const verifyXr = (pin: { resolvedRevision: string; manifestDigest: string }): JsonObject =>
    baseXr({
      ...(inlineXr["spec"] as JsonObject),
      storage: { backend: "ExistingPVC", existingPVC: { claimName: "team-models", hydrate: false } },
      claimName: "team-models",
      pin,
    });

  function snapshot(dir: string): string {
    const walk = (rel: string): string[] =>
      readdirSync(join(dir, rel)).flatMap((n) => {
        const st = statSync(join(dir, rel, n));
        return st.isDirectory() ? walk(join(rel, n)) : [`${join(rel, n)} ${st.size} ${st.mtimeMs}`];
      });
    return walk("").sort().join("\n");
  }

  it("accepts the pinned bytes: exit 0, Ready with the pin, the replica Ready, and the read-only volume untouched", async () => {
    const { dir, report } = await hydrated();
    const xr = verifyXr({ resolvedRevision: report.resolvedRevision as string, manifestDigest: report.manifestDigest as string });
    const c = composedCase("verify", xr);
    expect(c.jobs).toHaveLength(1);
    const job = c.jobs[0] as JsonObject;
    expect((container(job)["args"] as string[]).slice(0, 2)).toEqual(["verify", CACHE_MOUNT]);
    const mount = list(container(job)["volumeMounts"]).find((m) => m["mountPath"] === CACHE_MOUNT);
    expect(mount?.["readOnly"], "verify mounts the claim read-only").toBe(true);
    const pod = materialize(job, c.manifests, new Map([["team-models", dir]]));
    const before = snapshot(dir);
    const r = await runCli(pod);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(snapshot(dir), "verify writes nothing to a read-only claim").toBe(before);
    expect(r.report).toMatchObject({ phase: "Ready", manifestDigest: report.manifestDigest, resolvedRevision: report.resolvedRevision });
    expect(functionReads(specOf(xr), r.report, COMPLETE).state).toBe("done");
    const status = statusOf(compose(xr, observedAfter(xr, r.report, COMPLETE)));
    expect(status.phase, JSON.stringify(status)).toBe("Ready");
    expect(status.manifestDigest).toBe(report.manifestDigest);
  });

  it("refuses other bytes: a permanent exit code, a Failed report whose reason reaches the status", async () => {
    const { dir, report } = await hydrated();
    const xr = verifyXr({ resolvedRevision: report.resolvedRevision as string, manifestDigest: `sha256:${"0".repeat(64)}` });
    const c = composedCase("verify-other", xr);
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests, new Map([["team-models", dir]]));
    const r = await runCli(pod);
    expect(EXIT_PERMANENT, `exit ${r.code}: the Job fails at once instead of retrying`).toContain(r.code);
    expect(r.code).not.toBe(EXIT.usage);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toContain(`expected sha256:${"0".repeat(64)}`);
    const jobStatus = failedBy("Container hydrate for pod model-cache/x failed with exit code 3 matching FailJob rule at index 0");
    const h = functionReads(specOf(xr), r.report, jobStatus);
    expect(h.state).toBe("failed");
    const status = statusOf(compose(xr, observedAfter(xr, r.report, jobStatus)));
    expect(status.phase).not.toBe("Ready");
    expect(JSON.stringify(status), "the hydrator's reason is in the status").toContain(`expected sha256:${"0".repeat(64)}`);
  });

  it("a hydrate Job pinned to other bytes fails the same way, before publishing them", async () => {
    const xr = baseXr({ ...(inlineXr["spec"] as JsonObject), pin: { resolvedRevision: "sha256:whatever", manifestDigest: `sha256:${"1".repeat(64)}` } });
    const c = composedCase("hydrate-other", xr);
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests);
    expect(pod.composedArgs).toContain("--expect-manifest-digest");
    const r = await runCli(pod);
    expect(EXIT_PERMANENT).toContain(r.code);
    expect(r.code).not.toBe(EXIT.usage);
    expect(r.report.phase).toBe("Failed");
    expect(existsSync(join(pod.mounts.get(CACHE_MOUNT) as string, ".model-cache", "manifest.json")), "nothing published").toBe(false);
  });
});

describe("file paths: what the API accepts, the hydrator publishes", () => {
  // [path, accepted for http files, accepted for inline files, reason]
  const PATHS: [path: string, http: boolean, inline: boolean, reason: string][] = [
    ["model.safetensors", true, true, "a plain name"],
    ["a/b/c.json", true, true, "nested directories"],
    ["with space/x y.json", true, true, "spaces"],
    ["ünï/模型.txt", true, true, "non-ASCII"],
    [".hidden", true, true, "a dot file"],
    ["a..b/c..", true, true, "dots inside names"],
    ["x/SHA256SUMS", true, true, "the reserved name is reserved at the top only"],
    ["..x", true, false, "a name starting with '..': the kubelet's ConfigMap writer reserves it, so not inline"],
    ["a/..x", true, false, "the same deeper down: the hydrator's file:// source skips it, so it would go missing"],
    ["../x", false, false, "escapes the destination"],
    ["a/./b", false, false, "a '.' segment"],
    ["a//b", false, false, "an empty segment"],
    ["a/", false, false, "a trailing slash"],
    ["a\\b", false, false, "a backslash"],
    ["a\tb", false, false, "a control character"],
    ["/abs", false, false, "absolute"],
    ["SHA256SUMS", false, false, "the hydrator's own checksum file"],
    [".model-cache/manifest.json", false, false, "the hydrator's own manifest"],
  ];
  const httpXr = (path: string): JsonObject =>
    baseXr({
      artifact: { kind: "Bytes", layout: "Flat", source: { http: { files: [{ url: "https://mirror.example.com/f", path, sha256: "e".repeat(64) }] } } },
    });
  const inlineXr = (paths: string[]): JsonObject =>
    baseXr({ artifact: { kind: "Bytes", layout: "Flat", source: { inline: { files: paths.map((path, i) => ({ path, content: `file ${i}: ${path}\n` })) } } } });
  const fatal = (xr: JsonObject): boolean => compose(xr).results.some((r) => r.severity === "Fatal");

  it.each(PATHS)("http files path %j: API accepts = %s (%s), and the hydrator then parses it", async (path, http, _inline, _reason) => {
    const xr = httpXr(path);
    expect(!fatal(xr), "the API's verdict").toBe(http);
    if (!http) return;
    const c = composedCase(`http ${path}`, xr);
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests);
    const r = await parseHydrateArgs(pod.args.slice(1), pod.env);
    expect(r.kind === "usage" ? r.error : r.kind).toBe("run");
  });

  it.each(PATHS)("inline path %j: API accepts = %s (%s)", (path, _http, inline) => {
    expect(!fatal(inlineXr([path])), "the API's verdict").toBe(inline);
  });

  it("publishes every inline path the API accepts, at that path, through the ConfigMap volume", async () => {
    const accepted = PATHS.filter(([, , inline]) => inline).map(([p]) => p);
    const xr = inlineXr(accepted);
    const c = composedCase("inline paths", xr);
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests);
    const r = await runCli(pod);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.report.filesTotal).toBe(accepted.length);
    const dest = pod.mounts.get(CACHE_MOUNT) as string;
    accepted.forEach((p, i) => expect(readFileSync(join(dest, p), "utf8"), p).toBe(`file ${i}: ${p}\n`));
  });
});

describe("Hugging Face revisions: what the API accepts, the hydrator accepts", () => {
  const REVISIONS: [revision: string, api: boolean, reason: string][] = [
    ["main", true, "a branch"],
    ["v1.0", true, "a tag"],
    ["release/2024.01", true, "a branch with a slash and dots"],
    ["refs/pr/12", true, "a pull-request ref"],
    [COMMIT, true, "a commit"],
    ["v1..2", false, "'..' is no git ref name, and the hydrator refuses it"],
    ["a b", false, "whitespace"],
    ["a\u0001b", false, "a control character (not whitespace, so the old pattern let it through)"],
  ];
  it.each(REVISIONS)("%j: API accepts = %s (%s), and the hydrator then parses the Job's args", async (revision, api) => {
    const xr = baseXr({ artifact: { kind: "Weights", layout: "Flat", source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision } } } });
    const c = composedCase(`revision ${revision}`, xr);
    expect(c.jobs.length > 0, "the API's verdict").toBe(api);
    if (!api) return;
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests);
    const r = await parseHydrateArgs(pod.args.slice(1), pod.env);
    expect(r.kind === "usage" ? r.error : r.kind).toBe("run");
  });
});

describe("credentials: the Secret references the Job sets are the ones the hydrator reads, and sends", () => {
  // A stand-in for the hub, an S3-compatible store and a registry, on one loopback port: it records
  // each request's Authorization and refuses it, so each hydration fails permanently after one call.
  let server: Server;
  let port = 0;
  const seen: { url: string; authorization: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", authorization: req.headers.authorization ?? "" });
      req.resume();
      if ((req.url ?? "").startsWith("/v2/")) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="stand-in"', "content-type": "application/json" }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      } else if ((req.url ?? "").startsWith("/api/")) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"error":"Invalid credentials in Authorization header"}');
      } else {
        res
          .writeHead(403, { "content-type": "application/xml" })
          .end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function runAgainstStandIn(
    xr: JsonObject,
    secretData: Record<string, Record<string, string>> = {},
  ): Promise<{ run: Run; requests: { url: string; authorization: string }[] }> {
    const c = composedCase("credentials", xr);
    expect(c.jobs).toHaveLength(1);
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests, new Map(), secretData);
    const from = seen.length;
    const run = await runCli(pod);
    const requests = seen.slice(from);
    expect(requests.length, "the hydrator reached the stand-in").toBeGreaterThan(0);
    expect(EXIT_PERMANENT, `exit ${run.code}: refused credentials are a permanent failure\n${run.stderr}`).toContain(run.code);
    expect(run.code).not.toBe(EXIT.usage);
    expect(run.report.phase).toBe("Failed");
    for (const out of [run.stdout, run.stderr, JSON.stringify(run.report), readFileSync(pod.terminationLog, "utf8")])
      expect(out).not.toContain(SENTINEL_SECRET);
    return { run, requests };
  }

  it("huggingFace: HF_TOKEN from tokenSecretRef is sent as a Bearer token to the hub endpoint", async () => {
    const xr = baseXr({
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: { huggingFace: { repo: "Qwen/Qwen3-8B", revision: "main", endpoint: `http://127.0.0.1:${port}`, tokenSecretRef: { name: "hf-token" } } },
      },
    });
    const { requests } = await runAgainstStandIn(xr);
    expect(requests[0]?.url).toMatch(/^\/api\/models\/Qwen\/Qwen3-8B\//);
    expect(requests[0]?.authorization).toBe(`Bearer ${SENTINEL_SECRET}-HF_TOKEN`);
  });

  it("s3: AWS_* from credentialsSecretRef sign the request to the S3-compatible endpoint", async () => {
    const xr = baseXr({
      artifact: {
        kind: "Weights",
        layout: "Flat",
        source: {
          s3: {
            uri: "s3://models/qwen3-8b/",
            region: "eu-west-1",
            endpoint: `http://127.0.0.1:${port}`,
            pathStyle: true,
            credentialsSecretRef: { name: "s3-creds" },
          },
        },
      },
    });
    const { requests } = await runAgainstStandIn(xr);
    expect(requests[0]?.url).toMatch(/^\/models[/?]/);
    expect(requests[0]?.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${SENTINEL_SECRET}-AWS_ACCESS_KEY_ID/\\d{8}/eu-west-1/s3/aws4_request`),
    );
  });

  it("oci: the pull Secret's .dockerconfigjson, mounted and named by REGISTRY_AUTH_FILE, answers the registry's challenge", async () => {
    const registry = `127.0.0.1:${port}`;
    const auth = Buffer.from(`robot:${SENTINEL_SECRET}`).toString("base64");
    const xr = baseXr({
      artifact: { kind: "Weights", layout: "Flat", source: { oci: { reference: `${registry}/models/qwen3-8b:v1`, pullSecretRef: { name: "registry-pull" } } } },
    });
    const { requests } = await runAgainstStandIn(xr, { "registry-pull": { ".dockerconfigjson": JSON.stringify({ auths: { [registry]: { auth } } }) } });
    expect(requests.every((r) => r.url.startsWith("/v2/models/qwen3-8b/"))).toBe(true);
    expect(requests.map((r) => r.authorization)).toContain(`Basic ${auth}`);
  });
});

describe("pvcClone Jobs run for real", () => {
  const SOURCE = "qwen3-8b-golden";
  const CLAIM = "qwen3-8b-3f9c2a1b7d";
  const published = { dir: "", digest: "", revision: "" };

  beforeAll(async () => {
    // The golden volume: what an earlier hydration published (an inline artifact, run as the function's own Job).
    const xr = baseXr({
      artifact: { kind: "Bytes", layout: "Flat", source: { inline: { files: [{ path: "weights/model.bin", content: "w".repeat(200_000) }] } } },
    });
    const c = composedCase("golden", xr);
    const pod = materialize(c.jobs[0] as JsonObject, c.manifests);
    const r = await runCli(pod);
    expect(r.code, r.stderr).toBe(0);
    Object.assign(published, { dir: pod.mounts.get(CACHE_MOUNT), digest: r.report.manifestDigest, revision: r.report.resolvedRevision });
  });

  /** The replica once its source claim (of storage class `cls`, in the cache's namespace) is read: the Job it composes then. */
  function cloneCase(cls: string, manifestDigest?: string): { c: Case; job: JsonObject } {
    const pvcClone: JsonObject = { claimName: SOURCE, ...(manifestDigest ? { manifestDigest } : {}) };
    const xr = baseXr({ artifact: { kind: "Weights", layout: "Flat", source: { pvcClone } } }, { attempts: 1, claimName: CLAIM, phase: "Pending" });
    const src = compose(xr).desired.resources["clone-source"];
    if (src === undefined) throw new Error("the source claim is not read");
    const claim: ObservedAs = {
      extra: { spec: { storageClassName: cls, accessModes: ["ReadWriteMany"], volumeName: "pv-1" } },
      status: { phase: "Bound", capacity: { storage: "20Gi" } },
    };
    const c = composedCase(`pvcClone from class ${cls}`, xr, { "clone-source": observedObject("clone-source", src.resource, claim) });
    const job = c.jobs[0];
    if (job === undefined) throw new Error("no Job composed");
    return { c, job };
  }

  it("a copy (another storage class) reads the source claim through pvc:// and has the source's digest and revision", async () => {
    const { c, job } = cloneCase("nfs-client");
    expect(container(job)["args"]).toContain("pvc:///etc/modelcache/source");
    const pod = materialize(job, c.manifests, new Map([[SOURCE, published.dir]]));
    const r = await runCli(pod);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.report).toMatchObject({ phase: "Ready", manifestDigest: published.digest, resolvedRevision: published.revision });
    expect(readFileSync(join(pod.mounts.get(CACHE_MOUNT) as string, "weights", "model.bin"), "utf8")).toBe("w".repeat(200_000));
  });

  it("a copy of a volume without a manifest fails permanently, saying how to publish it", async () => {
    const plain = fresh("plain");
    writeFileSync(join(plain, "model.bin"), "x");
    const { c, job } = cloneCase("nfs-client");
    const r = await runCli(materialize(job, c.manifests, new Map([[SOURCE, plain]])));
    expect(EXIT_PERMANENT).toContain(r.code);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toContain("holds no .model-cache/manifest.json");
  });

  it("a clone (the cluster's own class) is verified against the named digest, and other bytes fail", async () => {
    const { c, job } = cloneCase("efs-sc", published.digest);
    expect((container(job)["args"] as string[]).slice(0, 2)).toEqual(["verify", CACHE_MOUNT]);
    const clone = fresh("clone");
    cpSync(published.dir, clone, { recursive: true });
    const ok = await runCli(materialize(job, c.manifests, new Map([[CLAIM, clone]])));
    expect(ok.code, ok.stderr).toBe(EXIT.ok);
    expect(ok.report).toMatchObject({ phase: "Ready", manifestDigest: published.digest });

    const other = cloneCase("efs-sc", `sha256:${"0".repeat(64)}`);
    const bad = await runCli(materialize(other.job, other.c.manifests, new Map([[CLAIM, clone]])));
    expect(EXIT_PERMANENT).toContain(bad.code);
    expect(bad.report.phase).toBe("Failed");
  });
});
