import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createSink, humanNotice, ProgressTracker, type ProgressMode } from "./progress.ts";

/** A stream that records what is written; `tty` makes it look like a terminal. */
function stream(tty: boolean): { s: NodeJS.WriteStream; text: () => string } {
  const p = new PassThrough();
  let text = "";
  p.on("data", (d: Buffer) => (text += d.toString()));
  Object.assign(p, { isTTY: tty, columns: 120 });
  return { s: p as unknown as NodeJS.WriteStream, text: () => text };
}

describe("ProgressTracker", () => {
  const cases: { reason: string; steps: (t: ProgressTracker, clock: { now: number }) => void; want: Record<string, number | undefined> }[] = [
    {
      reason: "throughput is bytes over the elapsed time of the window; ETA is what is left at that rate",
      steps: (t, c) => {
        t.start(1000, 2);
        t.add(100);
        c.now += 1000;
        t.add(100);
      },
      want: { bytesDone: 200, bytesPerSecond: 100, etaSeconds: 8 },
    },
    {
      reason: "bytes found on disk from an earlier run count as done but not as throughput",
      steps: (t, c) => {
        t.start(1000, 1);
        t.resumed(600);
        t.add(0);
        c.now += 2000;
        t.add(100);
      },
      want: { bytesDone: 700, bytesPerSecond: 50, etaSeconds: 6 },
    },
    {
      reason: "samples older than the 10 s window stop counting, so a stall shows as a falling rate",
      steps: (t, c) => {
        t.start(10_000, 1);
        t.add(5000);
        c.now += 20_000;
        t.add(0);
        c.now += 1000;
        t.add(10);
      },
      want: { bytesDone: 5010, bytesPerSecond: 10 },
    },
    {
      reason: "a retried chunk subtracting its bytes never drives the count below zero or above the total",
      steps: (t) => {
        t.start(100, 1);
        t.add(-50);
        t.add(500);
      },
      want: { bytesDone: 100, etaSeconds: 0 },
    },
    {
      reason: "with no rate yet, the ETA is unknown rather than zero or infinite",
      steps: (t) => {
        t.start(100, 1);
        t.add(10);
      },
      want: { bytesDone: 10, bytesPerSecond: 0, etaSeconds: undefined },
    },
  ];
  it.each(cases)("$reason", ({ steps, want }) => {
    const clock = { now: 1_000_000 };
    const t = new ProgressTracker(() => clock.now);
    steps(t, clock);
    const s = t.snapshot();
    for (const [k, v] of Object.entries(want)) expect(s[k as keyof typeof s], k).toBe(v);
  });
});

describe("createSink", () => {
  const snap = { bytesDone: 50, bytesTotal: 100, filesDone: 1, filesTotal: 2, bytesPerSecond: 25, etaSeconds: 2 };
  const cases: { reason: string; mode: ProgressMode; tty: boolean; outJson: boolean; errBar: boolean }[] = [
    { reason: "auto on a terminal draws a bar on stderr and keeps stdout for the report", mode: "auto", tty: true, outJson: false, errBar: true },
    { reason: "auto without a terminal (a Job's log) writes JSON lines on stdout", mode: "auto", tty: false, outJson: true, errBar: false },
    { reason: "json is JSON lines even on a terminal", mode: "json", tty: true, outJson: true, errBar: false },
    { reason: "bar is a bar even without a terminal", mode: "bar", tty: false, outJson: false, errBar: true },
    { reason: "none writes nothing", mode: "none", tty: true, outJson: false, errBar: false },
  ];
  it.each(cases)("$reason", ({ mode, tty, outJson, errBar }) => {
    const out = stream(tty);
    const err = stream(tty);
    const sink = createSink(mode, out.s, err.s);
    sink.progress("Downloading", snap);
    sink.stop();
    const lines = out
      .text()
      .split("\n")
      .filter((l) => l !== "");
    if (outJson) {
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] as string)).toMatchObject({ event: "progress", phase: "Downloading", ...snap });
    } else expect(out.text()).toBe("");
    if (errBar) expect(err.text()).toMatch(/Downloading \[.*\] 50% \| 50 B\/100 B \| 25 B\/s \| ETA 2s \| 1\/2 files/);
    else expect(err.text()).toBe("");
  });
});

describe("humanNotice (the bar's notices, for a person)", () => {
  const cases: [reason: string, event: string, fields: Record<string, unknown>, want: string][] = [
    [
      "a retry says when, at which stage, why, and the cause in words",
      "retry",
      { stage: "listing", source: "https://h/m", message: "https://h/m: connection refused by h:443 (ECONNREFUSED)", delayMs: 1500, reason: "backoff" },
      "retrying in 1.5 s (listing: backoff): https://h/m: connection refused by h:443 (ECONNREFUSED)",
    ],
    [
      "a transfer retry without a stage, at once",
      "retry",
      { file: "a.bin", message: "a.bin: sha256 mismatch", delayMs: 0, reason: "digest mismatch: fetching the file again" },
      "retrying now (transfer: digest mismatch: fetching the file again): a.bin: sha256 mismatch",
    ],
    ["a warning is its message", "warning", { message: "cannot update the report ConfigMap" }, "warning: cannot update the report ConfigMap"],
    ["no message: the fields", "repair", { file: "x" }, "repair: file=x"],
  ];
  it.each(cases)("%s", (_reason, event, fields, want) => expect(humanNotice(event, fields)).toBe(want));
});
