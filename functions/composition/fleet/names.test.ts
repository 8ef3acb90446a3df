import { describe, expect, it } from "vitest";
import { DNS_LABEL } from "../../api/k8s.ts";
import { claimName, legacyClaimName, replicaKey, replicaName } from "./names.ts";

describe("replicaName", () => {
  it.each([
    {
      reason: "a short, clean name keeps both parts and gets the hash of the pair",
      cache: "qwen3-8b",
      cluster: "gke-us-east1",
      want: /^qwen3-8b-gke-us-east1-[0-9a-f]{8}$/,
    },
    {
      reason: "dots (legal in cluster names, not in labels) are cleaned; the hash tells them apart",
      cache: "qwen3-8b",
      cluster: "prod.us-east1",
      want: /^qwen3-8b-prod-us-east1-[0-9a-f]{8}$/,
    },
  ])("$reason", ({ cache, cluster, want }) => {
    expect(replicaName(cache, cluster)).toMatch(want);
  });

  it("stays within 63 characters, a DNS label, and differs for clusters sharing a long prefix", () => {
    const long = "a".repeat(80);
    const a = replicaName("cache", `${long}-one`);
    const b = replicaName("cache", `${long}-two`);
    for (const n of [a, b]) {
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(DNS_LABEL);
    }
    expect(a).not.toBe(b);
  });

  it.each([
    { reason: "cleaning maps two cluster names to the same text", a: ["c", "x.y"], b: ["c", "x-y"] },
    { reason: "the '-' between cache and cluster moves (docs/design.md, a + b-c vs a-b + c)", a: ["a", "b-c"], b: ["a-b", "c"] },
    { reason: "the same pair shifted by one character", a: ["qwen", "3-8b-gke"], b: ["qwen-3", "8b-gke"] },
  ])("does not collide when $reason", ({ a, b }) => {
    expect(replicaName(a[0] ?? "", a[1] ?? "")).not.toBe(replicaName(b[0] ?? "", b[1] ?? ""));
  });
});

describe("claimName", () => {
  it.each([
    { reason: "a short DNS-label cache name is kept as it was, so no existing volume is renamed", cache: "qwen3-8b", want: "qwen3-8b-52f65bb112" },
    { reason: "a dot is cleaned and the cache name's hash added", cache: "llama-3.1-8b", want: /^llama-3-1-8b-[0-9a-f]{8}-52f65bb112$/ },
    { reason: "a long name is cut and hashed, within 63", cache: "m".repeat(100), want: /^m{43}-[0-9a-f]{8}-52f65bb112$/ },
  ])("$reason", ({ cache, want }) => {
    const got = claimName(cache, "52f65bb112");
    if (typeof want === "string") expect(got).toBe(want);
    else expect(got).toMatch(want);
    expect(got.length).toBeLessThanOrEqual(63);
    expect(got).toMatch(DNS_LABEL);
  });

  it.each([
    { reason: "a dot against a dash", a: "llama-3.1-8b", b: "llama-3-1-8b" },
    { reason: "two long names with the same first 52 characters", a: `${"m".repeat(60)}-one`, b: `${"m".repeat(60)}-two` },
  ])("tells apart cache names earlier versions gave one volume: $reason", ({ a, b }) => {
    expect(legacyClaimName(a, "52f65bb112")).toBe(legacyClaimName(b, "52f65bb112"));
    expect(claimName(a, "52f65bb112")).not.toBe(claimName(b, "52f65bb112"));
  });
});

describe("replicaKey", () => {
  it("is replica-<cluster>", () => expect(replicaKey("gke")).toBe("replica-gke"));
});
