// Where a cache's credentials would be sent, and whether the platform allows
// it. A Secret in the tenant's namespace may be one the platform put there
// (a shared hub token, registry credentials): a tenant must not be able to
// point it at a host of their own.
import type { Tenancy } from "../../api/input.ts";
import type { Source } from "../../api/artifact.ts";
import type { Credential, Fetch } from "../../sources/kind.ts";
import { sourceKindOf, type CredentialKey } from "../../sources/registry.ts";
import type { Issue } from "./issues.ts";

const DEFAULT_PORT: Record<string, string> = { "http:": "80", "https:": "443" };

export interface CredentialUse {
  /** Which allow-list applies: input.tenancy.credentialDestinations.<list>. */
  list: CredentialKey;
  /** The field that decides the destination (the endpoint, or the secret reference when the default host is used). */
  field: string;
  /** Where the credential goes; undefined when it cannot be known (and so cannot be allowed). */
  url: string | undefined;
}

/** Every origin the hydrator connects to for `source` (redirects aside), each with its field. */
export function sourceFetches(source: Source, at: string): Fetch[] {
  return sourceKindOf(source)?.fetches(at) ?? [];
}

/**
 * Where the source's credential goes, if it sends one: its one origin, or every URL it fetches (a credential sent
 * with each of a list of files). `at` is the path of the source.
 */
export function credentialUses(source: Source, at: string): { credential: Credential & { list: CredentialKey }; uses: CredentialUse[] } | undefined {
  const kind = sourceKindOf(source);
  const credential = kind?.credential(at);
  if (kind === undefined || credential === undefined) return undefined;
  const fetches = kind.fetches(at);
  // When the URL is the kind's default, the Secret reference is what makes it a credential's destination.
  const use = (f: Fetch): CredentialUse => ({ list: credential.list, field: f.defaulted ? credential.secretField : f.field, url: f.url });
  return { credential, uses: credential.everyUrl === true ? fetches.map(use) : fetches.slice(0, 1).map(use) };
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

export function checkCredentialDestination(source: Source, at: string, policy: Tenancy): Issue[] {
  const sent = credentialUses(source, at);
  if (sent === undefined) return [];
  const { credential, uses } = sent;
  const allowed = policy.credentialDestinations[credential.list];
  const list = allowed.length === 0 ? "none is allowed" : `allowed: ${allowed.join(", ")}`;
  const refused = uses.filter((u) => u.url === undefined || !destinationAllowed(u.url, allowed));
  const r = refused[0];
  if (r === undefined) return [];
  const where = r.url === undefined ? "an endpoint that cannot be determined" : new URL(r.url).origin;
  const whose = credential.everyUrl === true ? `the credentials of ${credential.secretField}` : "the source's credentials";
  // One issue is enough to say what is wrong; a list of 10,000 files must not become 10,000 messages.
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more URLs)` : "";
  return [
    {
      field: r.field,
      rule: `tenancy.credentialDestinations.${credential.list}`,
      message: `would send ${whose} to ${where}, which the platform does not allow (${list})${more}`,
    },
  ];
}
