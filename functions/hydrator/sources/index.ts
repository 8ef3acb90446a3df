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
import { kindFlag, kindOfFlag, SOURCE_KEYS, SOURCE_KINDS, type KindArgs } from "../../sources/registry.ts";

/** What the CLI asks for: the source, and each kind's own flags as given (KindArgs, declared in the kind's module). */
export type SourceRequest = KindArgs & {
  /** A URI of a scheme some source kind reads (hf://, http(s)://, s3://, oci://, ...), or file://. */
  uri?: string;
  /** http(s) only: the sha256 pinning a single URL. */
  sha256?: string;
  /** A list of http(s) files (--files), instead of `uri`. */
  httpFiles?: readonly HttpFileSpec[];
  /** Inline files (--inline), instead of `uri`. */
  inline?: readonly InlineFile[];
  /** The kind's own endpoint (hf: the hub; s3: an S3-compatible server); a kind without one ignores it. */
  endpoint?: string;
  /** The environment credentials come from (HF_TOKEN, AWS_*, REGISTRY_AUTH_FILE, DOCKER_CONFIG). */
  env: Record<string, string | undefined>;
  /**
   * Address classes no connection may reach: fetch is guarded process-wide (../address-guard.ts); a kind whose
   * client opens its own connections (s3's SDK) applies it to them.
   */
  refusedAddresses?: readonly AddressClass[];
};

export interface CreatedSource {
  source: Source;
  /** The reference for logs, the report and the manifest: credentials removed. */
  reference: string;
}

/** A mounted directory (a ConfigMap or Secret volume included): how inline and configMap sources reach a Job. */
const FILE_FETCHER: Fetcher = {
  schemes: ["file"],
  usage: ["--source file:///dir                    a mounted directory (ConfigMap/Secret volumes included)"],
  create: async (uri) => {
    const s = createFileSource(uri);
    return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
  },
};

/** Every fetcher: each source kind's (functions/sources/), in the registry's order, and file://. */
export function allFetchers(): Fetcher[] {
  return [...SOURCE_KEYS.flatMap((k) => SOURCE_KINDS[k].fetcher ?? []), FILE_FETCHER];
}

/** Every scheme the hydrator reads, with its fetcher. */
function fetchers(): Map<string, Fetcher> {
  const out = new Map<string, Fetcher>();
  for (const f of allFetchers()) for (const scheme of f.schemes) out.set(scheme, f);
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
  const scheme = req.uri === undefined ? undefined : /^([a-z0-9+.-]+):\/\//i.exec(req.uri)?.[1]?.toLowerCase();
  const misplaced = misplacedFlag(req, scheme);
  if (misplaced !== undefined) return { ok: false, error: misplaced };
  if (req.httpFiles !== undefined) {
    const s = createHttpSource(req.httpFiles, req.env);
    return s.ok ? { ok: true, value: { source: s.value, reference: s.value.reference() } } : s;
  }
  if (req.inline !== undefined) {
    const s = createInlineSource(req.inline);
    return s.ok ? { ok: true, value: { source: s.value, reference: `inline (${req.inline.length} files)` } } : s;
  }
  const uri = req.uri as string;
  if (req.sha256 !== undefined && scheme !== "http" && scheme !== "https") {
    return { ok: false, error: "--sha256 applies to a single http(s):// URL only" };
  }
  const all = fetchers();
  const fetcher = scheme === undefined ? undefined : all.get(scheme);
  if (fetcher === undefined)
    return { ok: false, error: `unsupported source "${redactUri(uri)}": expected ${[...all.keys()].map((k) => `${k}://`).join(", ")}` };
  return fetcher.create(uri, req);
}

/** A kind's own flag given for a source of another kind (or a file list): the message naming it, or undefined. */
function misplacedFlag(req: SourceRequest, scheme: string | undefined): string | undefined {
  for (const [field, value] of Object.entries(req)) {
    const key = kindOfFlag(field);
    if (key === undefined || value === undefined || value === false) continue;
    const schemes = SOURCE_KINDS[key].fetcher?.schemes ?? [];
    if (scheme !== undefined && schemes.includes(scheme)) continue;
    return `--${kindFlag(key, field)?.name ?? field} applies to ${schemes.map((s) => `${s}://`).join(" or ")} sources only`;
  }
  return undefined;
}
