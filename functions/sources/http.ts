// http: one URL pinned by its sha256, or a list of files each pinned by its
// own. Pinned by the spec itself: the digest of the list is the revision.
import { z } from "zod";
import { exactlyOne, ObjectName } from "../api/k8s.ts";
import { redactUri } from "../api/redact.ts";
import { credentialFreeUrl, SAFE_PATH, SAFE_PATH_MESSAGE, SHA256 } from "../api/source-fields.ts";
import { sha256Hex } from "../common/canonical-json.ts";
import { argsOnly, secretEnv, sourceMount, SOURCE_MOUNT, type NoFlags, type SourceKind, type SourcePlan } from "./kind.ts";

/** The file list's key in the source ConfigMap, and its name under SOURCE_MOUNT. */
export const HTTP_FILES_KEY = "files.json";

/**
 * The Secret an HTTP source's credentials come from, never the URL. Sent to
 * the listed URLs' hosts only (a redirect elsewhere drops it), and only to
 * hosts the platform allows (the Input's tenancy.credentialDestinations.http).
 */
export const HttpAuthSecretRef = z
  .object({
    name: ObjectName,
    scheme: z
      .enum(["Bearer", "Basic"])
      .default("Bearer")
      .describe("Bearer: the Secret's `token` key is sent as a bearer token. Basic: its `username` and `password` keys (a kubernetes.io/basic-auth Secret)."),
  })
  .strict();

export type HttpAuthSecretRef = z.infer<typeof HttpAuthSecretRef>;

const HTTP_URL_SECRET = "spec.artifact.source.http.authSecretRef";

export const HttpFile = z
  .object({
    url: credentialFreeUrl(HTTP_URL_SECRET, { inList: true }).describe(
      "A presigned URL (a signature in the query) is accepted: it is never shown in status, events or the Job's arguments.",
    ),
    path: z.string().regex(SAFE_PATH, SAFE_PATH_MESSAGE),
    sha256: SHA256,
  })
  .strict();

const httpOne = exactlyOne(["url", "files"]);
export const HttpSource = z
  .object({
    url: credentialFreeUrl(HTTP_URL_SECRET)
      .optional()
      .describe(
        "One file; pin it with sha256. A presigned URL (a signature in the query) is accepted: it is never shown in status, events or the Job's arguments.",
      ),
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
type HttpSource = z.infer<typeof HttpSource>;

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

/** Every URL with the field that names it. */
function urls(h: HttpSource, at: string): { field: string; url: string }[] {
  return h.url !== undefined ? [{ field: `${at}.http.url`, url: h.url }] : (h.files ?? []).map((f, i) => ({ field: `${at}.http.files[${i}].url`, url: f.url }));
}

export const http: SourceKind<typeof HttpSource, NoFlags, true> = {
  key: "http",
  schema: HttpSource,
  identity: (h) => ({ http: { url: h.url ?? null, sha256: h.sha256 ?? null, files: h.files ?? null } }),
  line: (h) => (h.url !== undefined ? redactUri(h.url) : `${h.files?.length ?? 0} HTTP files`),
  immutableRevision(h) {
    const files = h.files ?? (h.url !== undefined && h.sha256 !== undefined ? [{ path: h.url, sha256: h.sha256 }] : []);
    if (files.length === 0) return undefined;
    const list = files
      .map((f) => `${f.sha256}  ${f.path}\n`)
      .sort()
      .join("");
    return `sha256:${sha256Hex(list)}`;
  },
  revisionComparable: false,
  fetches: (h, at) => urls(h, at).map((u) => ({ ...u, defaulted: false })),
  credential: {
    destinations: {
      default: [],
      description: "Hosts an http authSecretRef may be sent to: the origin of http.url and of every http.files[].url.",
    },
    sent: (h, at) => (h.authSecretRef !== undefined ? { secretField: `${at}.http.authSecretRef`, everyUrl: true } : undefined),
  },
  plan(h, { sourceConfigMap }) {
    const auth = httpAuth(h.authSecretRef);
    // A URL with a query (a presigned URL: its signature is a credential) never becomes an argument, which the
    // pod spec, `ps` and every log of the Job's creation would show: it travels in the files ConfigMap like a list.
    if (h.url !== undefined && redactUri(h.url) === h.url) return { ok: true, value: { ...argsOnly({ source: h.url, sha256: h.sha256 ?? "" }), ...auth } };
    // A list of files travels as JSON in a ConfigMap, so no URL is ever an argument of a shell.
    const files =
      h.url !== undefined
        ? [{ url: h.url, ...(h.sha256 !== undefined ? { sha256: h.sha256 } : {}) }]
        : (h.files ?? []).map((f) => ({ url: f.url, path: f.path, sha256: f.sha256 }));
    return {
      ok: true,
      value: {
        ...argsOnly({ files: `${SOURCE_MOUNT}/${HTTP_FILES_KEY}` }),
        ...auth,
        ...sourceMount({ configMap: { name: sourceConfigMap } }),
        configMap: { data: { [HTTP_FILES_KEY]: JSON.stringify(files) }, items: [{ key: HTTP_FILES_KEY, path: HTTP_FILES_KEY }] },
      },
    };
  },
  fetcher: {
    schemes: ["http", "https"],
    usage: ["--source http(s)://host/path [--sha256 <hex>]"],
    async create(uri, req) {
      const { createHttpSource, directoryUrl } = await import("../hydrator/sources/http.ts");
      // A directory URL would publish its HTML listing as a file: refused with the fix (--files).
      const dir = directoryUrl(uri);
      if (dir !== undefined) return { ok: false, error: `--source ${dir}` };
      const s = createHttpSource([{ url: uri, ...(req.sha256 ? { sha256: req.sha256 } : {}) }], req.env, "--sha256");
      return s.ok ? { ok: true, value: { source: s.value, reference: s.value.reference() } } : s;
    },
  },
};
