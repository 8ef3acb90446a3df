// The server under load, as Crossplane and the kubelet meet it (issue 14):
// health is answered while every worker is busy and calls wait, and large
// requests are admitted against --memory-budget, refused with
// RESOURCE_EXHAUSTED (which Crossplane retries) rather than taking the
// process's memory. The real server around a scripted composition that keeps
// its worker busy for as long as the request says. No timing is asserted: only
// what is answered, and in which order.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, spawnServing, type FunctionProcess } from "../support/function-server.ts";
import { callBytes, fatalOf, rawClient, requestBytes, structBytes } from "../security/server-wire.ts";

const SCRIPTED = fileURLToPath(new URL("./fixtures/scripted-function.ts", import.meta.url));

async function startScripted(flags: string[]): Promise<FunctionProcess> {
  const port = await freePort();
  return spawnServing(port, [SCRIPTED, "--insecure", "--address", `127.0.0.1:${port}`, ...flags], { LOG_LEVEL: "info" });
}

/** A request from `namespace` whose composition keeps its worker busy for `spinMs`, padded to about `padMiB`. */
function request(tag: string, namespace: string, spinMs: number, padMiB = 0): Buffer {
  return requestBytes({
    tag,
    xr: structBytes({ apiVersion: "modelcache.dev/v1alpha1", kind: "ModelCache", metadata: { name: "c", namespace } }),
    input: structBytes({ spinMs }),
    // Strings of 1 MiB: one string may hold at most 3 MiB (REQUEST_LIMITS.stringBytes).
    ...(padMiB > 0 ? { context: structBytes(Object.fromEntries(Array.from({ length: padMiB }, (_, i) => [`pad${i}`, "x".repeat(1024 * 1024)]))) } : {}),
  });
}

/** The standard health check, on a connection of its own as the kubelet dials one per probe: the status's name. */
async function healthStatus(port: number): Promise<string> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const same = (b: Buffer) => b;
  try {
    const rsp = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest("/grpc.health.v1.Health/Check", same, same, Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (err, r) =>
        err || !r ? reject(err ?? new Error("no answer")) : resolve(r),
      ),
    );
    // HealthCheckResponse { status = 1 }: 1 SERVING, 2 NOT_SERVING.
    return rsp[0] === 0x08 ? (["UNKNOWN", "SERVING", "NOT_SERVING"][rsp[1] ?? 0] ?? "?") : "?";
  } finally {
    client.close();
  }
}

type Outcome = { tag: string; ok: boolean; code?: grpc.status; details?: string };

async function call(client: grpc.Client, req: Buffer, tag: string): Promise<Outcome> {
  try {
    const rsp = await callBytes(client, req, 60_000);
    return { tag, ok: fatalOf(rsp) === undefined };
  } catch (err) {
    const e = err as grpc.ServiceError;
    return { tag, ok: false, code: e.code, details: e.details };
  }
}

let fn: FunctionProcess | undefined;
afterEach(async () => {
  await fn?.stop();
  fn = undefined;
});

describe("health under load", () => {
  it("answers SERVING while every worker is busy and more calls wait for one; the calls then all complete", async () => {
    fn = await startScripted(["--workers", "2", "--tenant-workers", "1"]);
    const client = rawClient(fn.port);
    const done: string[] = [];
    // Two namespaces, each holding one of the two workers, and a call of each waiting behind them.
    const calls = ["a-1", "b-1", "a-2", "b-2"].map((tag) =>
      call(client, request(tag, tag.startsWith("a") ? "team-a" : "team-b", 3000), tag).then((o) => (done.push(tag), o)),
    );
    // Both workers have taken a call: the scripted composition logs nothing, so wait until the server has had them long enough to start.
    await new Promise((r) => setTimeout(r, 800));
    const statuses = [await healthStatus(fn.port), await healthStatus(fn.port), await healthStatus(fn.port)];
    const doneWhenAnswered = [...done];
    expect(statuses).toEqual(["SERVING", "SERVING", "SERVING"]);
    expect(doneWhenAnswered).toEqual([]);
    const outcomes = await Promise.all(calls);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
    client.close();
  });
});

describe("--memory-budget", () => {
  /** The idle RSS the server measured at start-up, from its "serving" line. */
  async function idleMiB(): Promise<number> {
    const probe = await startScripted(["--workers", "2"]);
    const line =
      probe
        .output()
        .split("\n")
        .find((l) => l.includes('"msg":"serving"')) ?? "{}";
    await probe.stop();
    const idle = (JSON.parse(line) as { idleMiB?: number }).idleMiB;
    if (idle === undefined) throw new Error(`no idleMiB in the serving line: ${line}`);
    return idle;
  }

  it("admits large calls while they fit, refuses the next with RESOURCE_EXHAUSTED saying the budget is in use (logged), and takes it once they are done", async () => {
    // 20 MiB requests reserve about 80 MiB each: room for two beside the idle process, not three.
    const budget = (await idleMiB()) + 200;
    fn = await startScripted(["--workers", "2", "--tenant-workers", "1", "--max-recv-message-size", "64", "--memory-budget", String(budget)]);
    const client = rawClient(fn.port);
    const held = [call(client, request("held-a", "team-a", 2500, 20), "held-a"), call(client, request("held-b", "team-b", 2500, 20), "held-b")];
    await new Promise((r) => setTimeout(r, 800));
    const refused = await call(client, request("third", "team-c", 0, 20), "third");
    expect(refused).toMatchObject({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED });
    expect(refused.details).toMatch(
      /^function-model-cache is holding \d+ MiB of --memory-budget \(\d+ MiB for calls\) for 2 calls in flight; this request of 21 MiB needs \d+ MiB more; retry later$/,
    );
    // A small call still fits beside them.
    expect(await call(client, request("small", "team-c", 0), "small")).toMatchObject({ ok: true });
    expect((await Promise.all(held)).map((o) => o.ok)).toEqual([true, true]);
    // Their reservations are given back: the same request is taken now.
    expect(await call(client, request("third-again", "team-c", 0, 20), "third-again")).toMatchObject({ ok: true });
    await fn.waitForOutput("call refused: the memory budget is in use by other calls");
    client.close();
  });

  it("refuses a request that alone needs more than the budget leaves for calls, naming the flag, logged; the server serves on", async () => {
    const budget = (await idleMiB()) + 100;
    fn = await startScripted(["--workers", "2", "--max-recv-message-size", "64", "--memory-budget", String(budget)]);
    const client = rawClient(fn.port);
    const refused = await call(client, request("big", "team-a", 0, 40), "big");
    expect(refused).toMatchObject({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED });
    expect(refused.details).toMatch(
      /^function-model-cache cannot take this request of 41 MiB: a call holds about 4x its request \(\d+ MiB\), more than the \d+ MiB of --memory-budget \(\d+ MiB\) left for calls .*; raise --memory-budget/,
    );
    const out = await fn.waitForOutput("call refused: its request alone needs more than the memory budget");
    expect(out).toMatch(/"requestBytes":4\d{7}/);
    // Refused from the length its first bytes declare, not once all 41 MiB had arrived.
    expect(out).not.toContain("calls are admitted against --memory-budget once their message has arrived");
    expect(await call(client, request("small", "team-a", 0), "small")).toMatchObject({ ok: true });
    client.close();
  });
});
