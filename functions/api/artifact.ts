// What a cache holds and where the bytes come from. Shared by ModelCache
// (intent at the fleet level) and ModelCacheReplica (the same intent, handed
// to one cluster).
import { z } from "zod";
import { LocalObjectReference, ObjectName, SecretKeyReference, exactlyOne } from "./k8s.ts";

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits");
const GLOB = z.string().min(1).max(256);
/** A repo id as the hub spells it: `org/name`, no `..`, no leading/trailing separator. */
const HF_REPO = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/;
/**
 * A relative POSIX path that stays inside the destination, exactly as the
 * hydrator accepts it (functions/hydrator/paths.ts safeRelativePath, plus the
 * names it reserves for SHA256SUMS and its manifest): no '.' or '..' segment,
 * no empty segment, no backslash or control character. A path refused here is
 * a Fatal result naming the field instead of a Job that fails on the cluster.
 */
// eslint-disable-next-line no-control-regex
const SAFE_PATH = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))(?!.*\/\/)(?!.*\/$)(?!SHA256SUMS$)(?!\.model-cache(\/|$))[^\u0000-\u001f\u007f\\]{1,1024}$/;
const SAFE_PATH_MESSAGE = "must be a relative path without '.' or '..' segments, empty segments, backslashes or control characters, and not SHA256SUMS or under .model-cache/";
/**
 * Inline files reach the Job through a ConfigMap volume, whose writer (the
 * kubelet) keeps names starting with '..' for itself: the API server refuses
 * such a first segment and the hydrator skips such names, so one would
 * silently go missing.
 */
const INLINE_PATH = new RegExp(`^(?!(.*/)?\\.\\.)${SAFE_PATH.source.slice(1)}`);
/**
 * registry[:port]/repo[/...](:tag|@sha256:digest), as the OCI distribution spec names them. The registry is a
 * host with a dot, a port, or localhost: `library/ubuntu:22.04` is a repository path with no registry, refused here
 * as the hydrator refuses it (Docker's tools would silently add docker.io).
 */
const OCI_REFERENCE =
  /^([a-z0-9]+([_-][a-z0-9]+)*(\.[a-z0-9]+([_-][a-z0-9]+)*)+(:[0-9]+)?|[a-z0-9]+([_-][a-z0-9]+)*:[0-9]+|localhost)(\/[a-z0-9]+([._-]|__|-+)?[a-z0-9]*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$/;

/**
 * Credentials by reference only. A URL's authority holds '@' only when it
 * carries userinfo (user:password@), which would then sit in the spec, the
 * replica contract and the Job's arguments: refused, by the XRD and by the
 * function, pointing to the Secret reference to use instead. (RE2 syntax, so
 * the XRD's CEL rule runs the same pattern.)
 */
const USERINFO = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@";
/** An endpoint is a base URL: a query or fragment there could only be a credential or a mistake. */
const QUERY_OR_FRAGMENT = "[?#]";
/** Long enough for a presigned URL with an STS session token; bounded so the XRD's CEL cost stays small. */
const URL_MAX = 4096;

/** The same rule as USERINFO, as a pattern the URL must match: no '@' before the path. */
const NO_USERINFO_PATTERN = "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*([/?#].*)?$";

/**
 * `inList`: the URL sits in a list of up to 10,000 items. The API server
 * estimates a CEL rule's cost as if every item were as long as allowed, and
 * refused the XRD on a live control plane (a `matches` on 10,000 URLs of
 * 4,096 characters is 15x the per-rule budget), so there the XRD checks the
 * same rule as an OpenAPI pattern, which costs no CEL budget; the function's
 * Fatal still names the field and the Secret to use.
 */
function credentialFreeUrl(secretField: string, opts: { endpoint?: boolean; inList?: boolean } = {}) {
  const userinfo = `must not carry credentials (user:password@): put them in a Secret and name it in ${secretField}`;
  const query = `must not carry a query or fragment (an endpoint is a base URL; credentials go in a Secret named in ${secretField})`;
  const rules = [{ rule: `!self.matches('${USERINFO}')`, message: userinfo }, ...(opts.endpoint ? [{ rule: `!self.matches('${QUERY_OR_FRAGMENT}')`, message: query }] : [])];
  return z
    .url({ protocol: /^https?$/ })
    .max(URL_MAX)
    .refine((u) => !new RegExp(USERINFO).test(u), userinfo)
    .refine((u) => !opts.endpoint || !new RegExp(QUERY_OR_FRAGMENT).test(u), query)
    .meta(opts.inList ? { pattern: NO_USERINFO_PATTERN } : { "x-kubernetes-validations": rules });
}

export const HuggingFaceSource = z
  .object({
    repo: z.string().regex(HF_REPO, "must be a Hugging Face repo id such as Qwen/Qwen3-8B"),
    // No whitespace, control characters or '..' (git refuses those in ref names; the hydrator refuses them too). RE2-compatible, so the XRD enforces it as well.
    // eslint-disable-next-line no-control-regex
    revision: z.string().min(1).max(255).regex(/^([^.\s\x00-\x1f\x7f]|\.[^.\s\x00-\x1f\x7f])+\.?$/, "must not contain whitespace, control characters or '..'").default("main")
      .describe("Branch, tag or commit. A branch or tag is resolved to a commit once and pinned."),
    include: z.array(GLOB).max(64).optional().describe("Only files matching one of these globs."),
    exclude: z.array(GLOB).max(64).optional().describe("Skip files matching any of these globs."),
    tokenSecretRef: SecretKeyReference.optional().describe("Secret holding the hub token; key defaults to `token`."),
    endpoint: credentialFreeUrl("spec.artifact.source.huggingFace.tokenSecretRef", { endpoint: true }).optional().describe("Hub endpoint, for a mirror; defaults to the public hub."),
  })
  .strict();

export const S3Source = z
  .object({
    uri: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, "must be s3://<bucket>/<prefix>"),
    region: z.string().min(1).max(64).optional(),
    endpoint: credentialFreeUrl("spec.artifact.source.s3.credentialsSecretRef", { endpoint: true }).optional().describe("Any S3-compatible endpoint."),
    pathStyle: z.boolean().optional().describe("Address the bucket in the path, as most S3-compatible servers want."),
    credentialsSecretRef: LocalObjectReference.optional()
      .describe("Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and optionally AWS_SESSION_TOKEN)."),
  })
  .strict();

