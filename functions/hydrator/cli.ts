// `function-model-cache hydrate` and `verify`: flags in, exit code out.
// Exit codes (the Job's podFailurePolicy relies on them, see docs/hydrator.md):
//   0 published and verified (or already there); 1 failed, worth retrying
//   (network, 5xx, 429, interrupted); 2 bad usage; 3 permanent (not found,
//   unauthorized, digest mismatch, hostile path, no space).
// Credentials are read from the environment only; no flag takes one.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DEFAULT_REFUSED_ADDRESSES, parseAddressClasses, type AddressClass } from "../api/address-classes.ts";
import { formatIssues } from "../shared/zod-issues.ts";
import { guardConnections } from "./address-guard.ts";
import { argsFromValues, parseArgsOptions, VERIFY_FLAG_KEYS, type VerifyArgs } from "./invocation.ts";
import type { Checked } from "../shared/checked.ts";
import { EXIT, hydrate } from "./hydrate.ts";
import { inClusterConfig, type ApiConfig } from "./k8s-configmap.ts";
import { Layout } from "./manifest.ts";
import { redactUri } from "./paths.ts";
import { createSink, ProgressTracker, type ProgressMode, type ProgressSink } from "./progress.ts";
import { Reporter } from "./report.ts";
import { scrub } from "./scrub.ts";
import { HttpFileList, type HttpFileSpec } from "./sources/http.ts";
import { createSource, type CreatedSource } from "./sources/index.ts";
import { InlineFileList, type InlineFile } from "./sources/inline.ts";
import { readManifest, verifyDir } from "./verify.ts";

export const HYDRATE_USAGE = `Usage: function-model-cache hydrate (--source <uri> | --files <json> | --inline <json>) --dest <dir> [flags]

Sources:
  --source hf://<org>/<repo>[@revision]   Hugging Face hub (token: HF_TOKEN; endpoint: --endpoint or HF_ENDPOINT)
  --source http(s)://host/path [--sha256 <hex>]
  --source file:///dir                    a mounted directory (ConfigMap/Secret volumes included)
  --source s3://bucket/prefix             (AWS_* credentials, --endpoint, --s3-region, --s3-path-style)
  --source oci://registry/repo:tag|@sha256:...   (REGISTRY_AUTH_FILE or DOCKER_CONFIG; --plain-http for
                                          a registry without TLS on a private network)
  --files <json>      a list of http(s) files: [{"url": "...", "path": "...", "sha256": "..."}]
  --inline <json>     inline files: [{"path": "...", "content": "...", "encoding": "utf8|base64"}]

Flags:
  --dest <dir>                        where the artifact is published (created if missing)
  --layout Flat|HuggingFaceCache      default Flat
  --include <glob>, --exclude <glob>  select files (repeatable; huggingface_hub's fnmatch rules)
  --expect-manifest-digest sha256:<hex>  refuse any other artifact
  --concurrency <n>                   parallel requests (default 8)
  --chunk-size <bytes>                ranged chunk size, e.g. 16Mi (default 16Mi)
  --stall-timeout <seconds>           abort a request idle this long (default 60)
  --progress auto|bar|json|none       default auto: a bar on a terminal, JSON lines otherwise
  --report-configmap <ns>/<name>      keep the hydration report in this ConfigMap (in-cluster)
  --termination-log <path>            default /dev/termination-log when it exists
  --refuse-addresses <classes>        never connect to these address classes, whatever name or redirect leads
                                      there: LinkLocal, Metadata, Loopback, Private, comma-separated
                                      (default LinkLocal,Metadata; "" for none)
  --refresh                           re-resolve a mutable reference (a branch, a tag, a prefix) even if the
                                      destination holds its artifact; files already in place are kept
`;

export const VERIFY_USAGE = `Usage: function-model-cache verify <dir> [--expect-manifest-digest sha256:<hex>] [--report-configmap <ns>/<name>] [--termination-log <path>] [--progress auto|bar|json|none]
`;

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** "16Mi", "16MiB", "16MB", "1G", "1048576" -> bytes. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+)\s*([kmg]i?)?b?$/i.exec(s.trim());
  if (m === null || m[1] === undefined) return undefined;
  const unit = (m[2] ?? "b").toLowerCase();
  const mult: Record<string, number> = { b: 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };
  const f = mult[unit];
  return f === undefined ? undefined : Number(m[1]) * f;
}

export interface Common {
  reportTarget?: { namespace: string; name: string };
  terminationLog?: string;
  progress: ProgressMode;
}

function usageError(usage: string, message: string): number {
  process.stderr.write(`function-model-cache: ${scrub(message)}\n\n${usage}`);
  return EXIT.usage;
}

