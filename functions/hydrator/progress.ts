// Progress: counting bytes and files, a throughput over the last seconds,
// an ETA; rendered as a bar on a terminal (cli-progress) or JSON lines.
import { scrubFields } from "./scrub.ts";
import cliProgress from "cli-progress";
import { fmtBytes } from "./space.ts";
import { fmtDuration } from "./summary.ts";

export interface ProgressSnapshot {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
  bytesPerSecond: number;
  etaSeconds?: number;
}

const WINDOW_MS = 10_000;

export class ProgressTracker {
  bytesDone = 0;
  bytesTotal = 0;
  filesDone = 0;
  filesTotal = 0;
  readonly #samples: { t: number; bytes: number }[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  start(bytesTotal: number, filesTotal: number): void {
    this.bytesTotal = bytesTotal;
    this.filesTotal = filesTotal;
  }

  /** Bytes already on disk from an earlier run: done, but not throughput. */
  resumed(n: number): void {
    this.bytesDone = Math.min(this.bytesTotal, this.bytesDone + n);
    this.#samples.length = 0;
  }

  add(n: number): void {
    this.bytesDone = Math.max(0, Math.min(this.bytesTotal, this.bytesDone + n));
    const t = this.#now();
    this.#samples.push({ t, bytes: this.bytesDone });
    while (this.#samples.length > 2 && (this.#samples[0] as { t: number }).t < t - WINDOW_MS) this.#samples.shift();
  }

  fileDone(): void {
    this.filesDone = Math.min(this.filesTotal, this.filesDone + 1);
  }

  snapshot(): ProgressSnapshot {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    let rate = 0;
    if (first && last && last.t > first.t) rate = ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
    const left = this.bytesTotal - this.bytesDone;
    return {
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
      bytesPerSecond: Math.max(0, Math.round(rate)),
      ...(rate > 0 ? { etaSeconds: Math.ceil(left / rate) } : left === 0 ? { etaSeconds: 0 } : {}),
    };
  }
}

export type ProgressMode = "auto" | "bar" | "json" | "none";

/** Where progress and notices go. JSON lines on stdout; a bar and notices on stderr. */
export interface ProgressSink {
  progress(phase: string, s: ProgressSnapshot): void;
  notice(event: string, fields: Record<string, unknown>): void;
  stop(): void;
}

/** Notices carry error texts (a retry's cause): scrubbed like every text that leaves the hydrator. */
export function createSink(mode: ProgressMode, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): ProgressSink {
  const sink = createRawSink(mode, out, err);
  return { ...sink, notice: (event, fields) => sink.notice(event, scrubFields(fields)) };
}

function createRawSink(mode: ProgressMode, out: NodeJS.WriteStream, err: NodeJS.WriteStream): ProgressSink {
  const resolved = mode === "auto" ? (err.isTTY ? "bar" : "json") : mode;
  if (resolved === "none") return { progress: () => undefined, notice: () => undefined, stop: () => undefined };
  if (resolved === "json") {
    return {
      progress: (phase, s) => out.write(`${JSON.stringify({ event: "progress", phase, ...s, time: new Date().toISOString() })}\n`),
      notice: (event, fields) => out.write(`${JSON.stringify({ event, ...fields, time: new Date().toISOString() })}\n`),
      stop: () => undefined,
    };
  }
  // cli-progress: maintained, no dependencies, redraws in place on a TTY and
  // handles terminal width; a hand-rolled bar gets those details wrong.
  const bar = new cliProgress.SingleBar(
    {
      stream: err,
      format: "{phase} [{bar}] {percentage}% | {doneH}/{totalH} | {rateH}/s | ETA {etaH} | {filesDone}/{filesTotal} files",
      hideCursor: true,
      etaBuffer: 50,
      // `--progress bar` asked for a bar: draw it into a pipe or a file too.
      noTTYOutput: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const payload = (phase: string, s: ProgressSnapshot): Record<string, string | number> => ({
    phase,
    doneH: fmtBytes(s.bytesDone),
    totalH: fmtBytes(s.bytesTotal),
    rateH: fmtBytes(s.bytesPerSecond),
    etaH: s.etaSeconds === undefined ? "?" : `${s.etaSeconds}s`,
    filesDone: s.filesDone,
    filesTotal: s.filesTotal,
  });
  return {
    progress(phase, s) {
      if (!started) {
        bar.start(Math.max(1, s.bytesTotal), s.bytesDone, payload(phase, s));
        started = true;
      } else {
        bar.setTotal(Math.max(1, s.bytesTotal));
        bar.update(s.bytesDone, payload(phase, s));
      }
    },
    notice(event, fields) {
      err.write(`\n${humanNotice(event, fields)}\n`);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** A notice for a person: the message in words, a retry with when and why; fields only when there is no message. */
export function humanNotice(event: string, fields: Record<string, unknown>): string {
  const message = typeof fields["message"] === "string" ? fields["message"] : undefined;
  if (message === undefined)
    return `${event}: ${Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ")}`;
  if (event === "retry") {
    const delay = typeof fields["delayMs"] === "number" ? fields["delayMs"] : 0;
    const reason = typeof fields["reason"] === "string" ? `: ${fields["reason"]}` : "";
    return `retrying ${delay > 0 ? `in ${fmtDuration(delay / 1000)}` : "now"} (${String(fields["stage"] ?? "transfer")}${reason}): ${message}`;
  }
  return `${event}: ${message}`;
}
