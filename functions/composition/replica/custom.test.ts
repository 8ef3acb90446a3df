import { describe, expect, it } from "vitest";
import { TTL_IN_PROGRESS_SECONDS as BUSY, TTL_SETTLED_SECONDS as SETTLED } from "./decide.ts";
import { decideCustom, type CustomDecision, type CustomObservations } from "./custom.ts";
import type { JsonObject } from "../../sdk/types.ts";

const DIGEST = `sha256:${"d".repeat(64)}`;
const OTHER = `sha256:${"0".repeat(64)}`;
const GIB = 2 ** 30;
const R = "blobcache (ModelVolume mc-ml-team/qwen-abc)";
const CONTRACT = "(docs/api.md, the Custom backend contract)";

const ready = (more: JsonObject = {}, omit?: string): JsonObject => {
  const m = readyWith(more);
  const status = Object.entries(m["status"] as JsonObject).filter(([k]) => k !== omit);
  return { ...m, status: Object.fromEntries(status) };
};
const readyWith = (more: JsonObject): JsonObject => ({
  apiVersion: "cache.example.com/v1alpha1",
  kind: "ModelVolume",
  status: {
    conditions: [{ type: "Ready", status: "True", reason: "Available" }],
    claimName: "qwen-abc",
    manifestDigest: DIGEST,
    resolvedRevision: "b1f2a3c4",
    bytesDone: 16 * GIB,
    bytesTotal: 16 * GIB,
    ...more,
  },
});

/** A substrate that is Ready and serves the pinned digest on the claim it was handed, Bound. Each row changes one thing. */
const base: CustomObservations = {
  resource: R,
  substrate: "blobcache",
  cluster: "prod-west",
  composed: true,
  manifest: ready(),
  syncError: undefined,
  claim: { namespace: "mc-ml-team", name: "qwen-abc" },
  claimBound: true,
  pinnedDigest: DIGEST,
};
const none = {};

