import { describe, expect, it } from "vitest";
import { compileSelector, evaluateSelector, toCelCluster, type ClusterFactsInput } from "./index.ts";
import { a100Cluster, emptyCluster, exampleOnlyCluster, h100Cluster, mixedCluster } from "../../test/support/cel-testdata.ts";

function select(expr: string, cluster: ClusterFactsInput) {
  const c = compileSelector(expr);
  if (!c.ok) throw new Error(`does not compile: ${c.error.message}`);
  return evaluateSelector(c.program, cluster);
}

const NV = `device.driver == "gpu.nvidia.com"`;
const H100 = `device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100")`;

describe("selector forms", () => {
  const cases: { expr: string; cluster: ClusterFactsInput; want: boolean; reason: string }[] = [
    { expr: `cluster.devices.exists(device, ${NV} && ${H100})`, cluster: h100Cluster, want: true, reason: "productName match on an H100 cluster" },
    { expr: `cluster.devices.exists(device, ${NV} && ${H100})`, cluster: a100Cluster, want: false, reason: "productName does not match A100 slices" },
    { expr: `cluster.devices.exists(device, ${NV} && ${H100})`, cluster: emptyCluster, want: false, reason: "a cluster without devices" },
    { expr: `cluster.devices.exists(device, ${NV} && ${H100})`, cluster: mixedCluster, want: true, reason: "the driver guard skips the non-NVIDIA device" },
    {
      expr: `cluster.devices.exists(device, ${NV} && device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("80G")) >= 0)`,
      cluster: h100Cluster,
      want: true,
      reason: "81559Mi is at least 80G",
    },
    {
      expr: `cluster.devices.exists(device, ${NV} && device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("80Gi")) >= 0)`,
      cluster: h100Cluster,
      want: false,
      reason: "the trap: 81559Mi is less than 80Gi",
    },
    {
      expr: `cluster.devices.exists(device, ${NV} && device.capacity["gpu.nvidia.com"].memory.isLessThan(quantity("80Gi")))`,
      cluster: h100Cluster,
      want: true,
      reason: "isLessThan states the trap directly",
    },
    {
      expr: `cluster.devices.exists(device, ${NV} && device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan(semver("570.0.0")))`,
      cluster: h100Cluster,
      want: true,
      reason: "580.126.20 > 570.0.0 as versions",
    },
    {
      expr: `cluster.devices.exists(device, ${NV} && device.attributes["gpu.nvidia.com"].driverVersion.compareTo(semver("580.126.3")) > 0)`,
      cluster: h100Cluster,
      want: true,
      reason: "126.20 > 126.3 numerically, though not as strings",
    },
    {
      expr: `cluster.devices.exists(device, ${NV} && device.attributes["gpu.nvidia.com"].driverVersion.isLessThan(semver("v580.100", true)))`,
      cluster: a100Cluster,
      want: true,
      reason: "580.95.5 < 580.100.0 with a normalized literal",
    },
    {
      expr: `cluster.devices.exists(device, ${NV} && device.attributes["gpu.nvidia.com"].cudaComputeCapability.major() >= 9)`,
      cluster: a100Cluster,
      want: false,
      reason: "semver major(): Ampere is 8",
    },
    {
      expr: `cluster.devices.exists(device, cel.bind(gpu, device.attributes["gpu.nvidia.com"], gpu.?architecture.orValue("") == "Ampere" && gpu.cudaComputeCapability.compareTo(semver("8.0.0")) >= 0))`,
      cluster: a100Cluster,
      want: true,
      reason: "cel.bind names the domain map once",
    },
    {
      expr: `cluster.devices.exists(device, device.attributes["gpu.nvidia.com"].?productName.orValue("").startsWith("NVIDIA H100"))`,
      cluster: mixedCluster,
      want: true,
      reason: "optional access reads a missing attribute as absent, no error",
    },
    {
      expr: `cluster.devices.all(device, device.attributes["gpu.nvidia.com"].?productName.hasValue())`,
      cluster: exampleOnlyCluster,
      want: false,
      reason: "a domain the device lacks reads as an empty map",
    },
    {
      expr: `cluster.devices.exists(device, size(device.attributes["gpu.nvidia.com"]) == 0)`,
      cluster: exampleOnlyCluster,
      want: true,
      reason: "the empty domain map has size 0",
    },
    {
      expr: `cluster.devices.exists(device, "productName" in device.attributes["gpu.nvidia.com"])`,
      cluster: h100Cluster,
      want: true,
      reason: "unqualified attribute names land in the driver's domain",
    },
    {
      expr: `cluster.pools.exists(pool, pool.devices.filter(device, device.attributes["resource.kubernetes.io"].?pcieRoot.orValue("") == "pci0000:10").size() >= 4)`,
      cluster: h100Cluster,
      want: true,
      reason: "resource.kubernetes.io/pcieRoot lives under its own domain: 4 GPUs share a PCIe root",
    },
    {
      expr: `cluster.devices.exists(device, device.attributes["ext.example.com"].family == "x-series" && device.attributes["dra.example.com"].healthy && device.attributes["dra.example.com"].numaNode == 0)`,
      cluster: exampleOnlyCluster,
      want: true,
      reason: "third-party domain, bool and int attributes",
    },
    {
      expr: `cluster.devices.exists(device, device.capacity["dra.example.com"].memory == quantity("65536Mi"))`,
      cluster: exampleOnlyCluster,
      want: true,
      reason: "Quantity equality compares values, not text",
    },
    { expr: `cluster.labels["region"] == "us-east1"`, cluster: h100Cluster, want: true, reason: "a label" },
    { expr: `cluster.labels[?"zone"].orValue("none") == "none"`, cluster: h100Cluster, want: true, reason: "an absent label via optional index" },
    { expr: `"tier" in cluster.labels && cluster.labels.tier == "prod"`, cluster: h100Cluster, want: true, reason: "label membership and field-style access" },
    { expr: `cluster.name.matches("^h100-[a-z]+$")`, cluster: h100Cluster, want: true, reason: "regex on the cluster name" },
    {
      expr: `cluster.labels["region"] == "us-east1" &&\n  cluster.devices.filter(device, ${NV} &&\n    ${H100}).size() >= 16`,
      cluster: h100Cluster,
      want: true,
      reason: "the reference example: 16 H100s in us-east1",
    },
    {
      expr: `cluster.pools.exists(pool, pool.nodeName != "" && pool.devices.filter(device, ${NV} && ${H100}).size() == 8)`,
      cluster: h100Cluster,
      want: true,
      reason: "a single node with 8 H100s (tensor parallel within a node)",
    },
    {
      expr: `cluster.pools.exists(pool, pool.nodeName == "" && pool.driver == "dra.example.com")`,
      cluster: mixedCluster,
      want: true,
      reason: "a pool that is not node-local has an empty nodeName",
    },
    { expr: `cluster.devices.exists(device, device.pool == "rack-a")`, cluster: mixedCluster, want: true, reason: "devices know their pool" },
    {
      expr: `sets.contains(cluster.devices.map(device, device.driver), ["gpu.nvidia.com", "dra.example.com"])`,
      cluster: mixedCluster,
      want: true,
      reason: "sets.contains over device drivers",
    },
    { expr: `cluster.devices.map(device, device.name).indexOf("gpu-1") >= 0`, cluster: h100Cluster, want: true, reason: "lists indexOf" },
    {
      expr: `quantity("1.5Gi").add(quantity("512Mi")) == quantity("2Gi") && quantity("1k").sub(24).sign() == 1`,
      cluster: emptyCluster,
      want: true,
      reason: "quantity add/sub",
    },
    {
      expr: `isQuantity("80Gi") && !isQuantity("80GB") && isSemver("1.2.3") && !isSemver("v1.2.3")`,
      cluster: emptyCluster,
      want: true,
      reason: "isQuantity/isSemver",
    },
    {
      expr: `quantity("1500m").asApproximateFloat() == 1.5 && quantity("2Ki").asInteger() == 2048 && !quantity("1500m").isInteger()`,
      cluster: emptyCluster,
      want: true,
      reason: "quantity conversions",
    },
  ];
  it.each(cases)("$reason", ({ expr, cluster, want }) => {
    expect(select(expr, cluster)).toMatchObject({ ok: true, value: want });
  });
});

