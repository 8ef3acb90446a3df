import { describe, expect, it } from "vitest";
import { DNS_LABEL } from "../../api/k8s.ts";
import { clusterNamespaceFor, derivedNamespace, VERBATIM_MAX } from "./namespaces.ts";

describe("derivedNamespace", () => {
  it.each([
    { reason: "a short namespace reads as itself behind the prefix", ns: "team-a", want: "mc-team-a" },
    { reason: "exactly at the verbatim limit it is still kept", ns: "n".repeat(VERBATIM_MAX - 3), want: `mc-${"n".repeat(VERBATIM_MAX - 3)}` },
    {
      reason: "past the limit: a head and 12 hex digits, exactly 63",
      ns: "n".repeat(VERBATIM_MAX - 2),
      want: new RegExp(`^mc-n{${VERBATIM_MAX - 3}}-[0-9a-f]{12}$`),
    },
    { reason: "the longest namespace Kubernetes allows", ns: "x".repeat(63), want: /^mc-x{47}-[0-9a-f]{12}$/ },
  ])("$reason", ({ ns, want }) => {
    const got = derivedNamespace(ns, "mc-");
    if (typeof want === "string") expect(got).toBe(want);
    else expect(got).toMatch(want);
    expect(got).toMatch(DNS_LABEL);
    expect(got.length).toBeLessThanOrEqual(63);
  });

  it.each([
    { reason: "two long namespaces with the same head", a: `${"t".repeat(60)}-a`, b: `${"t".repeat(60)}-b` },
    {
      reason: "a namespace named like another's hashed form (verbatim names are never 63 long)",
      a: "t".repeat(60),
      b: derivedNamespace("t".repeat(60), "mc-").slice(3),
    },
    { reason: "the same cache namespace name under a different prefix stays apart from a short one", a: "a", b: "mc-a" },
  ])("is one-to-one: $reason", ({ a, b }) => {
    expect(derivedNamespace(a, "mc-")).not.toBe(derivedNamespace(b, "mc-"));
  });
});

describe("clusterNamespaceFor", () => {
  const policy = { prefix: "mc-", map: { "ml-team": "inference" } };
  it.each([
    { reason: "a mapped namespace gets the platform's name", ns: "ml-team", want: "inference" },
    { reason: "any other is derived", ns: "team-b", want: "mc-team-b" },
    { reason: "a tenant cannot reach a mapped name by naming a namespace after it (derived names carry the prefix)", ns: "inference", want: "mc-inference" },
  ])("$reason", ({ ns, want }) => {
    expect(clusterNamespaceFor(ns, policy)).toBe(want);
  });
});
