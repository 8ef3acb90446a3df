// The hydrator's command line: sizes, defaults, and usage errors that exit 2
// (the Job's podFailurePolicy fails the Job at once on them) naming the flag.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { parseHydrateArgs, parseSize, parseVerifyArgs, runHydrateCli, runVerifyCli, type HydrateInvocation } from "./cli.ts";
import { EXIT } from "./hydrate.ts";

describe("parseSize", () => {
  const cases: [input: string, want: number | undefined, reason: string][] = [
    ["1048576", 1048576, "plain bytes"],
    ["0", 0, "zero parses (the caller enforces a minimum)"],
    ["512b", 512, "an explicit byte unit"],
    ["16Mi", 16 * 1024 ** 2, "the documented default's spelling"],
    ["16MiB", 16 * 1024 ** 2, "with a trailing B"],
    ["64Ki", 64 * 1024, "kibibytes"],
    ["1Gi", 1024 ** 3, "gibibytes"],
    ["1G", 1e9, "decimal giga"],
    ["16MB", 16e6, "decimal with a trailing B, as people write it"],
    ["100kB", 100e3, "kilo with a trailing B"],
    ["16mi", 16 * 1024 ** 2, "case-insensitive"],
    [" 16 Mi ", 16 * 1024 ** 2, "surrounding and inner whitespace"],
    ["1.5Gi", undefined, "fractions are refused rather than truncated"],
    ["-1", undefined, "negative"],
    ["16Ti", undefined, "an unsupported unit"],
    ["Mi", undefined, "a unit without a number"],
    ["", undefined, "empty"],
    ["16 Mi B x", undefined, "trailing garbage"],
  ];
  it.each(cases)("%j -> %s (%s)", (input, want, _reason) => {
    expect(parseSize(input)).toBe(want);
  });
});

const work = mkdtempSync(join(tmpdir(), "cli-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const jsonFile = (name: string, content: string): string => {
  const p = join(work, name);
  writeFileSync(p, content);
  return p;
};

async function run(args: string[], env: Record<string, string | undefined> = {}): Promise<HydrateInvocation> {
  const r = await parseHydrateArgs(args, env);
  if (r.kind !== "run") throw new Error(`expected a run, got ${JSON.stringify(r)}`);
  return r.value;
}

describe("parseHydrateArgs accepts", () => {
  it("a file:// source with the documented defaults", async () => {
    const v = await run(["--source", "file:///src", "--dest", "/cache", "--termination-log", "/tmp/tl"]);
    expect(v).toMatchObject({ dest: "/cache", layout: "Flat", include: [], exclude: [], concurrency: 8, chunkSize: 16 * 1024 ** 2, stallTimeoutMs: 60_000 });
    expect(v.common.progress).toBe("auto");
    expect(v.created.reference).toBe("file:///src");
    expect(v.pins).toBeUndefined();
  });

  it("an empty --sha256, which the Job passes for an unpinned URL, as no pin", async () => {
    const v = await run(["--source", "https://example.com/m.gguf", "--sha256", "", "--dest", "/cache"]);
    expect(v.pins).toBeUndefined();
  });

  it("a pinned URL, whose pin becomes part of the request fingerprint", async () => {
    const a = await run(["--source", "https://example.com/m.gguf", "--sha256", "a".repeat(64), "--dest", "/cache"]);
    const b = await run(["--source", "https://example.com/m.gguf", "--sha256", "b".repeat(64), "--dest", "/cache"]);
    expect(a.pins).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.pins).not.toBe(b.pins);
  });

  it("repeated --include/--exclude, in order, and every option the Job passes", async () => {
    const v = await run([
      "--source",
      "hf://Qwen/Qwen3-8B@main",
      "--include",
      "*.json",
      "--include",
      "*.safetensors",
      "--exclude",
      "original/",
      "--endpoint",
      "https://hub.internal",
      "--dest",
      "/cache",
      "--layout",
      "HuggingFaceCache",
      "--concurrency",
      "64",
      "--progress",
      "json",
      "--expect-manifest-digest",
      `sha256:${"0".repeat(64)}`,
      "--report-configmap",
      "model-cache/qwen3-8b-h1-report",
      "--termination-log",
      "/dev/termination-log",
    ]);
    expect(v).toMatchObject({
      layout: "HuggingFaceCache",
      include: ["*.json", "*.safetensors"],
      exclude: ["original/"],
      concurrency: 64,
      expectDigest: `sha256:${"0".repeat(64)}`,
    });
    expect(v.common).toEqual({
      progress: "json",
      output: "auto",
      reportTarget: { namespace: "model-cache", name: "qwen3-8b-h1-report" },
      terminationLog: "/dev/termination-log",
    });
  });

  it("--plain-http for an oci:// source (a registry without TLS, as the API's oci.insecure asks)", async () => {
    const v = await run(["--source", "oci://registry.internal:5000/models/q:v1", "--plain-http", "--dest", "/cache"]);
    expect(v.created.reference).toBe("oci://registry.internal:5000/models/q:v1");
  });

  it("an HTTP file list from a JSON file", async () => {
    const files = jsonFile("files.json", JSON.stringify([{ url: "https://example.com/a.json", path: "a.json", sha256: "c".repeat(64) }]));
    const v = await run(["--files", files, "--dest", "/cache"]);
    expect(v.pins).toMatch(/^sha256:/);
  });

  it("credentials only from the environment, never printed in the reference", async () => {
    const v = await run(["--source", "https://user:hunter2@example.com/m.gguf?sig=abc", "--sha256", "d".repeat(64), "--dest", "/cache"]);
    expect(v.created.reference).not.toContain("hunter2");
    expect(v.created.reference).not.toContain("sig=abc");
  });
});