describe("DRA selectors pasted inside cluster.devices.exists(device, ...)", () => {
  // Verbatim from a DeviceClass and ResourceClaim(Template)s (docs/cel.md, "Pasting a DRA selector").
  const deviceClass = `device.driver == 'gpu.nvidia.com' && device.attributes['gpu.nvidia.com'].type == 'gpu'`;
  const h100Request = `device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100") &&
device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("80G")) >= 0 &&
device.attributes["gpu.nvidia.com"].driverVersion.isGreaterThan(semver("570.0.0"))`;
  const hopper = `device.attributes["gpu.nvidia.com"].architecture == "Hopper"`;
  const ampere = `cel.bind(gpu, device.attributes["gpu.nvidia.com"],
  gpu.architecture == "Ampere" &&
  gpu.cudaComputeCapability.compareTo(semver("8.0.0")) >= 0)`;
  const paste = (...sels: string[]) => `cluster.devices.exists(device, ${sels.map((s) => `(${s})`).join(" && ")})`;

  const cases: { expr: string; cluster: ClusterFactsInput; want: boolean; reason: string }[] = [
    { expr: paste(deviceClass), cluster: h100Cluster, want: true, reason: "the NVIDIA DeviceClass matches full GPUs" },
    { expr: paste(deviceClass), cluster: a100Cluster, want: false, reason: "the DeviceClass excludes MIG slices (type mig)" },
    { expr: paste(deviceClass, h100Request), cluster: h100Cluster, want: true, reason: "class && request of the h100-80g claim template" },
    {
      expr: paste(deviceClass, h100Request),
      cluster: mixedCluster,
      want: true,
      reason: "class first, as Kubernetes does, so the request never sees the foreign device",
    },
    { expr: paste(deviceClass, h100Request), cluster: a100Cluster, want: false, reason: "no H100 on an A100 node" },
    { expr: paste(deviceClass, hopper), cluster: h100Cluster, want: true, reason: "firstAvailable alternative h100" },
    { expr: paste(ampere), cluster: a100Cluster, want: true, reason: "firstAvailable alternative a100 (cel.bind)" },
    { expr: `${paste(deviceClass, hopper)} || ${paste(ampere)}`, cluster: a100Cluster, want: true, reason: "both alternatives: firstAvailable as ||" },
  ];
  it.each(cases)("$reason", ({ expr, cluster, want }) => {
    expect(select(expr, cluster)).toMatchObject({ ok: true, value: want });
  });

  it("a request selector pasted without its class errors on a device of another driver: not selected, with the reason", () => {
    // As in Kubernetes, where a CEL runtime error on a device fails the allocation.
    const r = select(paste(h100Request), exampleOnlyCluster);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("Evaluation");
    // Both sides of && fail on that device; CEL reports one of them, with its position.
    expect(r.error.message).toMatch(/No such key: (productName|driverVersion)/);
    expect(r.error.position).toBeDefined();
  });
});

