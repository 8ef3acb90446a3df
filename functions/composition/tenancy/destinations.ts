// Where a cache's credentials would be sent, and whether the platform allows
// it. A Secret in the tenant's namespace may be one the platform put there
// (a shared hub token, registry credentials): a tenant must not be able to
// point it at a host of their own.
import type { Tenancy } from "../../api/input.ts";
import type { Source } from "../../api/artifact.ts";
import { DNS_LABEL } from "../../api/k8s.ts";
import type { Issue } from "./issues.ts";

export const HF_DEFAULT_ENDPOINT = "https://huggingface.co";
const DEFAULT_PORT: Record<string, string> = { "http:": "80", "https:": "443" };

export interface CredentialUse {
  /** Which allow-list applies: input.tenancy.credentialDestinations.<list>. */
  list: keyof Tenancy["credentialDestinations"];
  /** The field that decides the destination (the endpoint, or the secret reference when the default host is used). */
  field: string;
  /** Where the credential goes; undefined when it cannot be known (and so cannot be allowed). */
  url: string | undefined;
}

/** One URL a source fetches, and the spec field that decides it. */
export interface Fetch {
  field: string;
  url: string | undefined;
  /** The URL is the source kind's default (no endpoint or region set): the field names the source. */
  defaulted: boolean;
}

/** Every origin the hydrator connects to for `source` (redirects aside), each with its field. */
export function sourceFetches(source: Source, at: string): Fetch[] {
  if (source.http !== undefined) {
    const h = source.http;
    return h.url !== undefined
      ? [{ field: `${at}.http.url`, url: h.url, defaulted: false }]
      : (h.files ?? []).map((f, i) => ({ field: `${at}.http.files[${i}].url`, url: f.url, defaulted: false }));
  }
  if (source.huggingFace !== undefined) {
    const hf = source.huggingFace;
    return [hf.endpoint !== undefined ? { field: `${at}.huggingFace.endpoint`, url: hf.endpoint, defaulted: false } : { field: `${at}.huggingFace`, url: HF_DEFAULT_ENDPOINT, defaulted: true }];
  }
  if (source.s3 !== undefined) {
    const s3 = source.s3;
    if (s3.endpoint !== undefined) return [{ field: `${at}.s3.endpoint`, url: s3.endpoint, defaulted: false }];
    const region = s3.region ?? "us-east-1";
    const url = DNS_LABEL.test(region) ? `https://s3.${region}.amazonaws.com` : undefined;
    return [s3.region !== undefined ? { field: `${at}.s3.region`, url, defaulted: false } : { field: `${at}.s3`, url, defaulted: true }];
  }
  if (source.oci !== undefined) {
    const registry = source.oci.reference.split("/")[0] ?? "";
    return [{ field: `${at}.oci.reference`, url: `${source.oci.insecure === true ? "http" : "https"}://${registry}`, defaulted: false }];
  }
  // inline and configMap: nothing is fetched over the network.
  return [];
}

/** The credential a source sends, if any, and where to (the one URL its source kind connects to). `at` is the path of the source. */
export function credentialUse(source: Source, at: string): CredentialUse | undefined {
  const use = source.huggingFace?.tokenSecretRef !== undefined
    ? { list: "huggingFace" as const, secretField: `${at}.huggingFace.tokenSecretRef` }
    : source.s3?.credentialsSecretRef !== undefined
      ? { list: "s3" as const, secretField: `${at}.s3.credentialsSecretRef` }
      : source.oci?.pullSecretRef !== undefined
        ? { list: "oci" as const, secretField: `${at}.oci.pullSecretRef` }
        : undefined;
  const [fetch] = use === undefined ? [] : sourceFetches(source, at);
  if (use === undefined || fetch === undefined) return undefined;
  // When the URL is the kind's default, the Secret reference is what makes it a credential's destination.
  return { list: use.list, field: fetch.defaulted ? use.secretField : fetch.field, url: fetch.url };
}

interface Origin {
  scheme: string;
  labels: string[];
  port: string;
}

function origin(url: string): Origin | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const port = u.port === "" ? DEFAULT_PORT[u.protocol] : u.port;
  if (port === undefined) return undefined;
  return { scheme: u.protocol, labels: u.hostname.toLowerCase().split("."), port };
}

/** A pattern `scheme://host[:port]` (the Input's schema checked its shape); `*` is exactly one label. */
function pattern(p: string): Origin | undefined {
  const m = /^(https?):\/\/([^:/]+)(?::([0-9]+))?$/.exec(p);
  if (m === null) return undefined;
  const scheme = `${m[1]}:`;
  const port = m[3] ?? DEFAULT_PORT[scheme];
  return port === undefined ? undefined : { scheme, labels: (m[2] ?? "").split("."), port };
}

export function destinationAllowed(url: string, allowed: readonly string[]): boolean {
  const o = origin(url);
  if (o === undefined) return false;
  return allowed.some((p) => {
    const want = pattern(p);
    if (want === undefined || want.scheme !== o.scheme || want.port !== o.port || want.labels.length !== o.labels.length) return false;
    return want.labels.every((l, i) => l === "*" || l === o.labels[i]);
  });
}

/** An http authSecretRef goes to every URL of the source: each must be allowed, named by its own field. */
function checkHttpDestinations(source: Source, at: string, policy: Tenancy): Issue[] {
  const http = source.http;
  if (http?.authSecretRef === undefined) return [];
  const allowed = policy.credentialDestinations.http;
  const urls = http.url !== undefined ? [{ field: `${at}.http.url`, url: http.url }] : (http.files ?? []).map((f, i) => ({ field: `${at}.http.files[${i}].url`, url: f.url }));
  const list = allowed.length === 0 ? "none is allowed" : `allowed: ${allowed.join(", ")}`;
  const refused = urls.filter((u) => !destinationAllowed(u.url, allowed));
  // One issue is enough to say what is wrong; a list of 10,000 files must not become 10,000 messages.
  return refused.slice(0, 1).map((u) => ({
    field: u.field,
    rule: "tenancy.credentialDestinations.http",
    message: `would send the credentials of ${at}.http.authSecretRef to ${new URL(u.url).origin}, which the platform does not allow (${list})${refused.length > 1 ? ` (and ${refused.length - 1} more URLs)` : ""}`,
  }));
}

export function checkCredentialDestination(source: Source, at: string, policy: Tenancy): Issue[] {
  if (source.http !== undefined) return checkHttpDestinations(source, at, policy);
  const use = credentialUse(source, at);
  if (use === undefined) return [];
  const allowed = policy.credentialDestinations[use.list];
  if (use.url !== undefined && destinationAllowed(use.url, allowed)) return [];
  const where = use.url === undefined ? "an endpoint that cannot be determined" : new URL(use.url).origin;
  const list = allowed.length === 0 ? "none is allowed" : `allowed: ${allowed.join(", ")}`;
  return [{ field: use.field, rule: `tenancy.credentialDestinations.${use.list}`, message: `would send the source's credentials to ${where}, which the platform does not allow (${list})` }];
}