describe("parseHydrateArgs refuses, naming the flag", () => {
  const base = ["--source", "file:///src", "--dest", "/cache"];
  const cases: [args: () => string[], flag: string, reason: string][] = [
    [() => ["--source", "file:///src"], "--dest", "no destination"],
    [() => [...base.slice(0, 2), "--dest", ""], "--dest", "an empty destination"],
    [() => [...base, "--layout", "Nested"], "--layout", "an unknown layout"],
    [() => [...base, "--layout", "flat"], "--layout", "layouts are case-sensitive, as in the API"],
    [() => [...base, "--concurrency", "0"], "--concurrency", "zero workers"],
    [() => [...base, "--concurrency", "257"], "--concurrency", "above the bound"],
    [() => [...base, "--concurrency", "1.5"], "--concurrency", "not an integer"],
    [() => [...base, "--concurrency", "many"], "--concurrency", "not a number"],
    [() => [...base, "--concurrency"], "--concurrency", "a missing value"],
    [() => [...base, "--chunk-size", "1Ki"], "--chunk-size", "below the 64Ki floor"],
    [() => [...base, "--chunk-size", "big"], "--chunk-size", "not a size"],
    [() => [...base, "--stall-timeout", "0"], "--stall-timeout", "zero"],
    [() => [...base, "--stall-timeout", "-5"], "--stall-timeout", "negative"],
    [() => [...base, "--stall-timeout", "soon"], "--stall-timeout", "not a number"],
    [() => [...base, "--stall-timeout", "Infinity"], "--stall-timeout", "Node's timers would fire after 1 ms"],
    [() => [...base, "--stall-timeout", "3000000"], "--stall-timeout", "beyond 2^31-1 ms, same"],
    [() => [...base, "--expect-manifest-digest", "sha256:abc"], "--expect-manifest-digest", "a short digest"],
    [() => [...base, "--expect-manifest-digest", `md5:${"0".repeat(64)}`], "--expect-manifest-digest", "another algorithm"],
    [() => ["--source", "https://example.com/x", "--sha256", "xyz", "--dest", "/cache"], "--sha256", "not hex"],
    [() => ["--source", "hf://Qwen/Qwen3-8B", "--sha256", "a".repeat(64), "--dest", "/cache"], "--sha256", "a pin on a source that is not one URL"],
    [() => [...base, "--progress", "loud"], "--progress", "an unknown progress mode"],
    [() => [...base, "--output", "yaml"], "--output", "an unknown output mode"],
    [() => [...base, "--attempts", "0"], "--attempts", "no attempt at all"],
    [() => [...base, "--attempts", "many"], "--attempts", "not a number"],
    [() => [...base, "--ca-file", join(work, "no-ca.pem")], "--ca-file", "a CA file that does not exist"],
    [() => [...base, "--ca-file", jsonFile("not-pem.pem", "hello")], "--ca-file", "a CA file without a PEM certificate"],
    [
      () => [...base, "--ca-file", jsonFile("bad-pem.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")],
      "--ca-file",
      "a PEM block that is not a certificate",
    ],
    [() => ["--source", "https://example.com/models/qwen/", "--dest", "/cache"], "--files", "a directory URL: the fix is a file list"],
    [() => [...base, "--plain-http"], "--plain-http", "plain HTTP is for oci:// only"],
    [() => [...base, "--s3-region", "eu-west-1"], "--s3-region", "a kind's own flag with another kind's source"],
    [() => [...base, "--s3-path-style"], "--s3-path-style", "a kind's own switch with another kind's source"],
    [
      () => ["--files", jsonFile("plain.json", '[{"url":"http://e.com/a","path":"a"}]'), "--dest", "/cache", "--plain-http"],
      "--plain-http",
      "not for a file list either",
    ],
    [() => [...base, "--report-configmap", "just-a-name"], "--report-configmap", "no namespace"],
    [() => [...base, "--report-configmap", "NS/Name"], "--report-configmap", "not DNS names"],
    [() => [...base, "--token", "hf_abc"], "--token", "no flag takes a credential"],
    [() => ["--dest", "/cache"], "--source", "no source at all"],
    [() => [...base, "--inline", jsonFile("one.json", '[{"path":"a","content":"b"}]')], "--source", "two sources"],
    [() => ["--source", "ftp://example.com/x", "--dest", "/cache"], "--source", "an unsupported scheme"],
    [() => ["--source", "hf://not..valid", "--dest", "/cache"], "--source", "an invalid repo id"],
    [() => ["--source", "s3://", "--dest", "/cache"], "--source", "an S3 URI without a bucket"],
    [() => ["--source", "oci://registry.example.com", "--dest", "/cache"], "--source", "an OCI reference without a repository"],
    [() => ["--files", join(work, "does-not-exist.json"), "--dest", "/cache"], "--files", "a missing file list"],
    [() => ["--files", jsonFile("bad.json", "{not json"), "--dest", "/cache"], "--files", "a file list that is not JSON"],
    [() => ["--files", jsonFile("shape.json", '[{"path":"a"}]'), "--dest", "/cache"], "--files", "an entry without a URL"],
    [() => ["--files", jsonFile("escape.json", '[{"url":"https://e.com/a","path":"../a"}]'), "--dest", "/cache"], "--files", "a path escaping the destination"],
    [() => ["--inline", jsonFile("empty.json", "[]"), "--dest", "/cache"], "--inline", "no inline files"],
    [() => ["--inline", jsonFile("abs.json", '[{"path":"/etc/x","content":"y"}]'), "--dest", "/cache"], "--inline", "an absolute inline path"],
  ];
  it.each(cases.map(([args, flag, reason]) => [reason, flag, args] as const))("%s: names %s", async (_reason, flag, args) => {
    const r = await parseHydrateArgs(args(), {});
    expect(r.kind).toBe("usage");
    if (r.kind === "usage") expect(r.error).toContain(flag);
  });

  it("refuses a stray positional argument, naming it", async () => {
    const r = await parseHydrateArgs(["--source", "file:///src", "--dest", "/cache", "extra"], {});
    expect(r).toMatchObject({ kind: "usage" });
    if (r.kind === "usage") expect(r.error).toContain("extra");
  });

  it("answers --help with help, not a usage error", async () => {
    expect(await parseHydrateArgs(["--help"], {})).toEqual({ kind: "help" });
    expect(await parseHydrateArgs(["-h"], {})).toEqual({ kind: "help" });
  });
});

