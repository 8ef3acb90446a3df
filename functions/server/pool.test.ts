// The worker pool with real worker threads around a scripted composition
// (test/server/fixtures/scripted-compose.ts: input.delayMs makes a call slow).
// Order of answers is asserted, never durations.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { structOf, runFunctionMethod } from "../../test/support/protocol-builders.ts";
import { fatalOf } from "../../test/security/server-wire.ts";
import { newLogger } from "./logger.ts";
import { RETIRE_ABOVE_BYTES, WorkerPool, type PoolAnswer } from "./pool.ts";

const SCRIPTED_URL = new URL("../../test/server/fixtures/scripted-compose.ts", import.meta.url).href;
const SCRIPTED = { url: SCRIPTED_URL, options: null };
const lines: string[] = [];
const log = newLogger(false, { write: (l: string) => lines.push(l) });

function call(pool: WorkerPool, namespace: string, tag: string, delayMs: number): Promise<{ tag: string; answer: PoolAnswer }> {
  const bytes = runFunctionMethod.requestSerialize({ meta: { tag }, input: structOf({ delayMs }) });
  return pool.submit(bytes, { tag, namespace }, () => true).answer.then((answer) => ({ tag, answer }));
}

let pool: WorkerPool | undefined;
afterEach(async () => {
  await pool?.close();
  lines.length = 0;
});

describe("WorkerPool", () => {
  it("a worker replaced after its call's deadline counts against that call's namespace until it is ready", async () => {
    // A worker takes 1.5 s to start, so a replacement is surely not ready while the calls below run.
    const slowStart = { url: SCRIPTED_URL, options: { startDelayMs: 1500 } };
    pool = await WorkerPool.start(
      { workers: 2, workerHeapMiB: 256, composeTimeoutSeconds: 0.3, tenantWorkers: 1, tenantQueue: 8 },
      slowStart,
      false,
      log,
      (l) => lines.push(l),
    );
    const order: string[] = [];
    const settle = (p: Promise<{ tag: string; answer: PoolAnswer }>) => p.then((r) => (order.push(r.tag), r));
    // a1 runs past the deadline; a2 waits behind it (a's share is one worker).
    const a1 = settle(call(pool, "team-a", "a1", 60_000));
    const a2 = settle(call(pool, "team-a", "a2", 60_000));
    const first = await a1;
    // Right after a1's worker is terminated, b1 arrives: the other worker must still be free for it. (Had a2 taken
    // it, b1 would wait for a2's deadline and then for a replacement to load: a2 would answer first.)
    const b1 = settle(call(pool, "team-b", "b1", 0));
    const [second, other] = await Promise.all([a2, b1]);
    expect(order).toEqual(["a1", "b1", "a2"]);
    for (const r of [first, second]) expect(r.answer.ok && fatalOf(r.answer.response)?.reason).toBe("ComposeTimeout");
    expect(other.answer.ok && fatalOf(other.answer.response)).toBe(undefined);
    expect(lines.filter((l) => l.includes("call stopped: it ran past the compose timeout"))).toHaveLength(2);
  });

  it("a namespace's calls wait for its share while another namespace's calls go first (round robin)", async () => {
    pool = await WorkerPool.start({ workers: 2, workerHeapMiB: 256, composeTimeoutSeconds: 30, tenantWorkers: 1, tenantQueue: 8 }, SCRIPTED, false, log, (l) =>
      lines.push(l),
    );
    const order: string[] = [];
    const calls = [call(pool, "team-a", "a1", 300), call(pool, "team-a", "a2", 0), call(pool, "team-a", "a3", 0), call(pool, "team-b", "b1", 0)].map((p) =>
      p.then((r) => order.push(r.tag)),
    );
    await Promise.all(calls);
    // b1 came last but did not wait behind a2 and a3: a1 held team-a's one worker, b1 had the other.
    expect(order.indexOf("b1")).toBeLessThan(order.indexOf("a2"));
    expect(order.slice(-2)).toEqual(["a2", "a3"]);
  });

  it("serving() is false, and said once, while no worker can start; true again once one does", async () => {
    const broken = join(tmpdir(), `fmc-pool-broken-${process.pid}`);
    rmSync(broken, { force: true });
    const flaky = { url: SCRIPTED_URL, options: { failStartIfExists: broken } };
    pool = await WorkerPool.start({ workers: 2, workerHeapMiB: 256, composeTimeoutSeconds: 0.3, tenantWorkers: 1, tenantQueue: 8 }, flaky, false, log, (l) =>
      lines.push(l),
    );
    const seen: boolean[] = [];
    pool.onServingChange((s) => seen.push(s));
    expect(pool.serving()).toBe(true);
    // From now on a worker cannot load; both calls run past the deadline, so both workers are replaced, and fail.
    writeFileSync(broken, "");
    try {
      await Promise.all([call(pool, "team-a", "a", 60_000), call(pool, "team-b", "b", 60_000)]);
      for (let i = 0; i < 100 && pool.serving(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(pool.serving()).toBe(false);
      expect(seen).toEqual([false]);
    } finally {
      rmSync(broken, { force: true });
    }
    // The next attempt (after its backoff) loads.
    for (let i = 0; i < 100 && !pool.serving(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([false, true]);
    expect(lines.filter((l) => l.includes("no worker can start: not serving"))).toHaveLength(1);
  });

  it("replaces a worker whose heap grew once it has stayed idle, and serves on; a worker that did not grow is kept", async () => {
    pool = await WorkerPool.start(
      { workers: 2, workerHeapMiB: 512, composeTimeoutSeconds: 30, tenantWorkers: 1, tenantQueue: 8, retireAfterIdleMs: 300 },
      SCRIPTED,
      false,
      log,
      (l) => lines.push(l),
    );
    const grow = (mib: number) =>
      pool?.submit(
        runFunctionMethod.requestSerialize({ meta: { tag: `grow-${mib}` }, input: structOf({ growMiB: mib }) }),
        { tag: `grow-${mib}`, namespace: "team-a" },
        () => true,
      ).answer;
    expect(await grow(0)).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 1000));
    expect(lines.filter((l) => l.includes("an idle worker grew"))).toEqual([]);
    expect(await grow(128)).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 1000));
    const retired = lines.filter((l) => l.includes("an idle worker grew: replaced"));
    expect(retired).toHaveLength(1);
    expect(JSON.parse(retired[0] as string)).toMatchObject({ level: 30 });
    expect((JSON.parse(retired[0] as string) as { heapMiB: number }).heapMiB).toBeGreaterThanOrEqual(RETIRE_ABOVE_BYTES / 2 ** 20);
    // The replacement loads and the pool serves.
    await new Promise((r) => setTimeout(r, 500));
    expect(pool.readyWorkers()).toBe(2);
    expect(await grow(0)).toMatchObject({ ok: true });
  });
});
