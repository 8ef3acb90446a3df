// The cluster-level scenarios of the pvcClone source and the Custom backend
// (issue 13): each a ModelCacheReplica and what its cluster shows, settled
// over as many passes as the real thing takes (a clone is decided only once
// the source claim is read; a bridge from another namespace takes three
// reads). replica-scenarios.ts lists them with the others.
import { field } from "../../functions/common/json.ts";
import type { JsonObject, ResourceState } from "../../functions/sdk/types.ts";
import { MOUNTS_REQUIREMENT } from "../../functions/composition/replica/mounts.ts";
import { noManifestMessage } from "../../functions/hydrator/sources/volume.ts";
import type { ObservedAs } from "./replica-builders.ts";
import { baseXr, compose, observedObject, reportData, tenancyInput } from "./replica-builders.ts";
import type { Scenario } from "./replica-scenarios.ts";

type How = (key: string, kind: string) => ObservedAs | "absent" | undefined;

/** Compose, observe what was composed as `how` says, and again, `passes` times: what the cluster shows then. */
function settle(xr: JsonObject, how: How, input?: JsonObject, passes = 2): Record<string, ResourceState> {
  let observed: Record<string, ResourceState> = {};
  for (let i = 0; i < passes; i++) {
    const rsp = compose(xr, observed, undefined, { [MOUNTS_REQUIREMENT]: [] }, input);
    const next: Record<string, ResourceState> = {};
    for (const [key, state] of Object.entries(rsp.desired.resources)) {
      const kind = String(field(state.resource, "spec", "forProvider", "manifest", "kind") ?? state.resource["kind"]);
      const as = how(key, kind);
      if (as !== "absent") next[key] = observedObject(key, state.resource, as ?? {});
    }
    observed = next;
  }
  return observed;
}

/** What each key shows, by its kind of key; anything else exists and is Ready. */
function byKey(map: Record<string, ObservedAs | "absent">): How {
  const part = (key: string) =>
    key === "clone-source"
      ? "source"
      : key.startsWith("modelcache-bridge-")
        ? `bridge-${key.split("-").at(-1) === "claim" ? (key.endsWith("source-claim") ? "source-claim" : "claim") : "volume"}`
        : key.startsWith("report-")
          ? "report"
          : key.startsWith("job-")
            ? "job"
            : key.startsWith("volume-")
              ? "volume"
              : key.startsWith("claim-")
                ? "claim"
                : key;
  return (key) => map[part(key)];
}

const DIGEST = "sha256:5b1e2f7c8a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091";
const OTHER_DIGEST = "sha256:0000000000000000000000000000000000000000000000000000000000000bad";
const COMMIT = "b1f2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4";
const GIB = 2 ** 30;

const bound: ObservedAs = { status: { phase: "Bound", accessModes: ["ReadWriteMany"], capacity: { storage: "40Gi" } } };
const running: ObservedAs = { status: { active: 1, startTime: "2024-01-01T00:01:00Z" } };
const complete: ObservedAs = { status: { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] } };
/** The source claim: a published artifact on a 20Gi volume of class `cls`. */
const sourceClaim = (cls: string, phase = "Bound"): ObservedAs => ({
  extra: { spec: { storageClassName: cls, accessModes: ["ReadWriteMany"], volumeName: "pvc-0a1b2c3d", resources: { requests: { storage: "20Gi" } } } },
  status: { phase, accessModes: ["ReadWriteMany"], capacity: { storage: "20Gi" } },
});
const report = (phase: string, more: JsonObject = {}): ObservedAs => ({
  extra: reportData({
    phase,
    source: "pvc:///etc/modelcache/source",
    bytesDone: 0,
    filesDone: 0,
    bytesPerSecond: 0,
    startedAt: "2024-01-01T00:01:00Z",
    updatedAt: "2024-01-01T00:05:00Z",
    ...more,
  }),
});
const done = { resolvedRevision: COMMIT, bytesDone: 16 * GIB, bytesTotal: 16 * GIB, filesDone: 7, filesTotal: 7 };

