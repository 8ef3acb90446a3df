// The Reporter keeps the one contract the function reads (api/hydration-report.ts):
// a valid report at every step, pushed to the ConfigMap when due, flushed in
// order at the end, and a termination message Kubernetes keeps whole.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HYDRATION_REPORT_KEY, HydrationReport } from "../api/hydration-report.ts";
import type { ApiConfig } from "./k8s-configmap.ts";
import type { ProgressSnapshot } from "./progress.ts";
import { Reporter } from "./report.ts";

/** A stand-in API server for the one ConfigMap call: records each PATCH body, answers with `status`. */
let server: Server;
let api: ApiConfig;
let patches: { path: string; auth: string | undefined; report: HydrationReport }[] = [];
let status = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (req.method === "PATCH" && status < 300) {
        const data = (JSON.parse(body) as { data: Record<string, string> }).data;
        patches.push({ path: req.url ?? "", auth: req.headers.authorization, report: HydrationReport.parse(JSON.parse(data[HYDRATION_REPORT_KEY] ?? "null")) });
      }
      res
        .writeHead(status, { "content-type": "application/json" })
        .end(JSON.stringify({ kind: "Status", message: status < 300 ? "ok" : "configmaps is forbidden" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: "sa-token" };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  patches = [];
  status = 200;
});