describe("parseVerifyArgs", () => {
  it("accepts the verify-only Job's argument list", () => {
    const r = parseVerifyArgs([
      "/cache",
      "--expect-manifest-digest",
      `sha256:${"1".repeat(64)}`,
      "--report-configmap",
      "ns/r",
      "--termination-log",
      "/dev/termination-log",
    ]);
    expect(r).toEqual({
      kind: "run",
      value: {
        dir: "/cache",
        expectDigest: `sha256:${"1".repeat(64)}`,
        common: { progress: "auto", output: "auto", reportTarget: { namespace: "ns", name: "r" }, terminationLog: "/dev/termination-log" },
      },
    });
  });
  const cases: [args: string[], names: string, reason: string][] = [
    [[], "directory", "no directory"],
    [["/a", "/b"], "directory", "two directories"],
    [["/cache", "--expect-manifest-digest", "sha256:xyz"], "--expect-manifest-digest", "a bad digest"],
    [["/cache", "--progress", "loud"], "--progress", "a bad progress mode"],
    [["/cache", "--report-configmap", "x"], "--report-configmap", "no namespace"],
    [["/cache", "--refresh"], "--refresh", "a hydrate-only flag"],
  ];
  it.each(cases)("refuses %j, naming %s (%s)", (args, names, _reason) => {
    const r = parseVerifyArgs(args);
    expect(r.kind).toBe("usage");
    if (r.kind === "usage") expect(r.error).toContain(names);
  });
});

describe("runHydrateCli / runVerifyCli on bad usage", () => {
  afterEach(() => vi.restoreAllMocks());

  const stderrOf = async (f: () => Promise<number>): Promise<{ code: number; stderr: string; stdout: string }> => {
    let stderr = "";
    let stdout = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    const code = await f();
    return { code, stderr, stdout };
  };

  it("exits 2 with the flag in one line and a pointer to --help (not a page of usage), and prints no report on stdout", async () => {
    const r = await stderrOf(() => runHydrateCli(["--source", "file:///src", "--dest", "/cache", "--concurrency", "0"]));
    expect(r.code).toBe(EXIT.usage);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'function-model-cache hydrate: --concurrency must be an integer from 1 to 256\nRun "function-model-cache hydrate --help" for the flags.\n',
    );
    expect(r.stdout).toBe("");
  });

  it("verify exits 2 the same way", async () => {
    const r = await stderrOf(() => runVerifyCli([]));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('function-model-cache verify: give exactly one directory\nRun "function-model-cache verify --help" for the flags.\n');
  });

  it("--help exits 0 with the usage on stdout", async () => {
    const r = await stderrOf(() => runHydrateCli(["--help"]));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--report-configmap");
  });
});