const clone = (pvcClone: JsonObject, more: JsonObject = {}) =>
  baseXr({ artifact: { kind: "Weights", layout: "Flat", source: { pvcClone: { method: "Auto", ...pvcClone } } }, ...more });

const REFERENCE = { name: "reference", apiVersion: "volumes.example.com/v1alpha1", kind: "ModelVolume" };
const customInput = tenancyInput({ customBackends: [REFERENCE] });
const custom = (more: JsonObject = {}, status?: JsonObject) =>
  baseXr({ storage: { backend: "Custom", custom: { substrate: "reference", size: "40Gi" } }, ...more }, status);
/** The reference substrate's status, as its controller writes it (examples/custom-backend-reference/). */
const substrate = (s: JsonObject): ObservedAs => ({ status: s, ready: field(s, "conditions") !== undefined && JSON.stringify(s).includes('"status":"True"') });
const servingStatus = (digest: string): JsonObject => ({
  conditions: [{ type: "Ready", status: "True", reason: "Available", message: `serving ${digest}` }],
  claimName: "qwen3-8b-3f9c2a1b7d",
  manifestDigest: digest,
  resolvedRevision: COMMIT,
  bytesDone: 16 * GIB,
  bytesTotal: 16 * GIB,
});

export function storageScenarios(): Scenario[] {
  const list: Scenario[] = [];
  const add = (s: Scenario) => list.push(s);

  {
    const xr = clone({ claimName: "qwen3-8b-golden" });
    add({
      name: "pvc-clone-first-pass",
      why: "A pvcClone source, first pass: the function reads the source claim before it composes the volume (a clone's dataSource cannot be changed later), so only the namespace and an Observe-only read of the source are composed.",
      xr,
      observed: {},
      phase: "Pending",
    });
  }
  {
    const xr = clone({ claimName: "qwen3-8b-golden", manifestDigest: DIGEST }, {});
    add({
      name: "pvc-clone-verifying",
      why: "The source claim is in the cache's namespace and storage class (efs-sc) and smaller than the cache: the volume is a CSI clone (dataSource), and a Job verifies the clone against the source's manifest digest, named in spec.artifact.source.pvcClone.manifestDigest, before it is Ready.",
      xr: { ...xr, status: { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Pending" } },
      observed: settle(
        { ...xr, status: { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Pending" } },
        byKey({ source: sourceClaim("efs-sc"), volume: bound, job: running, report: report("Verifying", { ...done, bytesDone: 8 * GIB }) }),
      ),
      phase: "Verifying",
    });
  }
  {
    const xr = {
      ...clone({ claimName: "qwen3-8b-golden", manifestDigest: DIGEST }),
      status: { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Verifying" },
    };
    add({
      name: "pvc-clone-ready",
      why: "The clone verified: every file matches the source's manifest and the digest is the one named. Ready; the finished Job is dropped, its report stays as the record.",
      xr,
      observed: settle(
        xr,
        byKey({ source: sourceClaim("efs-sc"), volume: bound, job: complete, report: report("Ready", { ...done, manifestDigest: DIGEST }) }),
      ),
      phase: "Ready",
    });
  }
  {
    const xr = { ...clone({ claimName: "qwen3-8b-golden" }), status: { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Pending" } };
    add({
      name: "pvc-clone-copy",
      why: "The source claim is of another storage class (nfs-client), which Kubernetes cannot clone from: Auto copies instead. The Job mounts the source read-only and checks every file against the source's manifest as it copies.",
      xr,
      observed: settle(
        xr,
        byKey({
          source: sourceClaim("nfs-client"),
          volume: bound,
          job: running,
          report: report("Hydrating", {
            resolvedRevision: COMMIT,
            bytesDone: 4 * GIB,
            bytesTotal: 16 * GIB,
            filesDone: 2,
            filesTotal: 7,
            bytesPerSecond: 800 * 2 ** 20,
            etaSeconds: 15,
          }),
        }),
      ),
      phase: "Hydrating",
    });
  }
  {
    const xr = clone({ claimName: "qwen3-8b-golden", method: "Clone" });
    add({
      name: "pvc-clone-method-clone-blocked",
      why: "method: Clone, but the source claim is of another storage class: Blocked, saying why Kubernetes cannot clone it and which field to change. No volume is composed.",
      xr,
      observed: settle(xr, byKey({ source: sourceClaim("nfs-client") }), undefined, 1),
      phase: "Blocked",
    });
  }
  {
    const xr = {
      ...clone({ claimName: "qwen3-8b-golden" }),
      status: { attempts: 6, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Hydrating", lastError: "exit code 3" },
    };
    const failed: ObservedAs = {
      status: {
        failed: 1,
        conditions: [{ type: "Failed", status: "True", reason: "PodFailurePolicy", message: "exit code 3", lastTransitionTime: "2024-01-01T00:20:00Z" }],
      },
    };
    add({
      name: "pvc-clone-no-manifest",
      why: "The source claim holds files but no .model-cache manifest (it was not published by the hydrator): there is nothing to verify a copy against, so the copy Job refuses it and the replica fails with how to publish it; nothing unverified is ever Ready.",
      xr,
      observed: settle(
        xr,
        byKey({
          source: sourceClaim("nfs-client"),
          volume: bound,
          job: failed,
          report: report("Failed", { message: noManifestMessage("/etc/modelcache/source"), updatedAt: "2024-01-01T00:20:00Z" }),
        }),
      ),
      phase: "Failed",
    });
  }
  {
    const input = tenancyInput({ pvcClone: { grants: [{ controlPlaneNamespaces: ["ml-team"], namespace: "models", claimNames: ["qwen3-8b-golden"] }] } });
    const xr = { ...clone({ claimName: "qwen3-8b-golden", namespace: "models" }), status: { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Pending" } };
    const pv: ObservedAs = {
      extra: { spec: { capacity: { storage: "20Gi" }, csi: { driver: "efs.csi.aws.com", volumeHandle: "fs-0123456789abcdef0::fsap-0a1b" } } },
    };
    add({
      name: "pvc-clone-granted-namespace",
      why: "The source claim is in namespace models, which the platform grants control-plane namespace ml-team (tenancy.pvcClone.grants). Kubernetes clones only within a namespace, so the Job copies it through a read-only PersistentVolume on the same CSI handle, bound to a claim beside the cache's volume: nothing in models is written.",
      xr,
      observed: settle(
        xr,
        byKey({
          source: sourceClaim("efs-sc"),
          "bridge-source-claim": sourceClaim("efs-sc"),
          "bridge-volume": pv,
          "bridge-claim": bound,
          volume: bound,
          job: running,
          report: report("Hydrating", {
            resolvedRevision: COMMIT,
            bytesDone: 2 * GIB,
            bytesTotal: 16 * GIB,
            filesDone: 1,
            filesTotal: 7,
            bytesPerSecond: 500 * 2 ** 20,
            etaSeconds: 28,
          }),
        }),
        input,
        5,
      ),
      input,
      phase: "Hydrating",
    });
  }
  {
    const xr = clone({ claimName: "team-b-weights", namespace: "mc-team-b" });
    add({
      name: "pvc-clone-refused",
      why: "A pvcClone source naming another tenant's claim with no grant: the platform's tenancy policy refuses it (Blocked, naming the field, the rule and the fix); nothing is composed, not even a read of the claim.",
      xr,
      observed: {},
      phase: "Blocked",
      refused: true,
    });
  }

  add({
    name: "custom-pending",
    why: "The Custom backend, first pass: the function composes the platform's substrate kind (volumes.example.com/v1alpha1 ModelVolume, allowed in the Input as substrate reference) with the source, claim name and size it hands the substrate; no storage class, CSI driver or Job of its own.",
    xr: custom(),
    observed: {},
    input: customInput,
    phase: "Pending",
  });
  {
    const xr = custom({}, { claimName: "qwen3-8b-3f9c2a1b7d", phase: "Pending" });
    add({
      name: "custom-hydrating",
      why: "The substrate reports progress in its status (bytes, throughput, ETA): it reaches the replica's status as the hydrator's would.",
      xr,
      observed: settle(
        xr,
        byKey({
          volume: substrate({
            conditions: [{ type: "Ready", status: "False", reason: "Hydrating", message: "job qwen3-8b-3f9c2a1b7d-hydrate running" }],
            claimName: "qwen3-8b-3f9c2a1b7d",
            bytesDone: 6 * GIB,
            bytesTotal: 16 * GIB,
            bytesPerSecond: 300 * 2 ** 20,
            etaSeconds: 34,
          }),
          claim: bound,
        }),
        customInput,
      ),
      input: customInput,
      phase: "Hydrating",
    });
  }
  {
    const xr = custom({ pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST } }, { claimName: "qwen3-8b-3f9c2a1b7d", phase: "Hydrating" });
    add({
      name: "custom-ready",
      why: "The substrate says Ready, serves the claim it was handed, the claim is Bound, and the manifest digest it serves is the pinned one (handed to it as spec.expectedManifestDigest): Ready.",
      xr,
      observed: settle(xr, byKey({ volume: substrate(servingStatus(DIGEST)), claim: bound }), customInput),
      input: customInput,
      phase: "Ready",
    });
  }
  {
    const xr = custom({ pin: { resolvedRevision: COMMIT, manifestDigest: DIGEST } }, { claimName: "qwen3-8b-3f9c2a1b7d", phase: "Hydrating" });
    add({
      name: "custom-wrong-digest",
      why: "The substrate says Ready but serves other bytes than the pinned manifest: Failed and drift, never Ready, whatever the substrate claims; the fleet reports the drift.",
      xr,
      observed: settle(xr, byKey({ volume: substrate(servingStatus(OTHER_DIGEST)), claim: bound }), customInput),
      input: customInput,
      phase: "Failed",
    });
  }
  {
    const xr = custom({}, { claimName: "qwen3-8b-3f9c2a1b7d", phase: "Pending" });
    const notServed: ObservedAs = { missing: true };
    add({
      name: "custom-not-installed",
      why: "The cluster does not serve the substrate's kind (its CRD is not installed): Blocked, saying what to install, instead of waiting forever.",
      xr,
      observed: Object.fromEntries(
        Object.entries(settle(xr, byKey({ volume: notServed, claim: { missing: true } }), customInput, 1)).map(([k, v]) => [
          k,
          k.startsWith("volume-")
            ? (JSON.parse(
                JSON.stringify(v).replace(
                  "cannot observe external resource: external resource does not exist",
                  'cannot get object: no matches for kind \\"ModelVolume\\" in version \\"volumes.example.com/v1alpha1\\"',
                ),
              ) as ResourceState)
            : v,
        ]),
      ),
      input: customInput,
      phase: "Blocked",
    });
  }
  {
    // What the PVC backend composed for the same source (the claim name follows the source, not the backend).
    const before = baseXr({}, { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Ready" });
    const observed = settle(before, byKey({ volume: bound, job: complete, report: report("Ready", { ...done, manifestDigest: DIGEST }) }));
    add({
      name: "custom-backend-switched",
      why: "The cache's backend was changed from PVC to Custom in place: the volume of that name is a claim the function provisioned, which a substrate would be handed again. Blocked, saying to create a new ModelCache instead; everything composed is kept exactly as it is.",
      xr: custom({}, { attempts: 1, claimName: "qwen3-8b-3f9c2a1b7d", phase: "Ready" }),
      observed,
      input: customInput,
      phase: "Blocked",
    });
  }
  add({
    name: "custom-refused",
    why: "A Custom backend naming a substrate the platform does not list (the default Input lists none): the tenancy policy refuses it, naming spec.storage.custom.substrate and whom to ask; the tenant can never make the function compose a kind of its choosing.",
    xr: baseXr({ storage: { backend: "Custom", custom: { substrate: "anything" } } }),
    observed: {},
    phase: "Blocked",
    refused: true,
  });
  return list;
}
