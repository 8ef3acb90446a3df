// The source's identity: what decides which bytes a cache holds. It names the
// volume (a new identity gets a new claim, so a changed revision never
// overwrites verified bytes) and says whether the source is already pinned.
import type { Artifact } from "../../api/artifact.ts";
import { canonicalJson, sha256Hex } from "../../shared/canonical-json.ts";
import { redactUri } from "../../api/redact.ts";
import type { JsonValue } from "../../sdk/types.ts";

/**
 * What determines the bytes, and nothing else: credentials, mirrors of the
 * same hub, TLS switches and path-style addressing change how bytes are
 * fetched, not which, so changing them keeps the volume.
 */
export function sourceIdentity(a: Artifact): JsonValue {
  const s = a.source;
  let source: JsonValue;
  if (s.huggingFace) source = { huggingFace: { repo: s.huggingFace.repo, revision: s.huggingFace.revision, include: s.huggingFace.include ?? null, exclude: s.huggingFace.exclude ?? null } };
  else if (s.s3) source = { s3: { uri: s.s3.uri, endpoint: s.s3.endpoint ?? null, region: s.s3.region ?? null } };
  else if (s.http) source = { http: { url: s.http.url ?? null, sha256: s.http.sha256 ?? null, files: s.http.files ?? null } };
  else if (s.oci) source = { oci: { reference: s.oci.reference } };
  else if (s.inline) source = { inline: { files: s.inline.files } };
  else if (s.configMap) source = { configMap: { name: s.configMap.name } };
  else source = null;
  return { kind: a.kind, layout: a.layout, engine: a.engine ?? null, source };
}

/** A short, stable hash of the identity (10 hex digits: 40 bits, ample among one cache's revisions). */
export function identityHash(a: Artifact): string {
  return sha256Hex(canonicalJson(sourceIdentity(a))).slice(0, 10);
}

/**
 * The source in one line, for `kubectl get`, conditions and events. Never
 * contains credentials: a URL is shown without userinfo, query or fragment (a
 * presigned URL's signature is a credential the tenant chose to put in the
 * spec; it goes no further than the spec and the Job's own file).
 */
export function sourceLine(a: Artifact): string {
  const s = a.source;
  if (s.huggingFace) return `hf://${s.huggingFace.repo}@${s.huggingFace.revision}`;
  if (s.s3) return redactUri(s.s3.uri);
  if (s.http) return s.http.url !== undefined ? redactUri(s.http.url) : `http: ${s.http.files?.length ?? 0} files`;
  if (s.oci) return `oci://${s.oci.reference}`;
  if (s.inline) return `inline: ${s.inline.files.length} file${s.inline.files.length === 1 ? "" : "s"}`;
  if (s.configMap) return `configmap://${s.configMap.name}`;
  return "(no source)";
}

const COMMIT = /^[0-9a-f]{40}$/;
const OCI_DIGEST = /@(sha256:[0-9a-f]{64})$/;

/**
 * The immutable revision a source names by itself, if it does: a Hugging Face
 * commit, an OCI digest, HTTP files all pinned by sha256, inline content. A
 * branch, tag, S3 prefix or ConfigMap can change under us: pinned only once a
 * cluster has verified what it resolved to.
 */
export function immutableRevision(a: Artifact): string | undefined {
  const s = a.source;
  if (s.huggingFace) return COMMIT.test(s.huggingFace.revision) ? s.huggingFace.revision : undefined;
  if (s.oci) return OCI_DIGEST.exec(s.oci.reference)?.[1];
  if (s.http) {
    const files = s.http.files ?? (s.http.url !== undefined && s.http.sha256 !== undefined ? [{ path: s.http.url, sha256: s.http.sha256 }] : []);
    if (files.length === 0) return undefined;
    const list = files.map((f) => `${f.sha256}  ${f.path}\n`).sort().join("");
    return `sha256:${sha256Hex(list)}`;
  }
  if (s.inline) return `sha256:${sha256Hex(canonicalJson(s.inline.files))}`;
  return undefined;
}

/** Whether a replica's reported revision is comparable with a source pin (same format as the hydrator reports). */
export function revisionComparable(a: Artifact): boolean {
  return a.source.huggingFace !== undefined || a.source.oci !== undefined;
}
