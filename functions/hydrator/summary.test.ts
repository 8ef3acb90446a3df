// The summary a person reads on a terminal: what, from where, how much, how
// fast, the digest, where, and the one command that checks it again.
import { describe, expect, it } from "vitest";
import type { Manifest } from "./manifest.ts";
import { fmtDuration, hydrateSummary, resolveOutput, shellQuote, verifyCommand, verifyProblems, verifySummary } from "./summary.ts";

const digest = `sha256:${"ab".repeat(32)}`;
const manifest: Manifest = {
  schema: "modelcache.dev/manifest/v1",
  digest,
  source: "hf://Qwen/Qwen3-0.6B@main",
  identity: {
    kind: "huggingFace",
    resolved: "c1899de289a04d12100db370d81485cdf75e47ca",
    huggingFace: { repo: "Qwen/Qwen3-0.6B", commit: "c1899de289a04d12100db370d81485cdf75e47ca" },
  },
  layout: "Flat",
  files: [
    { path: "config.json", size: 726, sha256: "1".repeat(64) },
    { path: "model.safetensors", size: 1_503_300_328, sha256: "2".repeat(64) },
  ],
  totalBytes: 1_503_301_054,
  request: { source: "hf://Qwen/Qwen3-0.6B@main", layout: "Flat", include: [], exclude: [] },
  createdAt: "2026-12-03T06:00:00.000Z",
  tool: "function-model-cache 0.1.0",
} as Manifest;

describe("resolveOutput", () => {
  const cases: [mode: "auto" | "human" | "json", tty: boolean, want: "human" | "json", reason: string][] = [
    ["auto", true, "human", "a person at a terminal"],
    ["auto", false, "json", "a pipe, a file, the Job's log: the machine-readable report"],
    ["json", true, "json", "asked for, even on a terminal"],
    ["human", false, "human", "asked for, even into a pipe"],
  ];
  it.each(cases)("%s with a TTY %s -> %s (%s)", (mode, tty, want) => expect(resolveOutput(mode, tty)).toBe(want));
});

describe("fmtDuration", () => {
  const cases: [number, string][] = [
    [0.25, "250 ms"],
    [3.14, "3.1 s"],
    [151, "2 min 31 s"],
    [7322, "2 h 2 min"],
  ];
  it.each(cases)("%s s -> %s", (s, want) => expect(fmtDuration(s)).toBe(want));
});

describe("shellQuote", () => {
  it("leaves plain paths alone and quotes the rest so a pasted command works", () => {
    expect(shellQuote("/mnt/usb/models/qwen3")).toBe("/mnt/usb/models/qwen3");
    expect(shellQuote("/mnt/My Drive/it's")).toBe(`'/mnt/My Drive/it'\\''s'`);
  });
});

describe("hydrateSummary", () => {
  it("says what, from where, how much, how fast, the digest, and the command to verify", () => {
    expect(hydrateSummary({ manifest, dest: "/mnt/usb/qwen3", reused: false, bytesFetched: 1_503_301_054, fetchSeconds: 14.2 })).toBe(
      [
        "Published: 2 files, 1.4 GiB in /mnt/usb/qwen3",
        "  from      hf://Qwen/Qwen3-0.6B@main (c1899de289a04d12100db370d81485cdf75e47ca)",
        "  fetched   1.4 GiB in 14.2 s (101.0 MiB/s)",
        `  digest    ${digest}`,
        "  layout    Flat, with SHA256SUMS (sha256sum -c SHA256SUMS checks it too)",
        "Check it again, anywhere (no network):",
        `  function-model-cache verify /mnt/usb/qwen3 --expect-manifest-digest ${digest}`,
        "",
      ].join("\n"),
    );
  });

  it("a no-op re-run says nothing was fetched and gives no throughput", () => {
    const s = hydrateSummary({ manifest, dest: "/mnt/usb/qwen3", reused: true, bytesFetched: 0, fetchSeconds: 0 });
    expect(s).toContain("Already published: 2 files");
    expect(s).toContain("  fetched   nothing: the directory already holds this artifact, verified again locally\n");
    expect(s).not.toMatch(/\/s\)/);
  });

  it("a run that only adopted or resumed says so", () => {
    expect(hydrateSummary({ manifest, dest: "/d", reused: false, bytesFetched: 0, fetchSeconds: 0.1 })).toContain(
      "fetched   nothing: every file was already in place or staged by an earlier run",
    );
  });
});

describe("verify", () => {
  it("summarises a verified directory", () => {
    expect(verifySummary("/mnt/usb/qwen3", manifest)).toBe(
      `Verified: 2 files, 1.4 GiB in /mnt/usb/qwen3, every byte\n  from      hf://Qwen/Qwen3-0.6B@main (c1899de289a04d12100db370d81485cdf75e47ca)\n  digest    ${digest}\n`,
    );
  });

  it("lists problems one a line, the rest counted", () => {
    expect(verifyProblems("/d", ["a: missing", "b: missing", "c: missing"], 2)).toBe("/d does not verify:\n  - a: missing\n  - b: missing\n  … and 1 more\n");
  });

  it("the verify command is absolute and quoted", () => {
    expect(verifyCommand("/tmp/a b", digest)).toBe(`function-model-cache verify '/tmp/a b' --expect-manifest-digest ${digest}`);
  });
});
