// The hydration pod passes the Kubernetes "restricted" Pod Security Standard
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// written as its table of rules, each checked on every Job of every scenario.
import { field, isObject } from "../../common/json.ts";
import { describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../../sdk/types.ts";
import { composeScenario, scenarios } from "../../../test/support/replica-scenarios.ts";
import { keysOfKind, manifestAt } from "../../../test/support/replica-builders.ts";

type Pod = JsonObject;
const list = (v: JsonValue | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const allContainers = (p: Pod) => [...list(p["containers"]), ...list(p["initContainers"]), ...list(p["ephemeralContainers"])];
const eff = (p: Pod, c: JsonObject, k: string) => field(c, "securityContext", k) ?? field(p, "securityContext", k);

/** Each rule: the PSS control, and whether a pod satisfies it. Baseline rules are part of restricted. */
const RULES: { control: string; ok: (p: Pod) => boolean }[] = [
  {
    control: "HostProcess (baseline)",
    ok: (p) => allContainers(p).every((c) => eff(p, c, "windowsOptions") === undefined || field(eff(p, c, "windowsOptions"), "hostProcess") !== true),
  },
  { control: "Host namespaces (baseline)", ok: (p) => p["hostNetwork"] !== true && p["hostPID"] !== true && p["hostIPC"] !== true },
  { control: "Privileged containers (baseline)", ok: (p) => allContainers(p).every((c) => field(c, "securityContext", "privileged") !== true) },
  {
    control: "Capabilities (baseline)",
    ok: (p) =>
      allContainers(p).every(
        (c) =>
          list(field(c, "securityContext", "capabilities", "add") as JsonValue).length === 0 &&
          ((field(c, "securityContext", "capabilities", "add") as JsonValue[] | undefined) ?? []).every((a) => a === "NET_BIND_SERVICE"),
      ),
  },
  { control: "HostPath volumes (baseline)", ok: (p) => list(p["volumes"]).every((v) => v["hostPath"] === undefined) },
  {
    control: "Host ports (baseline)",
    ok: (p) => allContainers(p).every((c) => list(c["ports"]).every((port) => port["hostPort"] === undefined || port["hostPort"] === 0)),
  },
  {
    control: "AppArmor (baseline)",
    ok: (p) =>
      allContainers(p).every((c) => [undefined, "RuntimeDefault", "Localhost"].includes(field(eff(p, c, "appArmorProfile"), "type") as string | undefined)),
  },
  {
    control: "SELinux (baseline)",
    ok: (p) =>
      allContainers(p).every(
        (c) =>
          [undefined, "container_t", "container_init_t", "container_kvm_t", "container_engine_t"].includes(
            field(eff(p, c, "seLinuxOptions"), "type") as string | undefined,
          ) &&
          field(eff(p, c, "seLinuxOptions"), "user") === undefined &&
          field(eff(p, c, "seLinuxOptions"), "role") === undefined,
      ),
  },
  {
    control: "/proc mount type (baseline)",
    ok: (p) => allContainers(p).every((c) => [undefined, "Default"].includes(field(c, "securityContext", "procMount") as string | undefined)),
  },
  { control: "Seccomp (baseline: not Unconfined)", ok: (p) => allContainers(p).every((c) => field(eff(p, c, "seccompProfile"), "type") !== "Unconfined") },
  { control: "Sysctls (baseline)", ok: (p) => list(field(p, "securityContext", "sysctls") as JsonValue).length === 0 },
  {
    control: "Volume types (restricted)",
    ok: (p) =>
      list(p["volumes"]).every((v) =>
        ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"].some((t) => v[t] !== undefined),
      ),
  },
  { control: "Privilege escalation (restricted)", ok: (p) => allContainers(p).every((c) => field(c, "securityContext", "allowPrivilegeEscalation") === false) },
  { control: "Running as non-root (restricted)", ok: (p) => allContainers(p).every((c) => eff(p, c, "runAsNonRoot") === true) },
  { control: "Running as non-root user (restricted)", ok: (p) => allContainers(p).every((c) => eff(p, c, "runAsUser") !== 0) },
  {
    control: "Seccomp (restricted: RuntimeDefault or Localhost)",
    ok: (p) => allContainers(p).every((c) => ["RuntimeDefault", "Localhost"].includes(field(eff(p, c, "seccompProfile"), "type") as string)),
  },
  {
    control: "Capabilities (restricted: drop ALL)",
    ok: (p) => allContainers(p).every((c) => ((field(c, "securityContext", "capabilities", "drop") as JsonValue[] | undefined) ?? []).includes("ALL")),
  },
  // Beyond the standard, what the issue asks of the hydrator.
  {
    control: "read-only root filesystem (this project)",
    ok: (p) => allContainers(p).every((c) => field(c, "securityContext", "readOnlyRootFilesystem") === true),
  },
  { control: "bounded memory (this project)", ok: (p) => allContainers(p).every((c) => typeof field(c, "resources", "limits", "memory") === "string") },
];

const pods = scenarios()
  .filter((s) => s.phase !== "Fatal")
  .flatMap((s) => {
    const rsp = composeScenario(s);
    return keysOfKind(rsp, "Job").map((k) => [s.name, field(manifestAt(rsp, k), "spec", "template", "spec") as Pod] as const);
  });

describe("the hydration pod passes the restricted Pod Security Standard", () => {
  it("there are Jobs to check", () => expect(pods.length).toBeGreaterThan(10));
  for (const rule of RULES) {
    it.each(pods)(`${rule.control}: %s`, (_n, pod) => expect(rule.ok(pod)).toBe(true));
  }
  it.each([
    {
      reason: "a pod running as root fails the table",
      pod: {
        securityContext: { runAsUser: 0 },
        containers: [
          {
            name: "x",
            securityContext: {
              allowPrivilegeEscalation: false,
              runAsNonRoot: true,
              capabilities: { drop: ["ALL"] },
              seccompProfile: { type: "RuntimeDefault" },
              readOnlyRootFilesystem: true,
            },
            resources: { limits: { memory: "1Gi" } },
          },
        ],
      },
    },
    {
      reason: "a hostPath volume fails the table",
      pod: {
        volumes: [{ name: "h", hostPath: { path: "/" } }],
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "x",
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true },
            resources: { limits: { memory: "1Gi" } },
          },
        ],
      },
    },
    {
      reason: "a container without drop ALL fails the table",
      pod: {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          { name: "x", securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true }, resources: { limits: { memory: "1Gi" } } },
        ],
      },
    },
  ])("the rules can fail: $reason", ({ pod }) => {
    expect(RULES.every((r) => r.ok(pod as unknown as Pod))).toBe(false);
  });
});
