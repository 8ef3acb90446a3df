// From the artifact's source to the hydrator's arguments, environment and
// mounts. Every spec value becomes exactly one argv element or one ConfigMap
// value; credentials are referenced by Secret name and never copied.
import type { HttpAuthSecretRef } from "../../api/artifact.ts";
import { redactUri } from "../../api/redact.ts";
import type { ModelCacheReplicaSpec } from "../../api/replica.ts";
import type { JsonObject } from "../../sdk/types.ts";

/** Where source files (inline, ConfigMap, HTTP file list) are mounted in the Job. */
export const SOURCE_MOUNT = "/etc/modelcache/source";
/** Where an OCI pull secret's dockerconfigjson is mounted. */
export const REGISTRY_AUTH_MOUNT = "/var/run/secrets/modelcache.dev/registry";
export const HTTP_FILES_KEY = "files.json";

/** Above this the inline files would not fit one ConfigMap (1 MiB, less metadata). */
export const INLINE_MAX_BYTES = 900 * 1024;

export interface SourcePlan {
  /** Arguments naming the source, e.g. ["--source", "hf://org/repo@rev", "--include", "*.json"]. */
  args: string[];
  env: JsonObject[];
  volumes: JsonObject[];
  mounts: JsonObject[];
  /** A ConfigMap the function composes to carry files to the Job. */
  configMap?: { data: Record<string, string>; items: { key: string; path: string }[] };
  /** Names of Secrets the Job needs, for messages (names only, never values). */
  secrets: string[];
}

function secretEnv(name: string, secret: string, key: string, optional = false): JsonObject {
  const ref: JsonObject = { name: secret, key };
  if (optional) ref["optional"] = true;
  return { name, valueFrom: { secretKeyRef: ref } };
}

function sourceMount(volumeSource: JsonObject): Pick<SourcePlan, "volumes" | "mounts"> {
  return {
    volumes: [{ name: "source", ...volumeSource }],
    mounts: [{ name: "source", mountPath: SOURCE_MOUNT, readOnly: true }],
  };
}

function withPin(base: string, pinned: string | undefined): string {
  return pinned === undefined ? base : pinned;
}

/**
 * The HTTP credential's environment (functions/hydrator/sources/http.ts reads
 * it): the Secret's `token`, or its `username` and `password`, by reference.
 */
function httpAuth(ref: HttpAuthSecretRef | undefined): Pick<SourcePlan, "env" | "secrets"> {
  if (ref === undefined) return { env: [], secrets: [] };
  const env =
    ref.scheme === "Basic"
      ? [secretEnv("MODELCACHE_HTTP_USERNAME", ref.name, "username"), secretEnv("MODELCACHE_HTTP_PASSWORD", ref.name, "password")]
      : [secretEnv("MODELCACHE_HTTP_TOKEN", ref.name, "token")];
  return { env, secrets: [ref.name] };
}

/** An error as a value: which field, what is wrong. */
export interface FieldError {
  field: string;
  message: string;
}

