// The contract ConfigMap's name and content, shared by the fleet (which
// composes it) and the cluster level (which requires it by name).
import { describe, expect, it } from "vitest";
import { DNS_SUBDOMAIN } from "../api/k8s.ts";
import type { JsonObject, JsonValue } from "../sdk/types.ts";
import { contractConfigMap, contractConfigMapName, contractHash, readContract } from "./contract-configmap.ts";

const HASH = "0123456789abcdef";
const SPEC = { claimName: "qwen3-8b-52f65bb112", artifact: { kind: "Weights" } };

describe("contractConfigMapName", () => {
  it.each<{ reason: string; cache: string; want: string | RegExp }>([
    { reason: "a short name is kept as it is", cache: "qwen3-8b", want: `qwen3-8b-contract-${HASH}` },
    { reason: "dots are valid in a subdomain", cache: "team.qwen3", want: `team.qwen3-contract-${HASH}` },
    { reason: "exactly 253 characters fits", cache: "a".repeat(253 - 26), want: `${"a".repeat(227)}-contract-${HASH}` },
    {
      reason: "one character more is shortened, with 8 hex digits of the full name",
      cache: "a".repeat(228),
      want: new RegExp(`^a{218}-[0-9a-f]{8}-contract-${HASH}$`),
    },
  ])("$reason", ({ cache, want }) => {
    const name = contractConfigMapName(cache, HASH);
    if (typeof want === "string") expect(name).toBe(want);
    else expect(name).toMatch(want);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(DNS_SUBDOMAIN);
  });

  it("two long names sharing a head get different ConfigMaps", () => {
    expect(contractConfigMapName(`${"a".repeat(240)}x`, HASH)).not.toBe(contractConfigMapName(`${"a".repeat(240)}y`, HASH));
  });
});

describe("readContract", () => {
  const hash = contractHash(SPEC);
  const cm = contractConfigMap("qwen3-8b", "ml-team", hash, SPEC);
  it.each<{ reason: string; data: JsonValue | undefined; want: ReturnType<typeof readContract> }>([
    { reason: "what the fleet composes reads back", data: cm["data"] ?? null, want: { ok: true, spec: SPEC } },
    { reason: "no data at all", data: undefined, want: { ok: false, problem: "has no data.contract.json" } },
    { reason: "contract.json is not JSON", data: { "contract.json": "{" }, want: { ok: false, problem: "has unreadable JSON in data.contract.json" } },
    {
      reason: "contract.json is JSON but no object",
      data: { "contract.json": "null" },
      want: { ok: false, problem: "has no JSON object in data.contract.json" },
    },
    {
      reason: "another contract under this name",
      data: { "contract.json": "{}" },
      want: { ok: false, problem: `holds contract ${contractHash({})}, not ${hash}` },
    },
  ])("$reason", ({ data, want }) => {
    const resource: JsonObject = data === undefined ? { apiVersion: "v1", kind: "ConfigMap" } : { ...cm, data };
    expect(readContract(resource, hash)).toEqual(want);
  });

  it("holds canonical JSON (sorted keys) and labels naming the cache and the hash", () => {
    expect(cm["data"]).toEqual({ "contract.json": '{"artifact":{"kind":"Weights"},"claimName":"qwen3-8b-52f65bb112"}' });
    expect(cm["metadata"]).toEqual({
      name: `qwen3-8b-contract-${hash}`,
      namespace: "ml-team",
      labels: { "modelcache.dev/cache": "qwen3-8b", "modelcache.dev/contract-hash": hash },
    });
  });
});