/**
 * The Secret an HTTP source's credentials come from, never the URL. Sent to
 * the listed URLs' hosts only (a redirect elsewhere drops it), and only to
 * hosts the platform allows (the Input's tenancy.credentialDestinations.http).
 */
export const HttpAuthSecretRef = z
  .object({
    name: ObjectName,
    scheme: z.enum(["Bearer", "Basic"]).default("Bearer")
      .describe("Bearer: the Secret's `token` key is sent as a bearer token. Basic: its `username` and `password` keys (a kubernetes.io/basic-auth Secret)."),
  })
  .strict();

export type HttpAuthSecretRef = z.infer<typeof HttpAuthSecretRef>;

const HTTP_URL_SECRET = "spec.artifact.source.http.authSecretRef";

export const HttpFile = z
  .object({
    url: credentialFreeUrl(HTTP_URL_SECRET, { inList: true }).describe("A presigned URL (a signature in the query) is accepted: it is never shown in status, events or the Job's arguments."),
    path: z.string().regex(SAFE_PATH, SAFE_PATH_MESSAGE),
    sha256: SHA256,
  })
  .strict();

const httpOne = exactlyOne(["url", "files"]);
export const HttpSource = z
  .object({
    url: credentialFreeUrl(HTTP_URL_SECRET).optional()
      .describe("One file; pin it with sha256. A presigned URL (a signature in the query) is accepted: it is never shown in status, events or the Job's arguments."),
    sha256: SHA256.optional(),
    files: z.array(HttpFile).min(1).max(10000).optional().describe("Several files, each pinned by its sha256."),
    authSecretRef: HttpAuthSecretRef.optional().describe("Credentials for these URLs, from a Secret in the cache's namespace on each cluster."),
  })
  .strict()
  .superRefine(httpOne.refine)
  .superRefine((s, ctx) => {
    if (s.url !== undefined && s.sha256 === undefined)
      ctx.addIssue({ code: "custom", path: ["sha256"], message: "is required with url: an HTTP file is pinned by its digest" });
  })
  .meta({
    "x-kubernetes-validations": [
      ...httpOne.meta["x-kubernetes-validations"],
      { rule: "!has(self.url) || has(self.sha256)", message: "sha256 is required with url" },
    ],
  });

