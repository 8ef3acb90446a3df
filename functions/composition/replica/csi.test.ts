// CSI drivers per cloud and capability: installed only where the function can
// and may (EKS add-ons), shared and never deleted; Blocked with what to enable
// where there is nothing to compose; nothing installed on Existing clusters.
import { field } from "../../common/json.ts";
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../sdk/types.ts";
import { capabilityFor, CSI_MAP } from "./csi.ts";
import { KEY } from "./names.ts";
import { baseXr, compose, observedObject, statusOf } from "../../../test/support/replica-builders.ts";

function withDriver(xr: JsonObject, state: "missing" | "present") {
  const first = compose(xr);
  const drv = first.desired.resources[KEY.csiDriver];
  if (!drv) throw new Error("no driver check composed");
  return compose(xr, { [KEY.csiDriver]: observedObject(KEY.csiDriver, drv.resource, state === "missing" ? { missing: true } : {}) });
}

const cluster = (cloud: string, extra: JsonObject = {}) => ({
  name: "c1",
  providerConfigRef: { kind: "ClusterProviderConfig", name: "c1" },
  cloud,
  storageClassName: "rwx",
  csiDrivers: ["SharedFilesystem"],
  ...extra,
});

describe("CSI drivers", () => {
  it.each([
    { mode: "ReadWriteMany", cap: "SharedFilesystem" },
    { mode: "ReadOnlyMany", cap: "SharedFilesystem" },
    { mode: "ReadWriteOnce", cap: "BlockDevice" },
  ] as const)("a $mode volume needs $cap", ({ mode, cap }) => expect(capabilityFor(mode)).toBe(cap));

  it("EKS with the driver missing composes the add-on: shared external name, no Delete", () => {
    const rsp = withDriver(baseXr(), "missing");
    const addon = rsp.desired.resources[KEY.csiAddon]?.resource;
    expect(addon?.["apiVersion"]).toBe("eks.aws.m.upbound.io/v1beta1");
    expect(field(addon, "metadata", "annotations", "crossplane.io/external-name")).toBe("aws-efs-csi-driver");
    expect(field(addon, "metadata", "name"), "no fixed name: each cache composes its own, sharing the add-on").toBeUndefined();
    expect(field(addon, "spec", "managementPolicies")).not.toContain("Delete");
    expect(field(addon, "spec", "managementPolicies")).not.toContain("*");
    expect(field(addon, "spec", "forProvider")).toEqual({ clusterName: "prod-east", region: "us-east-1" });
  });

  it("EKS with the driver present composes no add-on", () => {
    expect(withDriver(baseXr(), "present").desired.resources[KEY.csiAddon]).toBeUndefined();
  });

  it("an add-on once composed stays composed, even when the driver shows up", () => {
    const xr = baseXr();
    const missing = withDriver(xr, "missing");
    const addon = missing.desired.resources[KEY.csiAddon]?.resource ?? {};
    const drv = missing.desired.resources[KEY.csiDriver]?.resource ?? {};
    const rsp = compose(xr, { [KEY.csiAddon]: observedObject(KEY.csiAddon, addon), [KEY.csiDriver]: observedObject(KEY.csiDriver, drv) });
    expect(rsp.desired.resources[KEY.csiAddon]).toBeDefined();
  });

  it("EKS without cloudCluster cannot install the add-on: Blocked saying what is missing", () => {
    const rsp = withDriver(baseXr({ cluster: cluster("EKS") }), "missing");
    expect(statusOf(rsp).phase).toBe("Blocked");
    expect(statusOf(rsp).message).toContain("aws-efs-csi-driver");
  });

  it.each([
    { cloud: "GKE", enable: "gcpFilestoreCsiDriverConfig" },
    { cloud: "AKS", enable: "fileDriver" },
  ])("$cloud with the driver missing is Blocked naming exactly what to enable ($enable)", ({ cloud, enable }) => {
    const rsp = withDriver(baseXr({ cluster: cluster(cloud) }), "missing");
    expect(statusOf(rsp).phase).toBe("Blocked");
    expect(statusOf(rsp).message).toContain(enable);
    expect(statusOf(rsp).message).toContain(CSI_MAP[cloud as "GKE" | "AKS"]?.SharedFilesystem.driver);
    expect(rsp.desired.resources[KEY.csiAddon]).toBeUndefined();
  });

  it.each([
    { reason: "declared", csiDrivers: ["SharedFilesystem"], phase: "Pending" },
    { reason: "not declared", csiDrivers: [], phase: "Blocked" },
  ])("an Existing cluster gets nothing installed or checked; capability $reason → $phase", ({ csiDrivers, phase }) => {
    const rsp = compose(baseXr({ cluster: cluster("Existing", { csiDrivers }) }));
    expect(statusOf(rsp).phase).toBe(phase);
    expect(rsp.desired.resources[KEY.csiAddon]).toBeUndefined();
    expect(rsp.desired.resources[KEY.csiDriver]).toBeUndefined();
  });

  it("a driver the cluster lacks and does not declare is Blocked, not installed", () => {
    const rsp = withDriver(
      baseXr({
        cluster: {
          ...cluster("EKS"),
          csiDrivers: ["BlockDevice"],
          cloudCluster: { name: "c1", providerConfigRef: { kind: "ClusterProviderConfig", name: "aws" } },
        },
      }),
      "missing",
    );
    expect(statusOf(rsp).phase).toBe("Blocked");
    expect(rsp.desired.resources[KEY.csiAddon]).toBeUndefined();
  });
});
