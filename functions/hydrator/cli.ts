// `function-model-cache hydrate` and `verify`: flags in, exit code out.
// Exit codes (the Job's podFailurePolicy relies on them, see docs/hydrator.md):
//   0 published and verified (or already there); 1 failed, worth retrying
//   (network, 5xx, 429, interrupted); 2 bad usage; 3 permanent (not found,
//   unauthorized, digest mismatch, hostile path, no space).
// Credentials are read from the environment only; no flag takes one.
import { createHash, X509Certificate } from "node:crypto";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { DEFAULT_REFUSED_ADDRESSES, parseAddressClasses, type AddressClass } from "../api/address-classes.ts";
import { formatIssues } from "../common/zod-issues.ts";
import { guardConnections } from "./address-guard.ts";
import { argsFromValues, parseArgsOptions, VERIFY_FLAG_KEYS, type VerifyArgs } from "./invocation.ts";
import type { Checked } from "../common/checked.ts";
import { EXIT, hydrate } from "./hydrate.ts";
import { inClusterConfig, type ApiConfig } from "./k8s-configmap.ts";
import { Layout } from "./manifest.ts";
import { redactUri } from "./paths.ts";
import { createSink, ProgressTracker, type ProgressMode, type ProgressSink } from "./progress.ts";
import { Reporter } from "./report.ts";
import { scrub } from "./scrub.ts";
import { HttpFileList, type HttpFileSpec } from "./sources/http.ts";
import { allFetchers, createSource, type CreatedSource } from "./sources/index.ts";
import { KIND_FLAGS, type KindArgs } from "../sources/registry.ts";
import { InlineFileList, type InlineFile } from "./sources/inline.ts";
import { DEFAULT_RETRY } from "./retry.ts";
import { hydrateSummary, resolveOutput, verifyProblems, verifySummary, type OutputMode } from "./summary.ts";
import { readManifest, verifyDir } from "./verify.ts";

export const HYDRATE_USAGE = `Usage: function-model-cache hydrate (--source <uri> | --files <json> | --inline <json>) --dest <dir> [flags]

Sources:
${allFetchers()
  .flatMap((f) => f.usage)
  .map((l) => `  ${l}`)
  .join("\n")}
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
  --attempts <n>                      tries per request without progress before giving up (default 8);
                                      connection failures are retried, TLS trust failures never
  --ca-file <pem>                     also trust the CA certificates in this PEM file (a private mirror or
                                      registry); NODE_EXTRA_CA_CERTS=<pem> and NODE_USE_SYSTEM_CA=1 work too
  --progress auto|bar|json|none       default auto: a bar on a terminal, JSON lines otherwise
  --output auto|human|json            the result: default auto, a summary on a terminal, the JSON report otherwise
  --report-configmap <ns>/<name>      keep the hydration report in this ConfigMap (in-cluster)
  --termination-log <path>            default /dev/termination-log when it exists
  --refuse-addresses <classes>        never connect to these address classes, whatever name or redirect leads
                                      there: LinkLocal, Metadata, Loopback, Private, comma-separated
                                      (default LinkLocal,Metadata; "" for none)
  --refresh                           re-resolve a mutable reference (a branch, a tag, a prefix) even if the
                                      destination holds its artifact; files already in place are kept
`;