export const OciSource = z
  .object({
    reference: z.string().max(1024).regex(OCI_REFERENCE, "must be registry/repository:tag or registry/repository@sha256:<digest>"),
    pullSecretRef: LocalObjectReference.optional().describe("A kubernetes.io/dockerconfigjson Secret."),
    insecure: z.boolean().optional().describe("Plain HTTP, for a registry on a private network."),
  })
  .strict();

export const InlineFile = z
  .object({
    path: z.string().regex(INLINE_PATH, `${SAFE_PATH_MESSAGE}; no name in it may start with '..' (a ConfigMap volume reserves those)`),
    content: z.string().max(262144).describe("UTF-8 text; inline sources are for small files such as chat templates."),
  })
  .strict();

export const InlineSource = z.object({ files: z.array(InlineFile).min(1).max(64) }).strict();

export const ConfigMapSource = z.object({ name: ObjectName }).strict();

export const SOURCE_KINDS = ["huggingFace", "s3", "http", "oci", "inline", "configMap"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
const sourceOne = exactlyOne(SOURCE_KINDS);

export const Source = z
  .object({
    huggingFace: HuggingFaceSource.optional(),
    s3: S3Source.optional(),
    http: HttpSource.optional(),
    oci: OciSource.optional(),
    inline: InlineSource.optional(),
    configMap: ConfigMapSource.optional(),
  })
  .strict()
  .superRefine(sourceOne.refine)
  .meta(sourceOne.meta);
export type Source = z.infer<typeof Source>;

export const ARTIFACT_KINDS = ["Weights", "Tokenizer", "Bytes", "Adapter", "Engine"] as const;

export const Adapter = z
  .object({
    type: z.enum(["lora", "qlora", "controlnet", "ipadapter", "textualInversion", "t2iAdapter"]),
    baseRef: LocalObjectReference.describe("The ModelCache holding the base weights, in the same namespace."),
  })
  .strict();

export const Engine = z
  .object({
    runtime: z.enum(["TensorRT-LLM", "NIM", "vLLM", "SGLang", "Other"]),
    profile: z.string().min(1).max(253).describe("Engine profile, e.g. a NIM profile id or a TensorRT-LLM build profile."),
    gpuProductName: z.string().max(64).optional().describe("The GPU the engine was built for; clusters without it are not eligible."),
  })
  .strict();

export const Artifact = z
  .object({
    kind: z.enum(ARTIFACT_KINDS).default("Weights"),
    adapter: Adapter.optional().describe("Required when kind is Adapter."),
    engine: Engine.optional().describe("Required when kind is Engine."),
    layout: z.enum(["Flat", "HuggingFaceCache"]).default("Flat")
      .describe("Flat: a materialized directory with SHA256SUMS. HuggingFaceCache: hub/models--org--name/{refs,snapshots} for HF_HUB_CACHE."),
    source: Source,
  })
  .strict()
  .superRefine((a, ctx) => {
    if ((a.kind === "Adapter") !== (a.adapter !== undefined))
      ctx.addIssue({ code: "custom", path: ["adapter"], message: a.kind === "Adapter" ? "is required when kind is Adapter" : "is only allowed when kind is Adapter" });
    if ((a.kind === "Engine") !== (a.engine !== undefined))
      ctx.addIssue({ code: "custom", path: ["engine"], message: a.kind === "Engine" ? "is required when kind is Engine" : "is only allowed when kind is Engine" });
    if (a.layout === "HuggingFaceCache" && a.source.huggingFace === undefined)
      ctx.addIssue({ code: "custom", path: ["layout"], message: "HuggingFaceCache needs a huggingFace source (the layout is keyed by repo and commit)" });
  })
  .meta({
    "x-kubernetes-validations": [
      { rule: "(self.kind == 'Adapter') == has(self.adapter)", message: "adapter is required when kind is Adapter, and only allowed then" },
      { rule: "(self.kind == 'Engine') == has(self.engine)", message: "engine is required when kind is Engine, and only allowed then" },
      { rule: "self.layout != 'HuggingFaceCache' || has(self.source.huggingFace)", message: "layout HuggingFaceCache needs a huggingFace source" },
    ],
  });
export type Artifact = z.infer<typeof Artifact>;