function parseCommon(v: VerifyArgs): Checked<Common> {
  const progress = v.progress ?? "auto";
  if (!["auto", "bar", "json", "none"].includes(progress)) return { ok: false, error: `--progress must be auto, bar, json or none, not "${progress}"` };
  let reportTarget: Common["reportTarget"];
  if (v.reportConfigMap !== undefined) {
    const m = /^([a-z0-9-]{1,63})\/([a-z0-9.-]{1,253})$/.exec(v.reportConfigMap);
    if (m === null || m[1] === undefined || m[2] === undefined) return { ok: false, error: `--report-configmap must be <namespace>/<name>, not "${v.reportConfigMap}"` };
    reportTarget = { namespace: m[1], name: m[2] };
  }
  const terminationLog = v.terminationLog ?? (existsSync("/dev/termination-log") ? "/dev/termination-log" : undefined);
  return { ok: true, value: { progress: progress as ProgressMode, ...(reportTarget ? { reportTarget } : {}), ...(terminationLog ? { terminationLog } : {}) } };
}

async function makeReporter(source: string, c: Common, sink: ProgressSink): Promise<Reporter> {
  let configMap: { api: ApiConfig; namespace: string; name: string } | undefined;
  if (c.reportTarget) {
    const cfg = await inClusterConfig(process.env);
    if (cfg.ok) configMap = { api: cfg.value, ...c.reportTarget };
    else sink.notice("warning", { message: `--report-configmap: ${cfg.error}; the report goes to stdout and the termination log only` });
  }
  return new Reporter({
    source,
    ...(configMap ? { configMap } : {}),
    ...(c.terminationLog ? { terminationLog: c.terminationLog } : {}),
    warn: (message) => sink.notice("warning", { message }),
  });
}

/** SIGTERM/SIGINT abort the run cleanly: the staging area stays for a resume. */
function abortOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const ctrl = new AbortController();
  const on = (sig: NodeJS.Signals): void => ctrl.abort(new Error(`received ${sig}`));
  process.once("SIGTERM", on);
  process.once("SIGINT", on);
  return { signal: ctrl.signal, dispose: () => (process.off("SIGTERM", on), process.off("SIGINT", on)) };
}

async function readJsonFile(path: string, what: string): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  try {
    return { ok: true, value: JSON.parse(await readFile(path, "utf8")) as unknown };
  } catch (err) {
    return { ok: false, error: `${what} ${path}: ${(err as Error).message}` };
  }
}

/** What a command line asks for: its help, a usage error (exit 2), or a run. */
export type ParsedCli<T> = { kind: "help" } | { kind: "usage"; error: string } | { kind: "run"; value: T };

export interface HydrateInvocation {
  created: CreatedSource;
  dest: string;
  layout: Layout;
  include: string[];
  exclude: string[];
  pins?: string;
  expectDigest?: string;
  concurrency: number;
  chunkSize: number;
  stallTimeoutMs: number;
  /** Re-resolve even when the destination holds this request's artifact. */
  refresh: boolean;
  /** Address classes no connection may reach (../api/address-classes.ts). */
  refusedAddresses: AddressClass[];
  common: Common;
}

/**
 * `hydrate`'s flags, checked, with the source created (no I/O beyond reading
 * the --files/--inline JSON). Exported so the function's tests can check that
 * every argument list it composes for a Job is one this parser accepts.
 */
