import { describe, expect, it } from "vitest";
import { DNS_LABEL } from "../../api/k8s.ts";
import { claimName, replicaKey, replicaName } from "./names.ts";

describe("replicaName", () => {
  it.each([
    { reason: "a short, clean name is kept as is", cache: "qwen3-8b", cluster: "gke-us-east1", want: "qwen3-8b-gke-us-east1" },
    { reason: "dots (legal in cluster names, not in labels) force a hashed, cleaned name", cache: "qwen3-8b", cluster: "prod.us-east1", want: /^qwen3-8b-prod-us-east1-[0-9a-f]{8}$/ },
  ])("$reason", ({ cache, cluster, want }) => {
    const got = replicaName(cache, cluster);
    if (typeof want === "string") expect(got).toBe(want);
    else expect(got).toMatch(want);
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

  it("does not collide when cleaning maps two names to the same text", () => {
    expect(replicaName("c", "x.y")).not.toBe(replicaName("c", "x-y"));
  });
});

describe("claimName", () => {
  it("is the cache name and the identity hash, within 63 characters", () => {
    expect(claimName("qwen3-8b", "52f65bb112")).toBe("qwen3-8b-52f65bb112");
    const long = claimName("m".repeat(100), "52f65bb112");
    expect(long.length).toBe(63);
    expect(long.endsWith("-52f65bb112")).toBe(true);
  });
});

describe("replicaKey", () => {
  it("is replica-<cluster>", () => expect(replicaKey("gke")).toBe("replica-gke"));
});
