// OCI references, manifests and indexes, and how an artifact's layers become
// files: ModelPack (CNCF model-spec) layers by their media type and
// `org.cncf.model.filepath`, ORAS layers by `org.opencontainers.image.title`
// (directories pushed by oras are tar+gzip marked `io.deis.oras.content.unpack`).
import { z } from "zod";
import { safeRelativePath } from "../paths.ts";
import type { RemoteObject, Unpack } from "./types.ts";
import type { Checked } from "../../common/checked.ts";

export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  modelManifest: "application/vnd.cncf.model.manifest.v1+json",
  modelConfig: "application/vnd.cncf.model.config.v1+json",
} as const;

/** What we ask a registry for, most preferred first. */
export const MANIFEST_ACCEPT = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerList].join(", ");

export const ANNOTATION = {
  title: "org.opencontainers.image.title",
  modelFilepath: "org.cncf.model.filepath",
  orasUnpack: "io.deis.oras.content.unpack",
} as const;

export interface OciReference {
  /** host[:port] as written (docker.io kept as the user wrote it). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

// From the distribution reference grammar.
const REPO_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const REPO_RE = new RegExp(`^${REPO_COMPONENT}(?:/${REPO_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;

/** Parses `oci://<registry>/<repo>[:<tag>][@sha256:<hex>]`; no tag and no digest means `latest`. */
export function parseOciReference(uri: string): Checked<OciReference> {
  const bad = (why: string): Checked<OciReference> => ({ ok: false, error: `invalid OCI reference "${uri}": ${why}` });
  if (!uri.startsWith("oci://")) return bad("expected oci://<registry>/<repository>:<tag> or @sha256:<digest>");
  const rest = uri.slice("oci://".length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return bad("no registry host");
  const registry = rest.slice(0, slash);
  if (!HOST_RE.test(registry)) return bad(`"${registry}" is not a registry host`);
  // As the distribution reference grammar reads it: a first component with no dot, no port and not localhost is
  // a repository path (Docker's tools would silently add docker.io). Say so rather than dial a host named "library".
  if (!/[.:]/.test(registry) && registry !== "localhost") {
    return bad(`"${registry}" is a repository path, not a registry host: name the registry, e.g. oci://docker.io/${rest.split(/[:@]/)[0] ?? ""}`);
  }
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = path.indexOf("@");
  if (at >= 0) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!DIGEST_RE.test(digest)) return bad(`"${digest}" is not a sha256 digest (sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag)) return bad(`"${tag}" is not a valid tag`);
  }
  if (!REPO_RE.test(path)) return bad(`"${path}" is not a valid repository name`);
  // Docker Hub's official images live under library/.
  const repository = isDockerHub(registry) && !path.includes("/") ? `library/${path}` : path;
  if (tag === undefined && digest === undefined) tag = "latest";
  return {
    ok: true,
    value: { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) },
  };
}

export function isDockerHub(registry: string): boolean {
  return registry === "docker.io" || registry === "index.docker.io";
}

export function formatReference(ref: OciReference): string {
  return `oci://${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}

const Annotations = z.record(z.string(), z.string()).optional();

const Descriptor = z.looseObject({
  mediaType: z.string(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  annotations: Annotations,
  artifactType: z.string().optional(),
  platform: z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional(),
});
export type Descriptor = z.infer<typeof Descriptor>;

const Manifest = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  annotations: Annotations,
});
export type Manifest = z.infer<typeof Manifest>;

const Index = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(Descriptor),
});
export type Index = z.infer<typeof Index>;

export type ManifestDocument = { kind: "manifest"; manifest: Manifest } | { kind: "index"; index: Index };

/** Parses a manifest or index body; the media type is the body's own, else the Content-Type. */
export function parseManifestDocument(body: string, contentType: string | null): Checked<ManifestDocument> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, error: "the manifest is not JSON" };
  }
  const declared = (json as { mediaType?: unknown }).mediaType;
  const mediaType = typeof declared === "string" ? declared : (contentType ?? "").split(";")[0]?.trim();
  const isIndex =
    mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList || (mediaType === "" && Array.isArray((json as { manifests?: unknown }).manifests));
  if (isIndex) {
    const parsed = Index.safeParse(json);
    if (!parsed.success) return { ok: false, error: `malformed image index: ${describeIssue(parsed.error)}` };
    return { ok: true, value: { kind: "index", index: parsed.data } };
  }
  if (mediaType !== MEDIA.ociManifest && mediaType !== MEDIA.dockerManifest && mediaType !== "") {
    return { ok: false, error: `unsupported manifest media type "${mediaType}"` };
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) return { ok: false, error: `malformed image manifest: ${describeIssue(parsed.error)}` };
  return { ok: true, value: { kind: "manifest", manifest: parsed.data } };
}

function describeIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  return issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
}

