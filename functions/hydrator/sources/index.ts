// From what the user asked for (a URI, a file list, inline files) to a
// Source. One factory, so the CLI and tests share the mapping: a URI goes to
// the fetcher its scheme's source kind declares (functions/sources/), a file
// list or inline files to theirs. Credentials come only from `env`.
import { redactUri } from "../paths.ts";
import type { Checked } from "../../common/checked.ts";
import { rememberEnvironment, rememberUrl } from "../scrub.ts";
import { createFileSource } from "./file.ts";
import { createHttpSource, type HttpFileSpec } from "./http.ts";
import { createInlineSource, type InlineFile } from "./inline.ts";
import type { Source } from "./types.ts";
import type { AddressClass } from "../../api/address-classes.ts";
import type { Fetcher } from "../../sources/kind.ts";
import { SOURCE_KEYS, SOURCE_KINDS } from "../../sources/registry.ts";

export interface SourceRequest {
  /** hf://, http(s)://, file://, s3://, oci:// */
  uri?: string;
  /** http(s) only: the sha256 pinning a single URL. */
  sha256?: string;
  /** A list of http(s) files (--files), instead of `uri`. */
  httpFiles?: readonly HttpFileSpec[];
  /** Inline files (--inline), instead of `uri`. */
  inline?: readonly InlineFile[];
  /** hf: the hub endpoint; s3: the S3-compatible endpoint; oci: unused. */
  endpoint?: string;
  /** s3 only. */
  region?: string;
  /** s3 only: path-style addressing. */
  pathStyle?: boolean;
  /** oci only: plain HTTP (a registry on a private network; loopback registries use it anyway). */
  plainHttp?: boolean;
  /** The environment credentials come from (HF_TOKEN, AWS_*, REGISTRY_AUTH_FILE, DOCKER_CONFIG). */
  env: Record<string, string | undefined>;
  /** s3 only (fetch is guarded process-wide, ../address-guard.ts): address classes its connections may not reach. */
  refusedAddresses?: readonly AddressClass[];
}

export interface CreatedSource {
  source: Source;
  /** The reference for logs, the report and the manifest: credentials removed. */
  reference: string;
}

/** A mounted directory (a ConfigMap or Secret volume included): how inline and configMap sources reach a Job. */
const FILE_FETCHER: Fetcher = {
  schemes: ["file"],
  create: async (uri) => {
    const s = createFileSource(uri);
    return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
  },
};

/** Every scheme the hydrator reads: each source kind's fetcher (functions/sources/), and file://. */
function fetchers(): Map<string, Fetcher> {
  const out = new Map<string, Fetcher>();
  for (const f of [...SOURCE_KEYS.map((k) => SOURCE_KINDS[k].fetcher), FILE_FETCHER]) for (const scheme of f?.schemes ?? []) if (f) out.set(scheme, f);
  return out;
}

/**
 * Async because each kind's fetcher is loaded on demand: the s3:// one carries the AWS SDK, the largest module the
 * hydrator has (tens of MiB of RSS), which an hf://, http:// or oci:// Job should not.
 */
export async function createSource(req: SourceRequest): Promise<Checked<CreatedSource>> {
  // Remembered before anything can fail, so no message can carry them (../scrub.ts).
  rememberEnvironment(req.env);
  for (const u of [req.uri, req.endpoint, ...(req.httpFiles ?? []).map((f) => f.url)]) if (u !== undefined) rememberUrl(u);
  const given = [req.uri !== undefined, req.httpFiles !== undefined, req.inline !== undefined].filter(Boolean).length;
  if (given !== 1) return { ok: false, error: "give exactly one of --source, --files, --inline" };
  if (req.plainHttp && !/^oci:\/\//i.test(req.uri ?? "")) return { ok: false, error: "--plain-http applies to an oci:// source only" };
  if (req.httpFiles !== undefined) {
    const s = createHttpSource(req.httpFiles, req.env);
    return s.ok ? { ok: true, value: { source: s.value, reference: s.value.reference() } } : s;
  }
  if (req.inline !== undefined) {
    const s = createInlineSource(req.inline);
    return s.ok ? { ok: true, value: { source: s.value, reference: `inline (${req.inline.length} files)` } } : s;
  }
  const uri = req.uri as string;
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (req.sha256 !== undefined && scheme !== "http" && scheme !== "https") {
    return { ok: false, error: "--sha256 applies to a single http(s):// URL only" };
  }
  const all = fetchers();
  const fetcher = scheme === undefined ? undefined : all.get(scheme);
  if (fetcher === undefined)
    return { ok: false, error: `unsupported source "${redactUri(uri)}": expected ${[...all.keys()].map((k) => `${k}://`).join(", ")}` };
  return fetcher.create(uri, req);
}