export function planSource(spec: ModelCacheReplicaSpec, sourceConfigMap: string): SourcePlan | FieldError {
  const src = spec.artifact.source;
  const pinned = spec.pin?.resolvedRevision;
  const empty = { env: [], volumes: [], mounts: [], secrets: [] };

  if (src.huggingFace) {
    const hf = src.huggingFace;
    // A pinned commit replaces a branch or tag: every cluster fetches the same commit.
    const rev = withPin(hf.revision, pinned && /^[0-9a-f]{40}$/.test(pinned) ? pinned : undefined);
    const args = ["--source", `hf://${hf.repo}@${rev}`];
    for (const g of hf.include ?? []) args.push("--include", g);
    for (const g of hf.exclude ?? []) args.push("--exclude", g);
    if (hf.endpoint) args.push("--endpoint", hf.endpoint);
    if (!hf.tokenSecretRef) return { ...empty, args };
    const secret = hf.tokenSecretRef.name;
    return { ...empty, args, env: [secretEnv("HF_TOKEN", secret, hf.tokenSecretRef.key ?? "token")], secrets: [secret] };
  }
  if (src.s3) {
    const s3 = src.s3;
    const args = ["--source", s3.uri];
    if (s3.region) args.push("--s3-region", s3.region);
    if (s3.endpoint) args.push("--endpoint", s3.endpoint);
    if (s3.pathStyle) args.push("--s3-path-style");
    if (!s3.credentialsSecretRef) return { ...empty, args };
    const secret = s3.credentialsSecretRef.name;
    return {
      ...empty,
      args,
      env: [
        secretEnv("AWS_ACCESS_KEY_ID", secret, "AWS_ACCESS_KEY_ID"),
        secretEnv("AWS_SECRET_ACCESS_KEY", secret, "AWS_SECRET_ACCESS_KEY"),
        secretEnv("AWS_SESSION_TOKEN", secret, "AWS_SESSION_TOKEN", true),
      ],
      secrets: [secret],
    };
  }
  if (src.http) {
    const http = src.http;
    const auth = httpAuth(http.authSecretRef);
    // A URL with a query (a presigned URL: its signature is a credential) never becomes an argument, which the
    // pod spec, `ps` and every log of the Job's creation would show: it travels in the files ConfigMap like a list.
    if (http.url !== undefined && redactUri(http.url) === http.url) return { ...empty, ...auth, args: ["--source", http.url, "--sha256", http.sha256 ?? ""] };
    // A list of files travels as JSON in a ConfigMap, so no URL is ever an argument of a shell.
    const files = http.url !== undefined ? [{ url: http.url, ...(http.sha256 !== undefined ? { sha256: http.sha256 } : {}) }] : (http.files ?? []).map((f) => ({ url: f.url, path: f.path, sha256: f.sha256 }));
    return {
      ...empty,
      ...auth,
      ...sourceMount({ configMap: { name: sourceConfigMap } }),
      args: ["--files", `${SOURCE_MOUNT}/${HTTP_FILES_KEY}`],
      configMap: { data: { [HTTP_FILES_KEY]: JSON.stringify(files) }, items: [{ key: HTTP_FILES_KEY, path: HTTP_FILES_KEY }] },
    };
  }
  if (src.oci) {
    const oci = src.oci;
    // A pinned manifest digest replaces the tag.
    const ref = pinned && /^sha256:[0-9a-f]{64}$/.test(pinned) ? `${oci.reference.replace(/(@sha256:[0-9a-f]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]*)$/, "")}@${pinned}` : oci.reference;
    const args = ["--source", `oci://${ref}`];
    if (oci.insecure) args.push("--plain-http");
    if (!oci.pullSecretRef) return { ...empty, args };
    const secret = oci.pullSecretRef.name;
    return {
      args,
      env: [{ name: "REGISTRY_AUTH_FILE", value: `${REGISTRY_AUTH_MOUNT}/config.json` }],
      volumes: [{ name: "registry-auth", secret: { secretName: secret, items: [{ key: ".dockerconfigjson", path: "config.json" }] } }],
      mounts: [{ name: "registry-auth", mountPath: REGISTRY_AUTH_MOUNT, readOnly: true }],
      secrets: [secret],
    };
  }
  if (src.inline) {
    // ConfigMap keys cannot hold '/', so files travel under f<i> and the
    // volume projects each to its relative path.
    const data: Record<string, string> = {};
    const items: { key: string; path: string }[] = [];
    let bytes = 0;
    src.inline.files.forEach((f, i) => {
      data[`f${i}`] = f.content;
      items.push({ key: `f${i}`, path: f.path });
      bytes += Buffer.byteLength(f.content, "utf8");
    });
    if (bytes > INLINE_MAX_BYTES)
      return { field: "spec.artifact.source.inline.files", message: `hold ${bytes} bytes; inline files must fit one ConfigMap (${INLINE_MAX_BYTES} bytes): use another source` };
    return { ...empty, ...sourceMount({ configMap: { name: sourceConfigMap, items } }), args: ["--source", `file://${SOURCE_MOUNT}`], configMap: { data, items } };
  }
  if (src.configMap) {
    return { ...empty, ...sourceMount({ configMap: { name: src.configMap.name } }), args: ["--source", `file://${SOURCE_MOUNT}`] };
  }
  return { field: "spec.artifact.source", message: "exactly one source must be set" };
}

/** The source in one line for status and messages: a URL without userinfo, query or fragment. */
export function describeSource(spec: ModelCacheReplicaSpec): string {
  const s = spec.artifact.source;
  if (s.huggingFace) return `hf://${s.huggingFace.repo}@${s.huggingFace.revision}`;
  if (s.s3) return redactUri(s.s3.uri);
  if (s.http) return s.http.url !== undefined ? redactUri(s.http.url) : `${s.http.files?.length ?? 0} HTTP files`;
  if (s.oci) return `oci://${s.oci.reference}`;
  if (s.inline) return `${s.inline.files.length} inline files`;
  if (s.configMap) return `configmap/${s.configMap.name}`;
  return "(none)";
}