const dir = mkdtempSync(join(tmpdir(), "report-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A clock the test moves by hand. */
function clock(start = Date.parse("2026-01-01T00:00:00Z")): { now: () => Date; advance: (ms: number) => void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

const snap = (bytesDone: number, etaSeconds?: number): ProgressSnapshot => ({
  bytesDone,
  bytesTotal: 100,
  filesDone: 0,
  filesTotal: 2,
  bytesPerSecond: 10,
  ...(etaSeconds !== undefined ? { etaSeconds } : {}),
});

describe("Reporter", () => {
  it("starts as a valid Resolving report with the source and zero progress", () => {
    const c = clock();
    const r = new Reporter({ source: "hf://Qwen/Qwen3-8B@main", now: c.now, warn: () => undefined });
    expect(HydrationReport.parse(r.current)).toEqual({
      phase: "Resolving",
      source: "hf://Qwen/Qwen3-8B@main",
      bytesDone: 0,
      filesDone: 0,
      bytesPerSecond: 0,
      startedAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    });
  });

  it("merges fields and progress, keeps startedAt, moves updatedAt, and drops an ETA the progress no longer has", () => {
    const c = clock();
    const r = new Reporter({ source: "s", now: c.now, warn: () => undefined });
    c.advance(1_000);
    r.update({ phase: "Hydrating", resolvedRevision: "abc" }, snap(40, 6));
    expect(r.current).toMatchObject({
      phase: "Hydrating",
      resolvedRevision: "abc",
      bytesDone: 40,
      bytesTotal: 100,
      filesTotal: 2,
      bytesPerSecond: 10,
      etaSeconds: 6,
      startedAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:01.000Z",
    });
    r.update({}, snap(50));
    expect(r.current.etaSeconds).toBeUndefined();
    expect(r.current.resolvedRevision).toBe("abc");
  });

  it("refuses to hold something that is not a hydration report (the function would reject it)", () => {
    const r = new Reporter({ source: "s", warn: () => undefined });
    expect(() => r.update({ manifestDigest: "md5:abc" })).toThrow();
  });

  it("writes the ConfigMap at once on a phase change, at most every intervalMs otherwise, and always on finish", async () => {
    const c = clock();
    const r = new Reporter({
      source: "s",
      now: c.now,
      intervalMs: 5_000,
      configMap: { api, namespace: "model-cache", name: "job-h1-report" },
      warn: () => undefined,
    });
    r.update({ phase: "Hydrating" }, snap(10)); // phase change: written
    c.advance(1_000);
    r.update({}, snap(20)); // same phase, 1 s later: not yet
    c.advance(1_000);
    r.update({}, snap(30)); // 2 s: not yet
    c.advance(3_000);
    r.update({}, snap(40)); // 5 s after the last write: written
    c.advance(100);
    r.update({ phase: "Verifying" }, snap(100)); // phase change: written at once
    c.advance(100);
    const final = await r.finish({ phase: "Ready", manifestDigest: `sha256:${"a".repeat(64)}`, resolvedRevision: "abc" });
    expect(patches.map((p) => [p.report.phase, p.report.bytesDone])).toEqual([
      ["Hydrating", 10],
      ["Hydrating", 40],
      ["Verifying", 100],
      ["Ready", 100],
    ]);
    expect(patches.every((p) => p.path === "/api/v1/namespaces/model-cache/configmaps/job-h1-report")).toBe(true);
    expect(patches.every((p) => p.auth === "Bearer sa-token")).toBe(true);
    expect(patches.at(-1)?.report).toEqual(final);
  });

  it("warns once when the ConfigMap cannot be written and still finishes", async () => {
    status = 403;
    const warnings: string[] = [];
    const r = new Reporter({ source: "s", configMap: { api, namespace: "ns", name: "rep" }, warn: (m) => warnings.push(m) });
    r.update({ phase: "Hydrating" });
    r.update({ phase: "Verifying" });
    const final = await r.finish({ phase: "Failed", message: "boom" });
    expect(final.phase).toBe("Failed");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot update the report ConfigMap: .*403.*forbidden/);
  });

  it("writes the final report to the termination log as JSON the function's schema accepts", async () => {
    const log = join(dir, "termination-log");
    const r = new Reporter({ source: "s", terminationLog: log, warn: () => undefined });
    const final = await r.finish({ phase: "Ready", manifestDigest: `sha256:${"b".repeat(64)}`, resolvedRevision: "r" });
    expect(HydrationReport.parse(JSON.parse(readFileSync(log, "utf8")))).toEqual(final);
  });

  const long: [what: string, message: string][] = [
    ["ASCII", "x".repeat(10_000)],
    ["characters JSON escapes (quotes, newlines)", '"\n'.repeat(5_000)],
    ["multi-byte UTF-8", "é模".repeat(3_000)],
    ["astral characters (surrogate pairs), cut anywhere", "🙂".repeat(3_000)],
    ["astral characters, the cut landing inside them (even offset)", "🙂".repeat(1_500)],
    ["astral characters, the cut landing inside them (odd offset)", `a${"🙂".repeat(1_500)}`],
  ];
  it.each(long)("keeps a long termination message (%s) within Kubernetes' 4096 bytes, still a valid report", async (_what, message) => {
    const log = join(dir, `tl-${message.length}-${message.charCodeAt(0)}`);
    const warnings: string[] = [];
    const r = new Reporter({ source: "s", terminationLog: log, warn: (m) => warnings.push(m) });
    const final = await r.finish({ phase: "Failed", message });
    const text = readFileSync(log, "utf8");
    expect(Buffer.byteLength(readFileSync(log))).toBeLessThanOrEqual(4096);
    const parsed = HydrationReport.parse(JSON.parse(text));
    expect(parsed.message?.endsWith("...")).toBe(true);
    expect(message.startsWith(parsed.message?.slice(0, -3) ?? "-")).toBe(true);
    expect(final.message).toBe(message); // the ConfigMap and stdout keep the whole message
    expect(warnings).toEqual([]);
  });

  it("stays within 4096 bytes wherever the cut falls around an astral character (never half a surrogate pair)", async () => {
    const log = join(dir, "tl-astral");
    for (let k = 3_850; k < 4_000; k++) {
      const message = `${"a".repeat(k)}🙂${"a".repeat(200)}`;
      const r = new Reporter({ source: "s", terminationLog: log, warn: () => undefined });
      await r.finish({ phase: "Failed", message });
      const bytes = readFileSync(log);
      expect(bytes.length, `cut near offset ${k}`).toBeLessThanOrEqual(4096);
      const parsed = HydrationReport.parse(JSON.parse(bytes.toString("utf8")));
      expect(parsed.message, `cut near offset ${k}`).not.toMatch(/[\ud800-\udbff]\.\.\.$/);
    }
  });

  it("warns, not fails, when the termination log cannot be written", async () => {
    const warnings: string[] = [];
    const r = new Reporter({ source: "s", terminationLog: join(dir, "no", "such", "dir", "log"), warn: (m) => warnings.push(m) });
    await expect(r.finish({ phase: "Ready" })).resolves.toMatchObject({ phase: "Ready" });
    expect(warnings[0]).toMatch(/cannot write the termination log/);
  });
});