describe("decideCustom", () => {
  it.each<{ reason: string; given: Partial<CustomObservations>; prevError?: string; want: CustomDecision }>([
    {
      reason: "serving the pinned digest on the handed claim, Bound: Ready, the earlier error cleared",
      given: {},
      prevError: "an earlier error",
      want: {
        phase: "Ready",
        message: `${DIGEST} served by blobcache on mc-ml-team/qwen-abc`,
        ttlSeconds: SETTLED,
        drift: false,
        lastError: undefined,
        reported: { manifestDigest: DIGEST, resolvedRevision: "b1f2a3c4", bytesDone: 16 * GIB, bytesTotal: 16 * GIB },
      },
    },
    {
      reason: "no pin yet (the first cluster): Ready with what it serves, which the fleet then pins",
      given: { pinnedDigest: undefined },
      want: {
        phase: "Ready",
        message: `${DIGEST} served by blobcache on mc-ml-team/qwen-abc`,
        ttlSeconds: SETTLED,
        drift: false,
        lastError: undefined,
        reported: { manifestDigest: DIGEST, resolvedRevision: "b1f2a3c4", bytesDone: 16 * GIB, bytesTotal: 16 * GIB },
      },
    },
    {
      reason: "serving another digest than the pinned one: Failed and drift, never Ready",
      given: { manifest: ready({ manifestDigest: OTHER }) },
      want: {
        phase: "Failed",
        message: `${R} serves manifest ${OTHER} but the cache is pinned to ${DIGEST} (handed as spec.expectedManifestDigest)`,
        ttlSeconds: SETTLED,
        drift: true,
        lastError: `${R} serves manifest ${OTHER} but the cache is pinned to ${DIGEST} (handed as spec.expectedManifestDigest)`,
        reported: { manifestDigest: OTHER, resolvedRevision: "b1f2a3c4", bytesDone: 16 * GIB, bytesTotal: 16 * GIB },
      },
    },
    {
      reason: "not composed yet (the first pass): Pending",
      given: { composed: false, manifest: undefined },
      want: { phase: "Pending", message: `creating ${R} on cluster prod-west`, ttlSeconds: BUSY, drift: false, lastError: undefined, reported: none },
    },
    {
      reason: "the substrate's CRD is not on the cluster: Blocked, saying what to install",
      given: { manifest: undefined, syncError: 'cannot get object: no matches for kind "ModelVolume" in version "cache.example.com/v1alpha1"' },
      want: {
        phase: "Blocked",
        message: `${R}: its kind is not served on cluster prod-west (cannot get object: no matches for kind "ModelVolume" in version "cache.example.com/v1alpha1"): install the substrate blobcache there (its CRD and controller), or select clusters that have it`,
        ttlSeconds: SETTLED,
        drift: false,
        lastError: undefined,
        reported: none,
      },
    },
    {
      reason: "another apply error: Pending with the error, looked at again soon (it may be transient)",
      given: { manifest: undefined, syncError: "connection refused" },
      want: {
        phase: "Pending",
        message: `${R} is not applied on cluster prod-west yet: connection refused`,
        ttlSeconds: BUSY,
        drift: false,
        lastError: undefined,
        reported: none,
      },
    },
    {
      reason: "created, no status yet: Pending, pointing at the contract",
      given: { manifest: { kind: "ModelVolume" } },
      want: {
        phase: "Pending",
        message: `${R} has not reported a status yet: the substrate's controller sets it ${CONTRACT}`,
        ttlSeconds: BUSY,
        drift: false,
        lastError: undefined,
        reported: none,
      },
    },
    {
      reason: "a status outside the contract: Blocked, naming the field (the substrate must be fixed)",
      given: { manifest: { status: { bytesDone: "lots" } } },
      want: {
        phase: "Blocked",
        message: `${R} reports a status outside the contract (status.bytesDone: Invalid input: expected number, received string): the substrate blobcache must be fixed ${CONTRACT}`,
        ttlSeconds: SETTLED,
        drift: false,
        lastError: undefined,
        reported: none,
      },
    },
    {
      reason: "bytes moving: Hydrating with progress and ETA from the substrate",
      given: {
        manifest: {
          status: {
            conditions: [{ type: "Ready", status: "False", reason: "Hydrating", message: "pulling" }],
            bytesDone: 4 * GIB,
            bytesTotal: 16 * GIB,
            bytesPerSecond: 1000,
            etaSeconds: 120,
          },
        },
      },
      want: {
        phase: "Hydrating",
        message: "blobcache hydrating: 4.00 GiB of 16.00 GiB (25%), about 120s left (pulling)",
        ttlSeconds: BUSY,
        drift: false,
        lastError: undefined,
        reported: { bytesDone: 4 * GIB, bytesTotal: 16 * GIB, bytesPerSecond: 1000, etaSeconds: 120 },
      },
    },
    {
      reason: "not Ready, no progress: Pending with the substrate's message",
      given: { manifest: { status: { conditions: [{ type: "Ready", status: "False", reason: "Scheduling", message: "waiting for a node" }] } } },
      want: { phase: "Pending", message: `${R} is not Ready: waiting for a node`, ttlSeconds: BUSY, drift: false, lastError: undefined, reported: none },
    },
    {
      reason: "the substrate gave up (reason Failed): Failed, its message, how to ask again",
      given: { manifest: { status: { conditions: [{ type: "Ready", status: "False", reason: "Failed", message: "401 from the hub" }] } } },
      want: {
        phase: "Failed",
        message: "the substrate blobcache failed: 401 from the hub; set a new refetch value on the ModelCache to ask it again",
        ttlSeconds: SETTLED,
        drift: false,
        lastError: "the substrate blobcache failed: 401 from the hub",
        reported: none,
      },
    },
    {
      reason: "Ready but serving another claim than it was handed: Blocked (serving pods mount the handed one)",
      given: { manifest: ready({ claimName: "something-else" }) },
      want: {
        phase: "Blocked",
        message: `${R} is Ready but serves claim something-else, not qwen-abc it was handed in spec.claimName: serving pods mount mc-ml-team/qwen-abc ${CONTRACT}`,
        ttlSeconds: SETTLED,
        drift: false,
        lastError: undefined,
        reported: { manifestDigest: DIGEST, resolvedRevision: "b1f2a3c4", bytesDone: 16 * GIB, bytesTotal: 16 * GIB },
      },
    },
    {
      reason: "Ready without a manifest digest: Blocked, since which bytes it serves cannot be checked",
      given: { manifest: ready({}, "manifestDigest") },
      want: {
        phase: "Blocked",
        message: `${R} is Ready but reports no status.manifestDigest, so which bytes it serves cannot be checked: the substrate blobcache must report it ${CONTRACT}`,
        ttlSeconds: SETTLED,
        drift: false,
        lastError: undefined,
        reported: { resolvedRevision: "b1f2a3c4", bytesDone: 16 * GIB, bytesTotal: 16 * GIB },
      },
    },
    {
      reason: "Ready with the pinned digest, the claim not Bound yet: Verifying",
      given: { claimBound: false },
      want: {
        phase: "Verifying",
        message: `blobcache serves ${DIGEST}; waiting for PersistentVolumeClaim mc-ml-team/qwen-abc to be Bound`,
        ttlSeconds: BUSY,
        drift: false,
        lastError: undefined,
        reported: { manifestDigest: DIGEST, resolvedRevision: "b1f2a3c4", bytesDone: 16 * GIB, bytesTotal: 16 * GIB },
      },
    },
  ])("$reason", ({ given, prevError, want }) => {
    expect(decideCustom({ ...base, ...given }, prevError)).toEqual(want);
  });
});
