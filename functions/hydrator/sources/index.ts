// From what the user asked for (a URI, a file list, inline files) to a
// Source. One factory, so the CLI and tests share the mapping; each scheme's
// options arrive here and nowhere else. Credentials come only from `env`.
import { redactUri } from "../paths.ts";
import type { Checked } from "../../shared/checked.ts";
import { rememberEnvironment, rememberUrl } from "../scrub.ts";
import { createFileSource } from "./file.ts";
import { createHfSource } from "./hf.ts";
import { createHttpSource, type HttpFileSpec } from "./http.ts";
import { createInlineSource, type InlineFile } from "./inline.ts";
import { createOciSource } from "./oci.ts";
import type { Source } from "./types.ts";
import type { AddressClass } from "../../api/address-classes.ts";

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

/**
 * Async only because the s3:// source loads the AWS SDK on demand: it is the
 * largest module the hydrator has (tens of MiB of RSS), and an hf://, http://
 * or oci:// Job should not carry it.
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
  switch (scheme) {
    case "http":
    case "https": {
      const s = createHttpSource([{ url: uri, ...(req.sha256 ? { sha256: req.sha256 } : {}) }], req.env);
      return s.ok ? { ok: true, value: { source: s.value, reference: s.value.reference() } } : s;
    }
    case "hf": {
      const s = createHfSource({ uri, env: req.env, ...(req.endpoint ? { endpoint: req.endpoint } : {}) });
      return s.ok ? { ok: true, value: { source: s.value, reference: s.value.reference() } } : s;
    }
    case "file": {
      const s = createFileSource(uri);
      return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
    }
    // ---- s3:// (owned by the S3 source's author) ----------------------------
    case "s3": {
      const { createS3Source } = await import("./s3.ts");
      const s = createS3Source({
        uri,
        env: req.env,
        ...(req.endpoint ? { endpoint: req.endpoint } : {}),
        ...(req.region ? { region: req.region } : {}),
        ...(req.pathStyle ? { forcePathStyle: true } : {}),
        ...(req.refusedAddresses ? { refusedAddresses: req.refusedAddresses } : {}),
      });
      return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
    }
    // ---- oci:// (owned by the OCI source's author) ---------------------------
    // Credentials from REGISTRY_AUTH_FILE / DOCKER_CONFIG (./oci-auth.ts); plain
    // HTTP for loopback registries only. Tar layers come back with unpack.kind
    // "tar", which the engine extracts safely with ../unpack.ts.
    case "oci": {
      const s = createOciSource({ uri, env: req.env, ...(req.plainHttp ? { plainHttp: true } : {}) });
      return s.ok ? { ok: true, value: { source: s.value, reference: redactUri(uri) } } : s;
    }
    // ---------------------------------------------------------------------------
    default:
      return { ok: false, error: `unsupported source "${redactUri(uri)}": expected hf://, http(s)://, file://, s3:// or oci://` };
  }
}