export async function parseHydrateArgs(args: string[], env: Record<string, string | undefined> = process.env): Promise<ParsedCli<HydrateInvocation>> {
  const usage = (error: string): ParsedCli<HydrateInvocation> => ({ kind: "usage", error });
  let values;
  try {
    values = parseArgs({ args, allowPositionals: false, options: { ...parseArgsOptions(), help: { type: "boolean", short: "h", default: false } } }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help === true) return { kind: "help" };
  const a = argsFromValues(values);
  // Defaults here, not in parseArgs, so HydrateArgs holds exactly what the command line said.
  const v = {
    ...a,
    layout: a.layout ?? "Flat",
    include: a.include ?? [],
    exclude: a.exclude ?? [],
    concurrency: a.concurrency ?? "8",
    chunkSize: a.chunkSize ?? "16Mi",
    stallTimeout: a.stallTimeout ?? "60",
    refuseAddresses: a.refuseAddresses ?? DEFAULT_REFUSED_ADDRESSES.join(","),
  };
  if (v.dest === undefined || v.dest === "") return usage("--dest is required");
  const layout = Layout.safeParse(v.layout);
  if (!layout.success) return usage(`--layout must be Flat or HuggingFaceCache, not "${v.layout}"`);
  const concurrency = Number(v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) return usage("--concurrency must be an integer from 1 to 256");
  const chunkSize = parseSize(v.chunkSize);
  if (chunkSize === undefined || chunkSize < 64 * 1024) return usage("--chunk-size must be a size of at least 64Ki (e.g. 16Mi)");
  const stall = Number(v.stallTimeout);
  // Beyond 2^31-1 ms Node's timers fire after 1 ms: every request would "stall" at once.
  if (!(stall > 0) || stall * 1000 > 2 ** 31 - 1) return usage("--stall-timeout must be a positive number of seconds, at most 2147483");
  const expect = v.expectManifestDigest;
  if (expect !== undefined && !DIGEST_RE.test(expect)) return usage("--expect-manifest-digest must be sha256:<64 hex digits>");
  // The Job passes --sha256 "" for an unpinned URL.
  const sha256 = v.sha256 === undefined || v.sha256 === "" ? undefined : v.sha256;
  if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) return usage("--sha256 must be 64 hex digits");
  const common = parseCommon(v);
  if (!common.ok) return usage(common.error);
  const refusedAddresses = parseAddressClasses(v.refuseAddresses);
  if (!refusedAddresses.ok) return usage(`--refuse-addresses: ${refusedAddresses.error}`);

  let httpFiles: HttpFileSpec[] | undefined;
  if (v.files !== undefined) {
    const j = await readJsonFile(v.files, "--files");
    if (!j.ok) return usage(j.error);
    const p = HttpFileList.safeParse(j.value);
    if (!p.success) return usage(`--files ${v.files}: ${formatIssues("", p.error)}`);
    httpFiles = p.data;
  }
  let inline: InlineFile[] | undefined;
  if (v.inline !== undefined) {
    const j = await readJsonFile(v.inline, "--inline");
    if (!j.ok) return usage(j.error);
    const p = InlineFileList.safeParse(j.value);
    if (!p.success) return usage(`--inline ${v.inline}: ${formatIssues("", p.error)}`);
    inline = p.data;
  }
  const created = await createSource({
    ...(v.source !== undefined ? { uri: v.source } : {}),
    ...(sha256 ? { sha256 } : {}),
    ...(httpFiles ? { httpFiles } : {}),
    ...(inline ? { inline } : {}),
    ...(v.endpoint ? { endpoint: v.endpoint } : {}),
    ...(v.s3Region ? { region: v.s3Region } : {}),
    ...(v.s3PathStyle ? { pathStyle: true } : {}),
    ...(v.plainHttp ? { plainHttp: true } : {}),
    refusedAddresses: refusedAddresses.value,
    env,
  });
  if (!created.ok) {
    // Name the flag, as every other usage error does.
    const flag = v.files !== undefined ? "--files" : v.inline !== undefined ? "--inline" : "--source";
    return usage(created.error.includes("--") ? created.error : `${flag}: ${created.error}`);
  }

  // The user's own pins belong to the request: the same URL with another --sha256 is another request.
  const pinLines = [sha256 ?? "", ...(httpFiles ?? []).map((f) => `${redactUri(f.url)}\0${f.path ?? ""}\0${f.sha256 ?? ""}`)];
  const pins = pinLines.some((l) => l !== "") ? `sha256:${createHash("sha256").update(pinLines.join("\n")).digest("hex")}` : undefined;

  return {
    kind: "run",
    value: {
      created: created.value,
      dest: v.dest,
      layout: layout.data,
      include: v.include,
      exclude: v.exclude,
      ...(pins ? { pins } : {}),
      ...(expect ? { expectDigest: expect } : {}),
      concurrency,
      chunkSize,
      stallTimeoutMs: stall * 1000,
      refresh: v.refresh === true,
      refusedAddresses: refusedAddresses.value,
      common: common.value,
    },
  };
}