export const VERIFY_USAGE = `Usage: function-model-cache verify <dir> [--expect-manifest-digest sha256:<hex>] [--report-configmap <ns>/<name>] [--termination-log <path>] [--progress auto|bar|json|none] [--output auto|human|json]

Re-checks, with no network, that <dir> holds exactly the artifact its manifest names: every file's size and sha256,
SHA256SUMS, and nothing else. Exit 0 verified, 3 not (the problems on stderr), 2 bad usage.
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
  /** The result: a summary for a person or the JSON report (the Job, scripts). */
  output: OutputMode;
}

/** One line and where the rest is: a page of usage hides the one line that matters. */
function usageError(command: "hydrate" | "verify", message: string): number {
  process.stderr.write(`function-model-cache ${command}: ${scrub(message)}\nRun "function-model-cache ${command} --help" for the flags.\n`);
  return EXIT.usage;
}

function parseCommon(v: VerifyArgs): Checked<Common> {
  const progress = v.progress ?? "auto";
  if (!["auto", "bar", "json", "none"].includes(progress)) return { ok: false, error: `--progress must be auto, bar, json or none, not "${progress}"` };
  const output = v.output ?? "auto";
  if (!["auto", "human", "json"].includes(output)) return { ok: false, error: `--output must be auto, human or json, not "${output}"` };
  let reportTarget: Common["reportTarget"];
  if (v.reportConfigMap !== undefined) {
    const m = /^([a-z0-9-]{1,63})\/([a-z0-9.-]{1,253})$/.exec(v.reportConfigMap);
    if (m === null || m[1] === undefined || m[2] === undefined)
      return { ok: false, error: `--report-configmap must be <namespace>/<name>, not "${v.reportConfigMap}"` };
    reportTarget = { namespace: m[1], name: m[2] };
  }
  const terminationLog = v.terminationLog ?? (existsSync("/dev/termination-log") ? "/dev/termination-log" : undefined);
  return {
    ok: true,
    value: {
      progress: progress as ProgressMode,
      output: output as OutputMode,
      ...(reportTarget ? { reportTarget } : {}),
      ...(terminationLog ? { terminationLog } : {}),
    },
  };
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

/** The certificates of a PEM file (--ca-file), or why it cannot be used. */
async function readCaFile(path: string): Promise<{ ok: true; value: string[] } | { ok: false; error: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return { ok: false, error: `--ca-file ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}` };
  }
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) return { ok: false, error: `--ca-file ${path}: no PEM certificate in it (expected "-----BEGIN CERTIFICATE-----" blocks)` };
  for (const c of certs) {
    try {
      new X509Certificate(c);
    } catch (err) {
      return { ok: false, error: `--ca-file ${path}: a certificate in it does not parse (${(err as Error).message})` };
    }
  }
  return { ok: true, value: certs };
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
  /** Tries per request without progress (retry.ts). */
  attempts: number;
  /** PEM certificates from --ca-file, trusted beside the default CAs. */
  caCertificates?: string[];
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
    attempts: a.attempts ?? String(DEFAULT_RETRY.maxAttempts),
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
  const attempts = Number(v.attempts);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) return usage("--attempts must be an integer from 1 to 100");
  let caCertificates: string[] | undefined;
  if (v.caFile !== undefined) {
    const ca = await readCaFile(v.caFile);
    if (!ca.ok) return usage(ca.error);
    caCertificates = ca.value;
  }
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
    ...kindArgs(v),
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
      attempts,
      ...(caCertificates ? { caCertificates } : {}),
      refresh: v.refresh === true,
      refusedAddresses: refusedAddresses.value,
      common: common.value,
    },
  };
}

/** The source kinds' own flags as given (each kind's fetcher reads its own; createSource refuses a misplaced one). */
function kindArgs(v: KindArgs): KindArgs {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(v))
    if (Object.hasOwn(KIND_FLAGS, field) && value !== undefined && value !== "" && value !== false) out[field] = value;
  return out as KindArgs;
}

export async function runHydrateCli(args: string[]): Promise<number> {
  const parsed = await parseHydrateArgs(args, process.env);
  if (parsed.kind === "help") {
    process.stdout.write(HYDRATE_USAGE);
    return EXIT.ok;
  }
  if (parsed.kind === "usage") return usageError("hydrate", parsed.error);
  const p = parsed.value;
  // Beside the default CAs (bundled, NODE_EXTRA_CA_CERTS, the system's with NODE_USE_SYSTEM_CA=1), for every
  // connection that does not name its own CA: fetch (undici) and the AWS SDK alike.
  if (p.caCertificates) setDefaultCACertificates([...getCACertificates("default"), ...p.caCertificates]);
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
      retry: { ...DEFAULT_RETRY, maxAttempts: p.attempts },
      refresh: p.refresh,
      signal,
      sink,
      reporter,
    });
    sink.stop();
    const done = reporter.current;
    const final = outcome.ok
      ? await reporter.finish(
          {
            phase: "Ready",
            resolvedRevision: outcome.manifest.identity.resolved,
            manifestDigest: outcome.manifest.digest,
            message: outcome.reused ? "already published and verified: nothing fetched" : `published ${outcome.manifest.files.length} files to ${p.dest}`,
          },
          // Re-hashing a published directory is not throughput: a no-op run reports none.
          outcome.reused
            ? {
                bytesDone: done.bytesDone,
                bytesTotal: done.bytesTotal ?? 0,
                filesDone: done.filesDone,
                filesTotal: done.filesTotal ?? 0,
                bytesPerSecond: 0,
                etaSeconds: 0,
              }
            : undefined,
        )
      : await reporter.finish({ phase: "Failed", message: outcome.message, ...(outcome.permanent !== undefined ? { permanent: outcome.permanent } : {}) });
    // The report's message, scrubbed of credentials (./scrub.ts), not the raw one.
    if (!outcome.ok) process.stderr.write(`function-model-cache hydrate: ${final.message ?? ""}\n`);
    if (resolveOutput(p.common.output, process.stdout.isTTY === true) === "json") process.stdout.write(`${JSON.stringify(final)}\n`);
    else if (outcome.ok) {
      process.stdout.write(
        hydrateSummary({
          manifest: outcome.manifest,
          dest: p.dest,
          reused: outcome.reused,
          bytesFetched: outcome.stats.bytesFetched,
          fetchSeconds: outcome.stats.fetchSeconds,
        }),
      );
    }
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
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...parseArgsOptions(VERIFY_FLAG_KEYS), help: { type: "boolean", short: "h", default: false } },
    });
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
  if (parsed.kind === "usage") return usageError("verify", parsed.error);
  const { dir, expectDigest: expect, common } = parsed.value;
  const sink = createSink(common.progress);
  const reporter = await makeReporter(`file://${dir}`, common, sink);
  const tracker = new ProgressTracker();
  const human = resolveOutput(common.output, process.stdout.isTTY === true) === "human";
  const st = await stat(dir).catch((err: NodeJS.ErrnoException) => err);
  // Said as it is: a missing directory is not "a manifest is missing".
  const absent =
    st instanceof Error
      ? st.code === "ENOENT"
        ? `${dir} does not exist`
        : `${dir}: ${st.message}`
      : st.isDirectory()
        ? undefined
        : `${dir} is not a directory`;
  const pre = absent === undefined ? await readManifest(dir) : undefined;
  if (pre?.ok) tracker.start(pre.value.totalBytes, pre.value.files.length);
  reporter.update({ phase: "Verifying" });
  const timer = setInterval(() => {
    sink.progress("Verifying", tracker.snapshot());
    reporter.update({ phase: "Verifying" }, tracker.snapshot());
  }, 1000);
  timer.unref();
  const result =
    absent !== undefined
      ? { ok: false as const, problems: [absent] }
      : await verifyDir(dir, {
          onBytes: (n) => tracker.add(n),
          ...(expect ? { expectDigest: expect } : {}),
        });
  clearInterval(timer);
  sink.stop();
  const total = result.manifest?.totalBytes ?? 0;
  const files = result.manifest?.files.length ?? 0;
  const done = { bytesDone: result.ok ? total : tracker.bytesDone, bytesTotal: total, filesDone: result.ok ? files : 0, filesTotal: files, bytesPerSecond: 0 };
  const problems = result.ok ? [] : result.problems;
  const message = absent ?? `${dir} does not verify: ${problems.slice(0, 10).join("; ")}${problems.length > 10 ? ` (and ${problems.length - 10} more)` : ""}`;
  const final = result.ok
    ? await reporter.finish(
        { phase: "Ready", resolvedRevision: result.manifest.identity.resolved, manifestDigest: result.manifest.digest, message: `verified ${files} files` },
        done,
      )
    : await reporter.finish(
        {
          phase: "Failed",
          message,
          // What the volume holds does not verify: a retry reads the same bytes.
          permanent: "Destination",
          ...(result.manifest ? { resolvedRevision: result.manifest.identity.resolved, manifestDigest: result.manifest.digest } : {}),
        },
        done,
      );
  if (!result.ok) {
    // On a terminal one problem a line; in a log the report's one-line message.
    process.stderr.write(
      human && absent === undefined
        ? `function-model-cache verify: ${scrub(verifyProblems(dir, problems))}`
        : `function-model-cache verify: ${final.message ?? ""}\n`,
    );
  }
  if (!human) process.stdout.write(`${JSON.stringify(final)}\n`);
  else if (result.ok) process.stdout.write(verifySummary(dir, result.manifest));
  return result.ok ? EXIT.ok : EXIT.permanent;
}
