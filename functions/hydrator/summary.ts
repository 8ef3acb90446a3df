// What a person reads at the end of a run on a terminal: what was fetched,
// from where, how much, how fast, the digest, where it is, and the one command
// that checks it again. Pure functions of the outcome; the CLI prints them
// when stdout is a terminal (or --output human), the JSON report otherwise.
import { resolve } from "node:path";
import type { Manifest } from "./manifest.ts";
import { fmtBytes } from "./space.ts";

export type OutputMode = "auto" | "human" | "json";

/** human on a terminal, JSON into a pipe or a file (the Job's log, a script), or as asked. */
export function resolveOutput(mode: OutputMode, stdoutIsTTY: boolean): "human" | "json" {
  return mode === "auto" ? (stdoutIsTTY ? "human" : "json") : mode;
}

export function fmtDuration(seconds: number): string {
  if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/** A shell word: quoted only when it must be, so the command can be pasted as is. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The one command that re-checks `dir` is exactly this artifact. */
export function verifyCommand(dir: string, digest: string): string {
  return `function-model-cache verify ${shellQuote(resolve(dir))} --expect-manifest-digest ${digest}`;
}

function sourceLine(m: Manifest): string {
  const resolved = m.identity.resolved;
  // A commit or an OCI digest says more than the reference alone; a digest of a file set repeats the digest line.
  return resolved !== "" && !m.source.includes(resolved) ? `${m.source} (${resolved})` : m.source;
}

export interface HydrateSummaryInput {
  manifest: Manifest;
  dest: string;
  reused: boolean;
  bytesFetched: number;
  fetchSeconds: number;
}

export function hydrateSummary(o: HydrateSummaryInput): string {
  const m = o.manifest;
  const files = `${m.files.length} ${m.files.length === 1 ? "file" : "files"}, ${fmtBytes(m.totalBytes)}`;
  let fetched: string;
  if (o.reused) fetched = "nothing: the directory already holds this artifact, verified again locally";
  else if (o.bytesFetched === 0) fetched = "nothing: every file was already in place or staged by an earlier run";
  else {
    // The average over the whole fetch, not the last 10 s: what the run took.
    const rate = o.fetchSeconds > 0 ? ` (${fmtBytes(o.bytesFetched / o.fetchSeconds)}/s)` : "";
    fetched = `${fmtBytes(o.bytesFetched)} in ${fmtDuration(o.fetchSeconds)}${rate}`;
  }
  return [
    `${o.reused ? "Already published" : "Published"}: ${files} in ${resolve(o.dest)}`,
    `  from      ${sourceLine(m)}`,
    `  fetched   ${fetched}`,
    `  digest    ${m.digest}`,
    `  layout    ${m.layout}, with SHA256SUMS (sha256sum -c SHA256SUMS checks it too)`,
    `Check it again, anywhere (no network):`,
    `  ${verifyCommand(o.dest, m.digest)}`,
    "",
  ].join("\n");
}

export function verifySummary(dir: string, m: Manifest): string {
  return [
    `Verified: ${m.files.length} ${m.files.length === 1 ? "file" : "files"}, ${fmtBytes(m.totalBytes)} in ${resolve(dir)}, every byte`,
    `  from      ${sourceLine(m)}`,
    `  digest    ${m.digest}`,
    "",
  ].join("\n");
}

/** verify's problems, one a line, for a terminal. */
export function verifyProblems(dir: string, problems: readonly string[], limit = 10): string {
  const shown = problems.slice(0, limit).map((p) => `  - ${p}`);
  if (problems.length > limit) shown.push(`  … and ${problems.length - limit} more`);
  return `${resolve(dir)} does not verify:\n${shown.join("\n")}\n`;
}