describe("failure modes", () => {
  const compileFailures: { expr: string; kind: string; contains: string; line?: number; column?: number; reason: string }[] = [
    { expr: `cluster.name == "a" &&`, kind: "Syntax", contains: "^", line: 1, column: 23, reason: "syntax: a dangling operator, pointed at" },
    { expr: `cluster.devices.exists(d,\n  d.name == "x" ))`, kind: "Syntax", contains: "line 2", line: 2, reason: "syntax on the second line" },
    { expr: `cluster.labels == 3`, kind: "Type", contains: "no such overload", line: 1, column: 1, reason: "type: comparing a map with an int" },
    { expr: `cluster.nmae == "x"`, kind: "Type", contains: "No such key: nmae", line: 1, column: 9, reason: "type: a misspelt field" },
    { expr: `quantity("1Gi") < quantity("2Gi")`, kind: "Type", contains: "no such overload", reason: "no ordering operators on Quantity, as in Kubernetes" },
    { expr: `device.driver == "x"`, kind: "Type", contains: "device", reason: "device exists only inside a macro" },
    { expr: `cluster.name`, kind: "Type", contains: "must evaluate to bool", reason: "non-bool result (string)" },
    {
      expr: `cluster.devices[0].attributes["gpu.nvidia.com"].productName`,
      kind: "Type",
      contains: "must evaluate to bool",
      reason: "non-bool result (dyn): Kubernetes requires bool statically too",
    },
    {
      expr: `cluster.devices.all(a, cluster.devices.all(b, a.name != b.name || a.pool == b.pool))`,
      kind: "Cost",
      contains: "estimated cost",
      reason: "cost: nested loops over all devices",
    },
    {
      expr: `cluster.name.matches("(a)\\\\1")`,
      kind: "Syntax",
      contains: "invalid escape sequence",
      reason: "RE2 has no backreferences (Go: invalid escape sequence)",
    },
    { expr: `cluster.name.matches("(?=a)")`, kind: "Syntax", contains: "invalid or unsupported Perl syntax", reason: "RE2 has no lookaround" },
    {
      expr: `"x".find("[") == ""`,
      kind: "Syntax",
      contains: "missing closing ]",
      reason: "find's literal pattern is compiled up front, as Kubernetes' FindRegexOptimization does",
    },
    { expr: `cluster.name == "${"x".repeat(10 * 1024)}"`, kind: "Limit", contains: "more than the 10240", reason: "too long" },
    { expr: `${"(".repeat(40)}true${")".repeat(40)}`, kind: "Limit", contains: "maxDepth", reason: "too deep" },
    { expr: `   `, kind: "Syntax", contains: "empty", reason: "empty" },
  ];
  it.each(compileFailures)("$reason", ({ expr, kind, contains, line, column }) => {
    const c = compileSelector(expr);
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.error.kind).toBe(kind);
    expect(c.error.message).toContain(contains);
    if (line !== undefined) expect(c.error.position?.line).toBe(line);
    if (column !== undefined) expect(c.error.position?.column).toBe(column);
  });

  it("a type error quotes the line with a caret under the mistake", () => {
    const c = compileSelector(`cluster.labels["region"] == "x" && cluster.nmae == "y"`);
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.error.message).toBe(
      `No such key: nmae\n  at line 1, column 44:\n    cluster.labels["region"] == "x" && cluster.nmae == "y"\n${" ".repeat(4 + 43)}^`,
    );
  });

  const evalFailures: { expr: string; cluster: ClusterFactsInput; contains: string; reason: string }[] = [
    { expr: `cluster.labels["zone"] == "a"`, cluster: h100Cluster, contains: "No such key: zone", reason: "missing label key" },
    {
      expr: `cluster.devices.exists(device, device.attributes["gpu.nvidia.com"].productName == "x")`,
      cluster: exampleOnlyCluster,
      contains: "No such key: productName",
      reason: "missing attribute in a domain the device lacks",
    },
    { expr: `cluster.devices[0].name == "x"`, cluster: emptyCluster, contains: "index out of bounds", reason: "index past the end" },
    { expr: `quantity(cluster.name).sign() == 1`, cluster: h100Cluster, contains: "invalid quantity", reason: "quantity() on a bad string" },
    { expr: `quantity("1500m").asInteger() == 1`, cluster: emptyCluster, contains: "cannot convert quantity 1500m", reason: "asInteger of a fraction" },
    { expr: `semver(cluster.name).major() == 1`, cluster: h100Cluster, contains: "invalid semver", reason: "semver() on a bad string" },
  ];
  it.each(evalFailures)("evaluation: $reason", ({ expr, cluster, contains }) => {
    const r = select(expr, cluster);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("Evaluation");
    expect(r.error.message).toContain(contains);
    expect(r.error.position).toBeDefined();
  });

  it("all() over a device that lacks the domain is an error, not false: absence is never silently a match", () => {
    const r = select(`cluster.devices.all(device, device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA"))`, mixedCluster);
    expect(r.ok).toBe(false);
  });

  it("exists() is true when one device matches even if another errors (CEL's error absorption)", () => {
    const r = select(`cluster.devices.exists(device, device.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))`, mixedCluster);
    expect(r).toMatchObject({ ok: true, value: true });
  });

  it("invalid cluster facts are an Input error naming the field", () => {
    const c = compileSelector(`true`);
    if (!c.ok) throw new Error(c.error.message);
    const r = evaluateSelector(c.program, { name: "x", pools: [{ name: "p", devices: [{ name: "d", attributes: { a: { string: "s", int: 1 } } }] }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe("Input");
    expect(r.error.message).toContain("pools.0.devices.0.attributes.a");
  });
});

describe("compile cache", () => {
  it("returns the same compiled program for the same text", () => {
    const a = compileSelector(`cluster.labels["region"] == "cache-test"`);
    const b = compileSelector(`cluster.labels["region"] == "cache-test"`);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.program).toBe(a.program);
  });

  it("compiles different text separately", () => {
    const a = compileSelector(`cluster.labels["region"] == "one"`);
    const b = compileSelector(`cluster.labels["region"] == "two"`);
    if (!a.ok || !b.ok) throw new Error("should compile");
    expect(b.program).not.toBe(a.program);
  });

  it("a program evaluates the same against a converted cluster and against its facts", () => {
    const c = compileSelector(`cluster.devices.size() == 16`);
    const cel = toCelCluster(h100Cluster);
    if (!c.ok || !cel.ok) throw new Error("setup");
    expect(evaluateSelector(c.program, cel.cluster)).toMatchObject({ ok: true, value: true });
    expect(evaluateSelector(c.program, h100Cluster)).toMatchObject({ ok: true, value: true });
  });
});