/**
 * The one artifact manifest of an index: the only entry (attestations aside),
 * or the only ModelPack entry. Anything else is ambiguous, and we say so
 * rather than guess a platform.
 */
export function pickFromIndex(index: Index): Checked<Descriptor> {
  const candidates = index.manifests.filter((d) => d.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest");
  if (candidates.length === 1 && candidates[0] !== undefined) return { ok: true, value: candidates[0] };
  const models = candidates.filter((d) => d.artifactType === MEDIA.modelManifest);
  if (models.length === 1 && models[0] !== undefined) return { ok: true, value: models[0] };
  if (candidates.length === 0) return { ok: false, error: "the image index lists no manifests" };
  const names = candidates
    .map((d) => (d.platform ? `${d.platform.os}/${d.platform.architecture}${d.platform.variant ? `/${d.platform.variant}` : ""}` : d.digest))
    .join(", ");
  return {
    ok: false,
    error: `the image index lists ${candidates.length} manifests (${names}); reference the artifact's manifest by digest`,
  };
}

/**
 * A layer's title as a destination path, checked by the hydrator's one path
 * rule (../paths.ts); a trailing slash is how some tools name a directory.
 */
export function titlePath(p: string): Checked<string> {
  return safeRelativePath(p.endsWith("/") ? p.slice(0, -1) : p);
}

const MODEL_LAYER_RE = /^application\/vnd\.cncf\.model\.[a-z]+(?:\.[a-z]+)*\.v1\.(raw|tar|tar\+gzip|tar\+zstd)$/;

function tarCompression(mediaType: string): "none" | "gzip" | "zstd" {
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".gzip")) return "gzip";
  if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) return "zstd";
  return "none";
}

/** How one layer becomes files, or why it cannot. */
export function classifyLayer(layer: Descriptor): Checked<Unpack> {
  const ann = layer.annotations ?? {};
  const named = ann[ANNOTATION.modelFilepath] ?? ann[ANNOTATION.title];
  const model = MODEL_LAYER_RE.exec(layer.mediaType);
  if (model !== null) {
    if (model[1] !== "raw") return { ok: true, value: { kind: "tar", compression: tarCompression(layer.mediaType) } };
    if (named === undefined) {
      return { ok: false, error: `raw ModelPack layer without an ${ANNOTATION.modelFilepath} annotation` };
    }
    const path = titlePath(named);
    return path.ok ? { ok: true, value: { kind: "file", path: path.value } } : path;
  }
  if (ann[ANNOTATION.orasUnpack] === "true") {
    // oras packs a directory as a tarball whose entries sit under the titled directory.
    return { ok: true, value: { kind: "tar", compression: tarCompression(layer.mediaType) } };
  }
  if (named !== undefined) {
    // A file pushed by oras keeps its bytes whatever media type it was given.
    const path = titlePath(named);
    return path.ok ? { ok: true, value: { kind: "file", path: path.value } } : path;
  }
  return {
    ok: false,
    error: `layer of type ${layer.mediaType} names no file (no ${ANNOTATION.title} or ${ANNOTATION.modelFilepath} annotation); container image layers are not a model artifact`,
  };
}

/** Every layer as a RemoteObject; refuses unknown layers, duplicate paths and digests that are not sha256. */
export function layersToObjects(manifest: Manifest, where: string): Checked<RemoteObject[]> {
  const objects: RemoteObject[] = [];
  const paths = new Set<string>();
  const tarDigests = new Set<string>();
  for (const [i, layer] of manifest.layers.entries()) {
    const label = `${where}: layer ${i} (${layer.digest})`;
    if (!DIGEST_RE.test(layer.digest)) {
      return { ok: false, error: `${label}: only sha256 digests are supported` };
    }
    const unpack = classifyLayer(layer);
    if (!unpack.ok) return { ok: false, error: `${label}: ${unpack.error}` };
    const hex = layer.digest.slice("sha256:".length);
    if (unpack.value.kind === "file") {
      if (paths.has(unpack.value.path)) {
        return { ok: false, error: `${label}: the path "${unpack.value.path}" is given by two layers` };
      }
      paths.add(unpack.value.path);
    } else if (tarDigests.has(layer.digest)) {
      continue; // the same archive twice unpacks to the same files
    } else {
      tarDigests.add(layer.digest);
    }
    const name = layer.annotations?.[ANNOTATION.modelFilepath] ?? layer.annotations?.[ANNOTATION.title];
    objects.push({
      // Blob digests are immutable, so the id is stable across runs; the path keeps two files of equal bytes apart.
      id: unpack.value.kind === "file" ? `${layer.digest}:${unpack.value.path}` : layer.digest,
      size: layer.size,
      expected: { algorithm: "sha256", hex },
      unpack: unpack.value,
      // The engine prints "<id> (<description>)": the digest is in the id already.
      description: `layer ${i}${name ? ` "${name}"` : ""} of ${where}`,
    });
  }
  return { ok: true, value: objects };
}
