// The air-gap flow of docs/hydrator.md ("Air gap"), the seeds' workstation
// seeding procedure with the hydrator at both ends: the guide's commands run
// as written (bash, the real CLI on PATH as the README puts it there), against
// the hub stand-in (HF_ENDPOINT), then a corrupted bundle caught on the far
// side. With FMC_WRITE_CAPTURE=1 it also runs the steps on a pseudo-terminal
// (util-linux `script`) and writes the text capture into the guide.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Manifest } from "../../functions/hydrator/manifest.ts";
import { startHubStandin, type HubStandin } from "../support/hf-hub-standin.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const GUIDE = join(ROOT, "docs", "hydrator.md");
const REPO = "Qwen/Qwen3-0.6B";
const files: Record<string, Buffer> = {
  "config.json": Buffer.from('{"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3"}\n'),
  "generation_config.json": Buffer.from('{"temperature":0.6}\n'),
  "model.safetensors": randomBytes(3 * 1024 * 1024 + 11),
  "tokenizer.json": Buffer.from('{"version":"1.0"}\n'),
  "tokenizer_config.json": Buffer.from('{"model_max_length":40960}\n'),
  LICENSE: Buffer.from("Apache-2.0\n"),
  "README.md": Buffer.from("# Qwen3-0.6B\n"),
};
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

let hub: HubStandin;
let commit: string;
const work = mkdtempSync(join(tmpdir(), "fmc-air-gap-"));
beforeAll(async () => {
  hub = await startHubStandin();
  ({ commit } = hub.addRepo(
    REPO,
    Object.entries(files).map(([path, content]) => ({ path, content })),
  ));
});
afterAll(async () => {
  await hub?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The guide's air-gap commands: the fenced block after its marker. */
function guideSteps(): string {
  const text = readFileSync(GUIDE, "utf8");
  const at = text.indexOf("<!-- air-gap:");
  expect(at, "docs/hydrator.md marks its air-gap commands").toBeGreaterThan(-1);
  return /```sh\n([\s\S]*?)```/.exec(text.slice(at))?.[1] ?? "";
}

let seq = 0;
function dirs(): { BUILD: string; USB: string; STORE: string } {
  const base = join(work, `run${++seq}`);
  return { BUILD: join(base, "build"), USB: join(base, "usb"), STORE: join(base, "store") };
}

/** bash -c `script`, the command on PATH as the README says (bin/), async: the hub stand-in answers in this process. */
function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", script], {
      cwd: work,
      env: { ...process.env, PATH: `${join(ROOT, "bin")}${delimiter}${process.env["PATH"] ?? ""}`, HF_ENDPOINT: hub.endpoint, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, out, err }));
  });
}

describe("the air-gap guide (docs/hydrator.md)", () => {
  it("runs as written: the bundle built, carried, verified and loaded, the same digest end to end", async () => {
    const d = dirs();
    const r = await bash(`${guideSteps()}\necho "DIGEST=$DIGEST"`, d);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    const digest = /DIGEST=(sha256:[0-9a-f]{64})/.exec(r.out)?.[1];
    expect(digest).toBeDefined();
    const built = Manifest.parse(JSON.parse(readFileSync(join(d.BUILD, "qwen3-0.6b", ".model-cache", "manifest.json"), "utf8")));
    const stored = Manifest.parse(JSON.parse(readFileSync(join(d.STORE, "qwen3-0.6b", ".model-cache", "manifest.json"), "utf8")));
    // The store's copy is the same artifact: same digest, same identity (the hub commit), its source the stick.
    expect(built.digest).toBe(digest);
    expect(stored.digest).toBe(digest);
    expect(stored.identity).toEqual({ kind: "huggingFace", resolved: commit, huggingFace: { repo: REPO, commit } });
    expect(stored.source).toBe(`file://${d.USB}/models/qwen3-0.6b`);
    for (const [p, content] of Object.entries(files)) expect(sha(readFileSync(join(d.STORE, "qwen3-0.6b", p))), p).toBe(sha(content));
    expect(stored.files.map((f) => f.path)).toEqual(Object.keys(files).sort());

    if (process.env["FMC_WRITE_CAPTURE"] === "1") writeCapture(await capture(dirs()));
  });

  it("a corrupted bundle: verify on the far side names the file (exit 3), and the load refuses it, publishing nothing", async () => {
    const d = dirs();
    const steps = guideSteps();
    // Steps 1 to 3 on the connected side, then one flipped byte on the stick.
    const upToCarry = steps.slice(0, steps.indexOf("# 4."));
    const r = await bash(`${upToCarry}\necho "$DIGEST"`, d);
    expect(r.code, r.err).toBe(0);
    const digest = r.out.trim().split("\n").at(-1) ?? "";
    const onStick = join(d.USB, "models", "qwen3-0.6b", "model.safetensors");
    const bytes = readFileSync(onStick);
    bytes[1000] = (bytes[1000] as number) ^ 0x01;
    writeFileSync(onStick, bytes);

    const verify = await bash(`function-model-cache verify "$USB/models/qwen3-0.6b" --expect-manifest-digest "${digest}" --output json`, d);
    expect(verify.code).toBe(3);
    expect(verify.err).toContain(`model.safetensors: sha256 ${sha(bytes)}, the manifest says ${sha(files["model.safetensors"] as Buffer)}`);

    const load = await bash(
      `function-model-cache hydrate --source "file://$USB/models/qwen3-0.6b" --dest "$STORE/qwen3-0.6b" --expect-manifest-digest "${digest}" --output json --progress none`,
      d,
    );
    expect(load.code).toBe(3);
    expect(load.err).toMatch(/model\.safetensors: sha256 mismatch: the source vouches for [0-9a-f]{64}, the bytes received hash to [0-9a-f]{64}/);
    expect(() => readFileSync(join(d.STORE, "qwen3-0.6b", ".model-cache", "manifest.json")), "nothing published").toThrow(/ENOENT/);
  });
});

/** The steps on a pseudo-terminal (what a person sees), each command echoed; paths shortened to the variables. */
async function capture(d: { BUILD: string; USB: string; STORE: string }): Promise<string> {
  // Each command echoed as typed, then run on a terminal (script(1)): the result is the summary a person reads.
  const lines = guideSteps().split("\n");
  // The progress bar redraws in place: left out of a text capture (--progress none), the command shown as written.
  const quiet = (l: string): string => l.replace(/^(function-model-cache (hydrate|verify) .*)$/, "$1 --progress none");
  const script = lines.map((l) => (l.trim() === "" || l.startsWith("#") ? `echo ${shq(l)}` : `printf '%s\\n' ${shq(`$ ${l}`)}; ${quiet(l)}`)).join("\n");
  writeFileSync(join(work, "capture.sh"), `set -euo pipefail\n${script}\n`);
  const r = await bash(`script -qec "bash ${join(work, "capture.sh")}" /dev/null`, d);
  expect(r.code, r.err).toBe(0);
  let text = r.out.replace(/\r/g, "");
  for (const [k, v] of Object.entries(d)) text = text.split(v).join(`$${k}`);
  return text.replace(/\n{3,}/g, "\n\n").trim();
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function writeCapture(text: string): void {
  const guide = readFileSync(GUIDE, "utf8");
  const start = guide.indexOf("A terminal run of steps 1 to 6");
  const open = guide.indexOf("\n```\n", start) + 1;
  const close = guide.indexOf("\n```", open + 4);
  writeFileSync(GUIDE, `${guide.slice(0, open + 4)}${text}${guide.slice(close)}`);
}
