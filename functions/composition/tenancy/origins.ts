// Where a cache's hydrator would connect, credentials or not, and whether the
// platform allows it. A hydration pod runs on the cluster's network: a tenant
// who could point it at the cloud's metadata service (169.254.169.254) would
// have it fetch the node's credentials into a volume the tenant then reads.
// The function sees only the names in the spec (it never resolves them: the
// cluster's DNS is not the control plane's), so it refuses addresses written
// as IP literals and the well-known metadata names; a name the tenant points at
// such an address is the cluster's to stop (docs/security.md, "Source hosts").
import { BlockList, isIP } from "node:net";
import type { AddressClass, Tenancy } from "../../api/input.ts";
import type { Source } from "../../api/artifact.ts";
import { destinationAllowed, sourceFetches, type Fetch } from "./destinations.ts";
import type { Issue } from "./issues.ts";

interface ClassRule {
  subnets: { net: string; prefix: number; type: "ipv4" | "ipv6" }[];
  /** Host names (exact) and suffixes (starting with a dot). */
  names: string[];
  what: string;
}

// IPv4 ranges are listed again as IPv4-mapped IPv6 (::ffff:a.b.c.d), which URL parsing writes as hex.
const v4 = (net: string, prefix: number) => [
  { net, prefix, type: "ipv4" as const },
  { net: `::ffff:${net}`, prefix: 96 + prefix, type: "ipv6" as const },
];
const v6 = (net: string, prefix: number) => [{ net, prefix, type: "ipv6" as const }];

const CLASSES: Record<AddressClass, ClassRule> = {
  LinkLocal: { subnets: [...v4("169.254.0.0", 16), ...v6("fe80::", 10)], names: [], what: "a link-local address" },
  Metadata: {
    subnets: [...v4("169.254.169.254", 32), ...v4("100.100.100.200", 32), ...v6("fd00:ec2::254", 128)],
    names: ["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"],
    what: "a cloud metadata service",
  },
  Loopback: { subnets: [...v4("127.0.0.0", 8), ...v4("0.0.0.0", 8), ...v6("::1", 128), ...v6("::", 128)], names: ["localhost", ".localhost"], what: "a loopback address" },
  Private: {
    subnets: [...v4("10.0.0.0", 8), ...v4("172.16.0.0", 12), ...v4("192.168.0.0", 16), ...v4("100.64.0.0", 10), ...v6("fc00::", 7)],
    names: [".svc", ".cluster.local"],
    what: "a private address or an in-cluster service",
  },
};

const LISTS = new Map(
  Object.entries(CLASSES).map(([c, rule]) => {
    const list = new BlockList();
    for (const s of rule.subnets) list.addSubnet(s.net, s.prefix, s.type);
    return [c as AddressClass, list];
  }),
);

/** The refused class `host` (a URL's hostname, IPv6 in brackets) falls in, if any. */
export function refusedClass(host: string, refused: readonly AddressClass[]): AddressClass | undefined {
  const bare = host.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "").toLowerCase();
  const family = isIP(bare);
  return refused.find((c) => {
    if (family !== 0) return LISTS.get(c)?.check(bare, family === 4 ? "ipv4" : "ipv6") === true;
    return CLASSES[c].names.some((n) => (n.startsWith(".") ? bare.endsWith(n) : bare === n));
  });
}

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
    return allowedOrigins === undefined ? undefined : { field: f.field, rule: "tenancy.sources.allowedOrigins", message: "fetches from an origin that cannot be determined, which the platform's list cannot allow" };
  }
  const origin = new URL(f.url).origin;
  const cls = refusedClass(host, refusedAddresses);
  if (cls !== undefined) {
    return { field: f.field, rule: "tenancy.sources.refusedAddresses", message: `would have the hydrator connect to ${origin}, ${CLASSES[cls].what} (${cls}), which the platform refuses` };
  }
  if (allowedOrigins !== undefined && !destinationAllowed(f.url, allowedOrigins)) {
    const list = allowedOrigins.length === 0 ? "none is allowed" : `allowed: ${allowedOrigins.join(", ")}`;
    return { field: f.field, rule: "tenancy.sources.allowedOrigins", message: `would have the hydrator fetch from ${origin}, which the platform does not allow (${list})` };
  }
  return undefined;
}
