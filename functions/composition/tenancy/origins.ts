// Where a cache's hydrator would connect, credentials or not, and whether the
// platform allows it. A hydration pod runs on the cluster's network: a tenant
// who could point it at the cloud's metadata service (169.254.169.254) would
// have it fetch the node's credentials into a volume the tenant then reads.
// The function sees only the names in the spec (it never resolves them: the
// cluster's DNS is not the control plane's), so it refuses addresses written
// as IP literals and the well-known metadata names; a name the tenant points at
// such an address is the cluster's to stop (docs/security.md, "Source hosts").
import { classOfHost, describeClass, type AddressClass } from "../../api/address-classes.ts";
import type { Tenancy } from "../../api/input.ts";
import type { Source } from "../../api/artifact.ts";
import type { Fetch } from "../../sources/kind.ts";
import { destinationAllowed, sourceFetches } from "./destinations.ts";
import type { Issue } from "./issues.ts";

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** Each URL the source fetches must be in the allowed origins (when the platform lists them) and outside the refused addresses. */
export function checkSourceOrigins(source: Source, at: string, policy: Tenancy): Issue[] {
  const { allowedOrigins, refusedAddresses } = policy.sources;
  const issues: Issue[] = [];
  let more = 0;
  for (const f of sourceFetches(source, at)) {
    const issue = originIssue(f, allowedOrigins, refusedAddresses);
    if (issue === undefined) continue;
    // One issue is enough to say what is wrong; a list of 10,000 files must not become 10,000 messages.
    if (issues.length === 0) issues.push(issue);
    else more++;
  }
  const first = issues[0];
  if (first !== undefined && more > 0) first.message += ` (and ${more} more URLs)`;
  return issues;
}

function originIssue(f: Fetch, allowedOrigins: readonly string[] | undefined, refusedAddresses: readonly AddressClass[]): Issue | undefined {
  const host = f.url === undefined ? undefined : hostOf(f.url);
  if (f.url === undefined || host === undefined) {
    return allowedOrigins === undefined
      ? undefined
      : {
          field: f.field,
          rule: "tenancy.sources.allowedOrigins",
          message: "fetches from an origin that cannot be determined, which the platform's list cannot allow",
        };
  }
  const origin = new URL(f.url).origin;
  const cls = classOfHost(host, refusedAddresses);
  if (cls !== undefined) {
    return {
      field: f.field,
      rule: "tenancy.sources.refusedAddresses",
      message: `would have the hydrator connect to ${origin}, ${describeClass(cls)} (${cls}), which the platform refuses`,
    };
  }
  if (allowedOrigins !== undefined && !destinationAllowed(f.url, allowedOrigins)) {
    const list = allowedOrigins.length === 0 ? "none is allowed" : `allowed: ${allowedOrigins.join(", ")}`;
    return {
      field: f.field,
      rule: "tenancy.sources.allowedOrigins",
      message: `would have the hydrator fetch from ${origin}, which the platform does not allow (${list})`,
    };
  }
  return undefined;
}
