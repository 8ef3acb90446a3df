// Generates the XRDs and the function's input CRD from the zod schemas in
// functions/api, so the API is written once. `npm run gen:apis` writes them;
// functions/api/apis-in-sync.test.ts fails when they are out of date.
//
// zod's JSON Schema becomes a Kubernetes structural schema: no
// additionalProperties: false (Kubernetes prunes unknown fields instead), no
// $schema, no propertyNames, no integer bounds that only restate a double's
// range, no regex features Kubernetes' RE2 cannot run (the function still
// enforces those patterns, with field paths in its Fatal results).
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { z } from "zod";
import { Input, INPUT_API_VERSION } from "../functions/api/input.ts";
import { API_GROUP } from "../functions/api/group.ts";
import { ModelCacheSpec, ModelCacheStatus } from "../functions/api/modelcache.ts";
import { ModelCacheReplicaSpecForms, ModelCacheReplicaStatus } from "../functions/api/replica.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

type Schema = { [key: string]: unknown };

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Lookaround, backreferences and possessive forms: valid in JavaScript, refused by RE2. */
const NOT_RE2 = /\(\?[=!<]|\\[1-9]/;

function isSchema(v: unknown): v is Schema {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One JSON Schema node, recursively, to what Kubernetes accepts in a CRD. */
export function structural(node: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    switch (k) {
      case "$schema":
      case "propertyNames":
      case "id":
        continue;
      case "additionalProperties":
        if (v === false) continue;
        out[k] = isSchema(v) ? structural(v) : v;
        continue;
      case "minimum":
      case "maximum":
        if (typeof v === "number" && Math.abs(v) >= MAX_SAFE) continue;
        out[k] = v;
        continue;
      case "pattern":
        if (typeof v === "string" && NOT_RE2.test(v)) continue;
        out[k] = v;
        continue;
      case "const":
        out["enum"] = [v];
        continue;
      case "properties": {
        const props: Schema = {};
        for (const [name, p] of Object.entries(v as Schema)) props[name] = structural(p as Schema);
        out[k] = props;
        continue;
      }
      case "items":
        out[k] = isSchema(v) ? structural(v) : v;
        continue;
      default:
        out[k] = v;
    }
  }
  // A node with no type (z.unknown, z.any) holds anything: tell Kubernetes not to prune it.
  if (out["type"] === undefined && out["anyOf"] === undefined && out["enum"] === undefined) out["x-kubernetes-preserve-unknown-fields"] = true;
  // Unions (z.union) become x-kubernetes-int-or-string where that is what they are; others keep anything.
  if (Array.isArray(out["anyOf"])) {
    const types = (out["anyOf"] as Schema[]).map((s) => s["type"]).sort();
    delete out["anyOf"];
    if (types.join() === "integer,string" || types.join() === "number,string") out["x-kubernetes-int-or-string"] = true;
    else out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  return out;
}

function jsonSchema(s: z.ZodType): Schema {
  // "input": what a user may write, so fields with defaults are not required.
  return structural(z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Schema);
}

interface Column {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
}

function xrd(kind: string, plural: string, spec: z.ZodType, status: z.ZodType, columns: Column[], description: string): Schema {
  return {
    apiVersion: "apiextensions.crossplane.io/v2",
    kind: "CompositeResourceDefinition",
    metadata: { name: `${plural}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      // No category named after the kind: kubectl expands a category before a
      // singular name, so a "modelcache" category made `kubectl get modelcache
      // <name>` fail with "you must specify only one resource" (found on the
      // live control plane). "crossplane" lists them with every other XR.
      names: { kind, plural, singular: kind.toLowerCase(), categories: ["crossplane"] },
      scope: "Namespaced",
      versions: [
        {
          name: "v1alpha1",
          served: true,
          referenceable: true,
          additionalPrinterColumns: columns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description,
              properties: { spec: jsonSchema(spec), status: jsonSchema(status) },
              required: ["spec"],
            },
          },
        },
      ],
    },
  };
}

function inputCrd(): Schema {
  const group = INPUT_API_VERSION.split("/")[0] ?? "";
  const schema = jsonSchema(Input);
  const props = { ...(schema["properties"] as Schema) };
  // apiVersion, kind and metadata are the object's envelope: plain strings and an object, as in any CRD.
  props["apiVersion"] = { type: "string" };
  props["kind"] = { type: "string" };
  props["metadata"] = { type: "object" };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `inputs.${group}` },
    spec: {
      group,
      names: { kind: "Input", listKind: "InputList", plural: "inputs", singular: "input", categories: ["crossplane", "function"] },
      scope: "Namespaced",
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description:
                "The input of function-model-cache: which cluster type to read as required resources, where its fields live, and what each cluster gets.",
              properties: props,
            },
          },
        },
      ],
    },
  };
}

const HEADER = "# Generated from functions/api by scripts/gen-apis.ts (npm run gen:apis). Do not edit.\n";

/** Every generated file, by path relative to the repository root. */
export function renderApis(): Record<string, string> {
  const modelCache = xrd(
    "ModelCache",
    "modelcaches",
    ModelCacheSpec,
    ModelCacheStatus,
    [
      { name: "SOURCE", type: "string", jsonPath: ".status.source", description: "The source in one line." },
      { name: "CLUSTERS", type: "string", jsonPath: ".status.ready", description: "Ready clusters over selected clusters." },
      { name: "PINNED", type: "string", jsonPath: ".status.pin.resolvedRevision", description: "The revision every cluster must hold." },
      { name: "DRIFTED", type: "integer", jsonPath: ".status.summary.drifted", priority: 1 },
      { name: "BLOCKED", type: "integer", jsonPath: ".status.summary.blocked", priority: 1 },
      { name: "MOUNT", type: "string", jsonPath: ".status.mountPath", priority: 1 },
      { name: "AGE", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ],
    "A model artifact made present and verified to the byte on every selected inference cluster.",
  );
  const replica = xrd(
    "ModelCacheReplica",
    "modelcachereplicas",
    // Either form: the compact one the fleet composes, or the full one.
    ModelCacheReplicaSpecForms,
    ModelCacheReplicaStatus,
    [
      { name: "CLUSTER", type: "string", jsonPath: ".spec.cluster.name" },
      { name: "PHASE", type: "string", jsonPath: ".status.phase" },
      { name: "DONE", type: "integer", jsonPath: ".status.bytesDone", description: "Bytes hydrated so far." },
      { name: "TOTAL", type: "integer", jsonPath: ".status.bytesTotal" },
      { name: "ETA", type: "integer", jsonPath: ".status.etaSeconds", description: "Seconds left, estimated." },
      // From status: a compact replica's spec names no claim.
      { name: "CLAIM", type: "string", jsonPath: ".status.claimName", priority: 1 },
      {
        name: "NODES",
        type: "string",
        jsonPath: ".status.nodeSummary.ready",
        description: "replication AllMatchingNodes: nodes ready over selected.",
        priority: 1,
      },
      { name: "AGE", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ],
    "One cluster's copy of a ModelCache, composed by the ModelCache; its spec (with the ModelCache's replica contract when compact) is everything that cluster needs.",
  );
  const dump = (o: Schema) => HEADER + stringify(o, { lineWidth: 0, aliasDuplicateObjects: false });
  return {
    "apis/modelcaches/definition.yaml": dump(modelCache),
    "apis/modelcachereplicas/definition.yaml": dump(replica),
    "package/input/modelcache.fn.crossplane.io_inputs.yaml": dump(inputCrd()),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, text] of Object.entries(renderApis())) {
    writeFileSync(join(ROOT, path), text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