export async function runHydrateCli(args: string[]): Promise<number> {
  const parsed = await parseHydrateArgs(args, process.env);
  if (parsed.kind === "help") {
    process.stdout.write(HYDRATE_USAGE);
    return EXIT.ok;
  }
  if (parsed.kind === "usage") return usageError(HYDRATE_USAGE, parsed.error);
  const p = parsed.value;
  guardConnections(p.refusedAddresses);
  const sink = createSink(p.common.progress);
  const reporter = await makeReporter(p.created.reference, p.common, sink);
  const { signal, dispose } = abortOnSignals();
  try {
    const outcome = await hydrate(p.created, {
      dest: p.dest,
      layout: p.layout,
      include: p.include,
      exclude: p.exclude,
      ...(p.pins ? { pins: p.pins } : {}),
      ...(p.expectDigest ? { expectDigest: p.expectDigest } : {}),
      concurrency: p.concurrency,
      chunkSize: p.chunkSize,
      stallTimeoutMs: p.stallTimeoutMs,
      refresh: p.refresh,
      signal,
      sink,
      reporter,
    });
    sink.stop();
    const final = outcome.ok
      ? await reporter.finish({
          phase: "Ready",
          resolvedRevision: outcome.manifest.identity.resolved,
          manifestDigest: outcome.manifest.digest,
          message: outcome.reused ? "already published and verified: nothing fetched" : `published ${outcome.manifest.files.length} files to ${p.dest}`,
        })
      : await reporter.finish({ phase: "Failed", message: outcome.message });
    // The report's message, scrubbed of credentials (./scrub.ts), not the raw one.
    if (!outcome.ok) process.stderr.write(`function-model-cache hydrate: ${final.message ?? ""}\n`);
    process.stdout.write(`${JSON.stringify(final)}\n`);
    return outcome.ok ? EXIT.ok : outcome.exitCode;
  } finally {
    dispose();
  }
}

export interface VerifyInvocation {
  dir: string;
  expectDigest?: string;
  common: Common;
}

/** `verify`'s arguments, checked (no I/O). */
export function parseVerifyArgs(args: string[]): ParsedCli<VerifyInvocation> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { ...parseArgsOptions(VERIFY_FLAG_KEYS), help: { type: "boolean", short: "h", default: false } } });
  } catch (err) {
    return { kind: "usage", error: (err as Error).message };
  }
  if (parsed.values.help === true) return { kind: "help" };
  const v: VerifyArgs = argsFromValues(parsed.values, VERIFY_FLAG_KEYS);
  if (parsed.positionals.length !== 1) return { kind: "usage", error: "give exactly one directory" };
  const dir = parsed.positionals[0] as string;
  const expect = v.expectManifestDigest;
  if (expect !== undefined && !DIGEST_RE.test(expect)) return { kind: "usage", error: "--expect-manifest-digest must be sha256:<64 hex digits>" };
  const common = parseCommon(v);
  if (!common.ok) return { kind: "usage", error: common.error };
  return { kind: "run", value: { dir, ...(expect ? { expectDigest: expect } : {}), common: common.value } };
}

export async function runVerifyCli(args: string[]): Promise<number> {
  const parsed = parseVerifyArgs(args);
  if (parsed.kind === "help") {
    process.stdout.write(VERIFY_USAGE);
    return EXIT.ok;
  }
  if (parsed.kind === "usage") return usageError(VERIFY_USAGE, parsed.error);
  const { dir, expectDigest: expect, common } = parsed.value;
  const sink = createSink(common.progress);
  const reporter = await makeReporter(`file://${dir}`, common, sink);
  const tracker = new ProgressTracker();
  const pre = await readManifest(dir);
  if (pre.ok) tracker.start(pre.value.totalBytes, pre.value.files.length);
  reporter.update({ phase: "Verifying" });
  const timer = setInterval(() => {
    sink.progress("Verifying", tracker.snapshot());
    reporter.update({ phase: "Verifying" }, tracker.snapshot());
  }, 1000);
  timer.unref();
  const result = await verifyDir(dir, {
    onBytes: (n) => tracker.add(n),
    ...(expect ? { expectDigest: expect } : {}),
  });
  clearInterval(timer);
  sink.stop();
  const total = result.manifest?.totalBytes ?? 0;
  const files = result.manifest?.files.length ?? 0;
  const done = { bytesDone: result.ok ? total : tracker.bytesDone, bytesTotal: total, filesDone: result.ok ? files : 0, filesTotal: files, bytesPerSecond: 0 };
  const final = result.ok
    ? await reporter.finish({ phase: "Ready", resolvedRevision: result.manifest.identity.resolved, manifestDigest: result.manifest.digest, message: `verified ${files} files` }, done)
    : await reporter.finish(
        {
          phase: "Failed",
          message: `verify ${dir}: ${result.problems.slice(0, 10).join("; ")}${result.problems.length > 10 ? ` (and ${result.problems.length - 10} more)` : ""}`,
          ...(result.manifest ? { resolvedRevision: result.manifest.identity.resolved, manifestDigest: result.manifest.digest } : {}),
        },
        done,
      );
  if (!result.ok) process.stderr.write(`function-model-cache verify: ${final.message ?? ""}\n`);
  process.stdout.write(`${JSON.stringify(final)}\n`);
  return result.ok ? EXIT.ok : EXIT.permanent;
}
