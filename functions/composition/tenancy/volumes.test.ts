import { describe, expect, it } from "vitest";
import { Artifact } from "../../api/artifact.ts";
import { Tenancy } from "../../api/input.ts";
import { Storage } from "../../api/modelcache.ts";
import { checkVolume } from "./volumes.ts";

const withToken = Artifact.parse({ source: { huggingFace: { repo: "a/b", tokenSecretRef: { name: "t" } } } });
const publicSource = Artifact.parse({ source: { huggingFace: { repo: "a/b" } } });
const grants = {
  grants: [
    { controlPlaneNamespaces: ["team-a"], namespace: "shared-models", claimNames: ["llama"] },
    { controlPlaneNamespaces: ["team-a"], namespace: "rw", claimNames: ["*"], access: "ReadWrite" },
  ],
};
const ctx = (existingPVC: object = {}, more: object = {}) => ({
  controlPlaneNamespace: "team-a",
  ownNamespace: "mc-team-a",
  policy: Tenancy.parse({ existingPVC, ...more }),
  root: "spec",
});
const existing = (e: object) => Storage.parse({ backend: "ExistingPVC", existingPVC: e });

describe("checkVolume", () => {
  it.each([
    { reason: "a composed volume", storage: Storage.parse({ pvc: { size: "1Gi" } }), artifact: withToken, c: ctx(), want: [] },
    { reason: "a claim in the cache's own namespace (the default)", storage: existing({ claimName: "mine" }), artifact: withToken, c: ctx(), want: [] },
    { reason: "its own namespace, named", storage: existing({ claimName: "mine", namespace: "mc-team-a" }), artifact: withToken, c: ctx(), want: [] },
    {
      reason: "another team's claim, writable (issue 9 item 3)",
      storage: existing({ claimName: "team-b-weights", namespace: "team-b", hydrate: true }),
      artifact: withToken,
      c: ctx(),
      want: ["spec.storage.existingPVC.namespace"],
    },
    {
      reason: "another team's derived namespace",
      storage: existing({ claimName: "w", namespace: "mc-team-b", hydrate: false }),
      artifact: publicSource,
      c: ctx(),
      want: ["spec.storage.existingPVC.namespace"],
    },
    {
      reason: "a granted claim, read-only, verified only",
      storage: existing({ claimName: "llama", namespace: "shared-models", hydrate: false }),
      artifact: publicSource,
      c: ctx(grants),
      want: [],
    },
    {
      reason: "a read-only grant written to",
      storage: existing({ claimName: "llama", namespace: "shared-models", hydrate: true }),
      artifact: publicSource,
      c: ctx(grants),
      want: ["spec.storage.existingPVC.hydrate"],
    },
    {
      reason: "a claim the grant does not name",
      storage: existing({ claimName: "other", namespace: "shared-models", hydrate: false }),
      artifact: publicSource,
      c: ctx(grants),
      want: ["spec.storage.existingPVC.namespace"],
    },
    {
      reason: "a granted namespace's Secret (the Job would read it there)",
      storage: existing({ claimName: "llama", namespace: "rw" }),
      artifact: withToken,
      c: ctx(grants),
      want: ["spec.artifact.source.huggingFace.tokenSecretRef"],
    },
    {
      reason: "the platform refuses ExistingPVC altogether",
      storage: existing({ claimName: "mine" }),
      artifact: publicSource,
      c: ctx({ ownNamespace: "Refuse" }),
      want: ["spec.storage.backend"],
    },
    {
      reason: "the platform allows only verifying",
      storage: existing({ claimName: "mine", hydrate: true }),
      artifact: publicSource,
      c: ctx({ ownNamespace: "ReadOnly" }),
      want: ["spec.storage.existingPVC.hydrate"],
    },
    {
      reason: "a storage class the platform does not list",
      storage: Storage.parse({ pvc: { size: "1Gi", storageClassName: "nfs-shared-root" } }),
      artifact: publicSource,
      c: ctx({}, { storageClassNames: ["efs-sc"] }),
      want: ["spec.storage.pvc.storageClassName"],
    },
  ])("$reason", ({ storage, artifact, c, want }) => {
    expect(checkVolume({ storage, artifact }, c).map((i) => i.field)).toEqual(want);
  });
});
