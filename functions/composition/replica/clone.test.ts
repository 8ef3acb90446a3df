import { describe, expect, it } from "vitest";
import { decideClone, withCloneHint, type CloneDecision, type CloneObservations } from "./clone.ts";
import type { PhaseDecision } from "./decide.ts";

/** A source in the cache's namespace and storage class, Bound, smaller than the cache: a clone can be made. */
const base: CloneObservations = {
  method: "Auto",
  source: { namespace: "mc-ml-team", name: "golden" },
  volumeNamespace: "mc-ml-team",
  ownsVolume: true,
  storageClassName: "filestore-rwx",
  size: "40Gi",
  claim: { exists: true, phase: "Bound", storageClassName: "filestore-rwx", capacity: "20Gi" },
  composed: undefined,
  cluster: "prod-west",
};
const SRC = "PersistentVolumeClaim mc-ml-team/golden (spec.artifact.source.pvcClone.claimName)";
const M = "spec.artifact.source.pvcClone.method";

describe("decideClone", () => {
  it.each<{ reason: string; given: Partial<CloneObservations>; want: CloneDecision }>([
    { reason: "same namespace, same class, large enough: a CSI clone", given: {}, want: { kind: "clone" } },
    { reason: "method Clone where a clone can be made: a clone", given: { method: "Clone" }, want: { kind: "clone" } },
    {
      reason: "the source claim not read yet: decide nothing (a clone's dataSource cannot be changed later)",
      given: { claim: { exists: undefined, phase: undefined, storageClassName: undefined, capacity: undefined } },
      want: { kind: "wait", message: `reading ${SRC} on cluster prod-west` },
    },
    {
      reason: "the source claim does not exist: Blocked, saying what to do",
      given: { claim: { exists: false, phase: undefined, storageClassName: undefined, capacity: undefined } },
      want: { kind: "blocked", message: `${SRC} does not exist on cluster prod-west: publish the artifact into it there, or name another claim` },
    },
    {
      reason: "the source claim is Pending: wait for it",
      given: { claim: { ...base.claim, phase: "Pending" } },
      want: { kind: "wait", message: `${SRC} is Pending on cluster prod-west: waiting for it to be Bound` },
    },
    {
      reason: "method Copy: a copy even where a clone could be made",
      given: { method: "Copy" },
      want: { kind: "copy", bridged: false, why: `${M} is Copy`, waiting: undefined },
    },
    {
      reason: "another storage class, Auto: a copy, and why",
      given: { claim: { ...base.claim, storageClassName: "nfs-client" } },
      want: {
        kind: "copy",
        bridged: false,
        why: "the source claim mc-ml-team/golden is of storage class nfs-client and the cache's volume of filestore-rwx, and Kubernetes clones only within one storage class",
        waiting: undefined,
      },
    },
    {
      reason: "another storage class, method Clone: Blocked, naming the field and the fix",
      given: { method: "Clone", claim: { ...base.claim, storageClassName: "nfs-client" } },
      want: {
        kind: "blocked",
        message: `${M} is Clone but the source claim mc-ml-team/golden is of storage class nfs-client and the cache's volume of filestore-rwx, and Kubernetes clones only within one storage class: set ${M} to Auto (or Copy) to copy it instead`,
      },
    },
    {
      reason: "a statically provisioned source (no class): no driver can clone it, so a copy",
      given: { claim: { ...base.claim, storageClassName: "" } },
      want: {
        kind: "copy",
        bridged: false,
        why: "the source claim mc-ml-team/golden has no storage class (it was provisioned statically), so no CSI driver can clone it",
        waiting: undefined,
      },
    },
    {
      reason: "the cache asks for less than the source holds: a clone cannot be smaller, a copy can",
      given: { size: "10Gi", claim: { ...base.claim, capacity: "20Gi" } },
      want: {
        kind: "copy",
        bridged: false,
        why: "spec.storage.pvc.size 10Gi is smaller than the source claim mc-ml-team/golden (20Gi), and a clone is at least as large as its source",
        waiting: undefined,
      },
    },
    {
      reason: "sizes in different units compare as quantities (20G < 20Gi): a clone",
      given: { size: "20Gi", claim: { ...base.claim, capacity: "20G" } },
      want: { kind: "clone" },
    },
    {
      reason: "a source in another (granted) namespace: a copy through a read-only bridge",
      given: { source: { namespace: "models", name: "golden" } },
      want: {
        kind: "copy",
        bridged: true,
        why: "the source claim models/golden is in namespace models, the cache's volume in mc-ml-team, and Kubernetes clones only within one namespace",
        waiting: undefined,
      },
    },
    {
      reason: "an ExistingPVC backend: only a copy into it",
      given: { ownsVolume: false },
      want: {
        kind: "copy",
        bridged: false,
        why: "the cache's volume is an existing claim (storage.backend ExistingPVC) and a clone is a new claim",
        waiting: undefined,
      },
    },
    {
      reason: "the volume was composed as a clone: it stays one, even if the source is gone now (its bytes are already there)",
      given: { composed: { cloned: true }, claim: { exists: false, phase: undefined, storageClassName: undefined, capacity: undefined } },
      want: { kind: "clone" },
    },
    {
      reason: "the volume was composed for a copy: it stays a copy; a missing source holds back only a Job not started yet",
      given: { composed: { cloned: false }, claim: { exists: false, phase: undefined, storageClassName: undefined, capacity: undefined } },
      want: {
        kind: "copy",
        bridged: false,
        why: undefined,
        waiting: `${SRC} does not exist on cluster prod-west: publish the artifact into it there, or name another claim`,
      },
    },
  ])("$reason", ({ given, want }) => {
    expect(decideClone({ ...base, ...given })).toEqual(want);
  });
});

describe("withCloneHint", () => {
  const pending: PhaseDecision = {
    phase: "Pending",
    message: "Job j started; waiting for its first report",
    ttlSeconds: 20,
    attempts: 1,
    runAttempt: 1,
    lastError: undefined,
    drift: false,
  };
  it.each<{ reason: string; d: PhaseDecision; bound: boolean; want: PhaseDecision }>([
    {
      reason: "the clone not Bound while its verification waits: say what a driver that cannot clone looks like, and the fix",
      d: pending,
      bound: false,
      want: {
        ...pending,
        message: `Job j started; waiting for its first report; the clone c is not Bound yet: a CSI driver that cannot clone leaves it Pending (its events say why), and ${M}: Copy copies instead`,
      },
    },
    { reason: "Bound: nothing to add", d: pending, bound: true, want: pending },
    { reason: "already verifying: the driver did clone", d: { ...pending, phase: "Verifying" }, bound: false, want: { ...pending, phase: "Verifying" } },
  ])("$reason", ({ d, bound, want }) => {
    expect(withCloneHint(d, bound, "c")).toEqual(want);
  });
});
