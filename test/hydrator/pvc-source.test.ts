// The pvcClone source's copy, run for real: a volume the hydrator published
// (here a directory; in a Job the source claim mounted read-only) copied with
// `hydrate --source pvc://<dir>`, as the Job the function composes does. The
// copy keeps the source's identity, so it has the source's manifest digest,
// and every file is checked against the source's manifest as it is read. A
// volume without a manifest is refused (exit 3, the message the docs give);
// a source whose bytes changed under its manifest fails; a digest other than
// the one expected fails.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noManifestMessage } from "../../functions/hydrator/sources/volume.ts";
import { runCli, sha256sumCheck } from "../support/hydrator.ts";

const work = mkdtempSync(join(tmpdir(), "fmc-pvc-source-"));
const published = join(work, "published");
let digest = "";
let revision = "";

beforeAll(async () => {
  const inline = join(work, "inline.json");
  writeFileSync(
    inline,
    JSON.stringify([
      { path: "config.json", content: '{"model_type":"qwen3"}\n' },
      { path: "weights/model.safetensors", content: "x".repeat(300_000) },
    ]),
  );
  const r = await runCli(["--inline", inline, "--dest", published, "--progress", "json", "--output", "json"]);
  expect(r.code, r.stderr).toBe(0);
  digest = r.report.manifestDigest ?? "";
  revision = r.report.resolvedRevision ?? "";
  expect(digest).toMatch(/^sha256:/);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("hydrate --source pvc://", () => {
  it("copies a published volume to the same manifest digest and revision, every file checked", async () => {
    const dest = join(work, "copy");
    const r = await runCli(["--source", `pvc://${published}`, "--dest", dest, "--expect-manifest-digest", digest, "--progress", "json", "--output", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report).toMatchObject({ phase: "Ready", manifestDigest: digest, resolvedRevision: revision });
    expect(sha256sumCheck(dest)).toContain("weights/model.safetensors: OK");
    const v = await runCli(["verify", dest, "--expect-manifest-digest", digest, "--output", "json"]);
    expect(v.code).toBe(0);
  });

  it("refuses a volume without a manifest, permanently, saying how to publish one", async () => {
    const plain = join(work, "plain");
    mkdirSync(plain, { recursive: true });
    writeFileSync(join(plain, "config.json"), "{}\n");
    const r = await runCli(["--source", `pvc://${plain}`, "--dest", join(work, "plain-copy"), "--progress", "json", "--output", "json"]);
    expect(r.code).toBe(3);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toContain(noManifestMessage(plain));
  });

  it("fails when a file no longer matches the source's manifest", async () => {
    const tampered = join(work, "tampered");
    const c = await runCli(["--source", `pvc://${published}`, "--dest", tampered, "--progress", "json", "--output", "json"]);
    expect(c.code, c.stderr).toBe(0);
    appendFileSync(join(tampered, "weights", "model.safetensors"), "y");
    const r = await runCli(["--source", `pvc://${tampered}`, "--dest", join(work, "tampered-copy"), "--progress", "json", "--output", "json"]);
    expect(r.code).toBe(3);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toContain("model.safetensors");
  });

  it("fails when the source is not the digest expected (the pin)", async () => {
    const other = `sha256:${"0".repeat(64)}`;
    const r = await runCli([
      "--source",
      `pvc://${published}`,
      "--dest",
      join(work, "pinned"),
      "--expect-manifest-digest",
      other,
      "--progress",
      "json",
      "--output",
      "json",
    ]);
    expect(r.code).not.toBe(0);
    expect(r.report.phase).toBe("Failed");
    expect(r.report.message).toContain(other);
  });
});
