// The report: the one contract the function reads (functions/api/hydration-report.ts).
// Kept up to date in the report ConfigMap (throttled; at once on a phase
// change), printed as the last JSON line, and written to the termination log
// so `kubectl describe` and the Job's pod status carry it too.
import { writeFile } from "node:fs/promises";
import { HYDRATION_REPORT_KEY, HydrationReport, type HydrationPhase } from "../api/hydration-report.ts";
import { putConfigMapKey, type ApiConfig } from "./k8s-configmap.ts";
import type { ProgressSnapshot } from "./progress.ts";
import { scrub } from "./scrub.ts";

/** Kubernetes keeps at most 4096 bytes of a termination message. */
const TERMINATION_LIMIT = 4096;

export interface ReporterOptions {
  source: string;
  configMap?: { api: ApiConfig; namespace: string; name: string };
  terminationLog?: string;
  /** Minimum interval between ConfigMap writes while the phase stays the same. */
  intervalMs?: number;
  now?: () => Date;
  warn: (message: string) => void;
}

export class Reporter {
  #report: HydrationReport;
  readonly #opts: ReporterOptions;
  #lastWrite = 0;
  #lastPhase: HydrationPhase | undefined;
  #writing: Promise<void> = Promise.resolve();
  #warned = false;

  constructor(opts: ReporterOptions) {
    this.#opts = opts;
    const now = (opts.now ?? (() => new Date()))().toISOString();
    this.#report = { phase: "Resolving", source: scrub(opts.source), bytesDone: 0, filesDone: 0, bytesPerSecond: 0, startedAt: now, updatedAt: now };
  }

  get current(): HydrationReport {
    return this.#report;
  }

  /** Merge in progress or results; pushes to the ConfigMap when due. */
  update(fields: Partial<Omit<HydrationReport, "startedAt" | "updatedAt">>, progress?: ProgressSnapshot): void {
    const now = (this.#opts.now ?? (() => new Date()))();
    const next: HydrationReport = { ...this.#report, ...fields, updatedAt: now.toISOString() };
    // The report travels to the ConfigMap, the termination log and from there to status: never a credential.
    if (next.message !== undefined) next.message = scrub(next.message);
    next.source = scrub(next.source);
    if (progress) {
      next.bytesDone = progress.bytesDone;
      next.bytesTotal = progress.bytesTotal;
      next.filesDone = progress.filesDone;
      next.filesTotal = progress.filesTotal;
      next.bytesPerSecond = progress.bytesPerSecond;
      if (progress.etaSeconds !== undefined) next.etaSeconds = progress.etaSeconds;
      else delete next.etaSeconds;
    }
    this.#report = HydrationReport.parse(next);
    const due = this.#report.phase !== this.#lastPhase || now.getTime() - this.#lastWrite >= (this.#opts.intervalMs ?? 5_000);
    if (due) this.#push(now.getTime());
  }

  #push(at: number): void {
    const cm = this.#opts.configMap;
    this.#lastWrite = at;
    this.#lastPhase = this.#report.phase;
    if (cm === undefined) return;
    const body = JSON.stringify(this.#report);
    // One write at a time, in order; a failed write is reported once and never fails the hydration.
    this.#writing = this.#writing.then(async () => {
      const r = await putConfigMapKey(cm.api, cm.namespace, cm.name, HYDRATION_REPORT_KEY, body);
      if (!r.ok && !this.#warned) {
        this.#warned = true;
        this.#opts.warn(`cannot update the report ConfigMap: ${r.error}`);
      }
    });
  }

  /** The final report: flushed to the ConfigMap, the termination log, and returned for stdout. */
  async finish(fields: Partial<Omit<HydrationReport, "startedAt" | "updatedAt">>, progress?: ProgressSnapshot): Promise<HydrationReport> {
    this.#lastPhase = undefined; // force the write
    this.update(fields, progress);
    await this.#writing;
    if (this.#opts.terminationLog) {
      let text = JSON.stringify(this.#report);
      if (Buffer.byteLength(text) > TERMINATION_LIMIT && this.#report.message) {
        const over = Buffer.byteLength(text) - TERMINATION_LIMIT + 3;
        // Cut whole code points: half a surrogate pair becomes a 6-byte JSON
        // escape, which could push the text past the limit and Kubernetes
        // would then truncate it into invalid JSON.
        const chars = Array.from(this.#report.message);
        text = JSON.stringify({ ...this.#report, message: `${chars.slice(0, Math.max(0, chars.length - over)).join("")}...` });
      }
      await writeFile(this.#opts.terminationLog, text).catch((err: Error) =>
        this.#opts.warn(`cannot write the termination log ${this.#opts.terminationLog}: ${err.message}`),
      );
    }
    return this.#report;
  }
}
