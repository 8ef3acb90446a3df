// The classes of network address a platform can keep sources away from
// (Input tenancy.sources.refusedAddresses): one definition for the function,
// which refuses a spec naming such a host, and the hydrator, which refuses to
// connect to such an address whatever name led there (DNS, a redirect).
import { BlockList, isIP } from "node:net";
import { z } from "zod";
import type { Checked } from "../common/checked.ts";

export const AddressClass = z.enum(["LinkLocal", "Metadata", "Loopback", "Private"]);
export type AddressClass = z.infer<typeof AddressClass>;

/** Refused unless the platform says otherwise: where a pod reaches its node's cloud credentials. */
export const DEFAULT_REFUSED_ADDRESSES: readonly AddressClass[] = ["LinkLocal", "Metadata"];

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
  Loopback: {
    subnets: [...v4("127.0.0.0", 8), ...v4("0.0.0.0", 8), ...v6("::1", 128), ...v6("::", 128)],
    names: ["localhost", ".localhost"],
    what: "a loopback address",
  },
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

/** "a link-local address", for messages. */
export function describeClass(c: AddressClass): string {
  return CLASSES[c].what;
}

/** The refused class an IP address (no brackets) falls in, if any; undefined for a name. */
export function classOfAddress(address: string, refused: readonly AddressClass[]): AddressClass | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  return refused.find((c) => LISTS.get(c)?.check(address, family === 4 ? "ipv4" : "ipv6") === true);
}

/** The refused class a URL's hostname (IPv6 in brackets) falls in, by address or by well-known name. */
export function classOfHost(host: string, refused: readonly AddressClass[]): AddressClass | undefined {
  const bare = host
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "")
    .toLowerCase();
  if (isIP(bare) !== 0) return classOfAddress(bare, refused);
  return refused.find((c) => CLASSES[c].names.some((n) => (n.startsWith(".") ? bare.endsWith(n) : bare === n)));
}

/** `LinkLocal,Metadata` -> the classes, or the first word that is not one. */
export function parseAddressClasses(list: string): Checked<AddressClass[]> {
  const out: AddressClass[] = [];
  for (const word of list
    .split(",")
    .map((w) => w.trim())
    .filter((w) => w !== "")) {
    const c = AddressClass.safeParse(word);
    if (!c.success) return { ok: false, error: `"${word}" is not an address class (${AddressClass.options.join(", ")})` };
    if (!out.includes(c.data)) out.push(c.data);
  }
  return { ok: true, value: out };
}
