// A large request (--stream-requests-from and up; 8 MiB here) goes to its worker as it arrives,
// never held whole (functions/server/incoming.ts, protocol/stream-request.ts).
// Through the real server: such a request is answered exactly as it would be
// read whole, a fleet's converged call answers the same bytes as its first,
// and a hostile or broken one (truncated, cancelled or stalled midway, a length
// that lies, over the size limit, over the memory budget) gets a clear answer
// while the server keeps serving: health checks, and both workers free for the
// next calls (a worker left waiting for bytes that never come would be
// stopped at --compose-timeout, which logs so: no case may).
import * as http2 from "node:http2";
import { describe, expect, it } from "vitest";
import { RUN_FUNCTION_PATH } from "../../functions/protocol/load.ts";
import { decodeRequest } from "../../functions/protocol/decode-request.ts";
import { encodeResponse } from "../../functions/protocol/encode-response.ts";
import { runFunction } from "../../functions/composition/run-function.ts";
import { GPUS, inferenceCluster, modelCache } from "../support/fleet-builders.ts";
import { callBytes, desiredResource, fatalOf, field, requestBytes, serverUnderTest, structBytes } from "../security/server-wire.ts";
import { varint } from "../support/protobuf-framing.ts";

const IMAGE = "xpkg.upbound.io/function-model-cache/hydrator:test";
/** Requests from this size on are walked as they arrive (--stream-requests-from 8): smaller than the default, so the cases stay small. */
const STREAM_FROM_MIB = 8;
const STREAM_FROM_BYTES = STREAM_FROM_MIB * 1024 * 1024;
const s = serverUnderTest([
  "--insecure",
  "--max-recv-message-size",
  "64",
  "--stream-requests-from",
  String(STREAM_FROM_MIB),
  "--workers",
  "2",
  "--compose-timeout",
  "20",
  "--call-timeout",
  "20",
  "--hydrator-image",
  IMAGE,
]);

/** A request over STREAM_FROM_BYTES: `n` desired ConfigMaps of ~10 KB each, under an XR this function passes through. */
function passThrough(namespace: string, n = Math.ceil(STREAM_FROM_BYTES / 10_000) + 50): Buffer {
  const desired: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++)
    desired[`r-${i}`] = structBytes({ apiVersion: "v1", kind: "ConfigMap", data: { i: String(i), pad: `${i}:`.padEnd(10_000, "x") } });
  const xr = structBytes({ apiVersion: "example.org/v1", kind: "SomethingElse", metadata: { name: "x", namespace } });
  return requestBytes({ xr, desired });
}

/** A ModelCache over `n` InferenceClusters, each padded so the request is over STREAM_FROM_BYTES. */
function fleet(n: number): Buffer {
  const xr = structBytes(
    modelCache({ clusterSelector: { cel: `cluster.devices.exists(d, d.attributes["gpu.nvidia.com"].productName.startsWith("NVIDIA H100"))` } }),
  );
  const clusters = Array.from({ length: n }, (_, i) => {
    const c = inferenceCluster({
      name: `c-${String(i).padStart(4, "0")}`,
      labels: { tier: "prod" },
      cloud: "GKE",
      storageClassName: "filestore-rwx",
      pools: [{ gpu: GPUS.H100, nodes: 2, perNode: 8 }],
    });
    (c["metadata"] as Record<string, unknown>)["annotations"] = { pad: "p".repeat(Math.ceil((STREAM_FROM_BYTES * 1.2) / n)) };
    return structBytes(c);
  });
  return requestBytes({ tag: "fleet", xr, input: structBytes({ apiVersion: "modelcache.fn.crossplane.io/v1alpha1", kind: "Input" }), required: { clusters } });
}

/** Send a gRPC message's prefix and `body` (or part of it) on a raw HTTP/2 stream; `then` decides how the stream ends. */
function rawCall(
  session: http2.ClientHttp2Session,
  declared: number,
  body: Buffer,
  then: "end" | "cancel" | "stall",
): Promise<{ status: string; message: string }> {
  return new Promise((resolve, reject) => {
    // A stalled call carries a deadline of its own (as Crossplane's do), shorter than --compose-timeout: its end, not the
    // worker's timeout, must free the worker.
    const deadline = then === "stall" ? { "grpc-timeout": "4S" } : {};
    const stream = session.request({ ":method": "POST", ":path": RUN_FUNCTION_PATH, "content-type": "application/grpc", te: "trailers", ...deadline });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(declared, 1);
    stream.write(Buffer.concat([prefix, body]));
    if (then === "end") stream.end();
    if (then === "cancel") setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 200);
    stream.resume();
    const status = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) resolve({ status: String(h["grpc-status"]), message: decodeURIComponent(String(h["grpc-message"] ?? "")) });
    };
    // A status sent before the request is complete comes alone, in the response's headers (trailers-only).
    stream.on("response", status);
    stream.on("trailers", status);
    stream.on("close", () => resolve({ status: "closed", message: "" }));
    stream.on("error", reject);
  });
}

function connect(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  // A stream the server resets may close the session with an error: the case's assertions say what was expected.
  session.on("error", () => undefined);
  return session;
}

async function health(port: number): Promise<string> {
  const { default: grpc } = await import("@grpc/grpc-js");
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const same = (b: Buffer) => b;
    const rsp = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest("/grpc.health.v1.Health/Check", same, same, Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (err, r) =>
        err || !r ? reject(err ?? new Error("no answer")) : resolve(r),
      ),
    );
    return rsp.equals(Buffer.from([8, 1])) ? "SERVING" : rsp.toString("hex");
  } finally {
    client.close();
  }
}

/** Both workers free: two streamed calls of different namespaces at once, each answered in full. */
async function bothWorkersServe(): Promise<void> {
  const [a, b] = await Promise.all([callBytes(s.client, passThrough("team-a"), 30_000), callBytes(s.client, passThrough("team-b"), 30_000)]);
  for (const rsp of [a, b]) expect(desiredResource(rsp, "r-7")).toMatchObject({ data: { i: "7" } });
}

describe("a large request, walked as it arrives", () => {
  it("is answered as it would be read whole: every desired resource comes back as sent", async () => {
    const req = passThrough("team-a");
    expect(req.length).toBeGreaterThan(STREAM_FROM_BYTES);
    const rsp = await callBytes(s.client, req);
    for (const i of [0, 1, 299, 850])
      expect(desiredResource(rsp, `r-${i}`)).toEqual({ apiVersion: "v1", kind: "ConfigMap", data: { i: String(i), pad: `${i}:`.padEnd(10_000, "x") } });
  });

  it("a fleet: the first call and the converged ones answer the bytes the request composes to when read whole", async () => {
    const req = fleet(120);
    expect(req.length).toBeGreaterThan(STREAM_FROM_BYTES);
    const decoded = decodeRequest(req);
    if (!decoded.ok) throw new Error(decoded.message);
    const want = encodeResponse(runFunction(decoded.request, { defaultHydratorImage: IMAGE }));
    if (!want.ok) throw new Error(want.error.message);
    // Four calls: each worker's first (the clusters kept and read) and a converged one (their bytes let go).
    for (let i = 0; i < 4; i++) expect((await callBytes(s.client, req)).equals(want.value), `call ${i}`).toBe(true);
  });
});

describe("a hostile or broken large request: a clear answer, and the server keeps serving", () => {
  const good = passThrough("team-a");
  const cases: { name: string; declared: number; body: Buffer; then: "end" | "cancel" | "stall"; want: (r: { status: string; message: string }) => void }[] = [
    {
      name: "truncated: the stream ends before the message does",
      declared: good.length,
      body: good.subarray(0, good.length - 1_000_000),
      then: "end",
      want: (r) => expect(r.status).not.toBe("0"),
    },
    {
      name: "cancelled midway by the client",
      declared: good.length,
      body: good.subarray(0, good.length >> 1),
      then: "cancel",
      want: (r) => expect(r.status).not.toBe("0"),
    },
    {
      name: "stalled midway: cancelled at its deadline, what it sent dropped",
      declared: good.length,
      body: good.subarray(0, good.length >> 1),
      then: "stall",
      want: (r) => expect(r).toEqual({ status: "4", message: "Deadline exceeded" }),
    },
    {
      name: "over --max-recv-message-size: refused from its prefix",
      declared: 65 * 1024 * 1024,
      body: good.subarray(0, 1_000_000),
      then: "end",
      want: (r) => expect(r).toMatchObject({ status: "8", message: expect.stringContaining("larger than max") }),
    },
  ];
  for (const c of cases)
    it(c.name, { timeout: 60_000 }, async () => {
      const session = connect(s.fn.port);
      try {
        c.want(await rawCall(session, c.declared, c.body, c.then));
      } finally {
        session.close();
      }
      expect(await health(s.fn.port)).toBe("SERVING");
      await bothWorkersServe();
      expect(s.fn.output()).not.toContain("ran past the compose timeout");
    });

  it("a length inside the request that lies (an item past its requirement): a Fatal result naming it, nothing changed", async () => {
    // The clusters' requirement declares an item longer than what follows it.
    const lying = Buffer.concat([
      fleet(120),
      field(8, Buffer.concat([field(1, Buffer.from("clusters")), varint((2 << 3) | 2), varint(4), varint((1 << 3) | 2), varint(9_999)])),
    ]);
    const rsp = await callBytes(s.client, lying);
    expect(fatalOf(rsp)).toEqual({
      reason: "InternalError",
      message: "function-model-cache could not read the request: malformed RunFunctionRequest: length-delimited field runs past its message",
    });
    await bothWorkersServe();
  });

  it("health is answered while a large request is still arriving", async () => {
    const session = connect(s.fn.port);
    try {
      const pending = rawCall(session, good.length, good.subarray(0, good.length >> 1), "stall");
      await new Promise((r) => setTimeout(r, 300));
      expect(await health(s.fn.port)).toBe("SERVING");
      expect((await pending).status).toBe("4");
    } finally {
      session.close();
    }
  });
});

describe("the memory budget still bounds a large request", () => {
  const small = serverUnderTest(
    ["--insecure", "--max-recv-message-size", "64", "--stream-requests-from", String(STREAM_FROM_MIB), "--memory-budget", "300"],
    true,
  );

  it("refuses it from its prefix, before its bytes are held, and serves the next call", async () => {
    const big = passThrough("team-a", 6_000);
    await expect(callBytes(small.client, big)).rejects.toMatchObject({ code: 8, details: expect.stringContaining("--memory-budget") });
    const ok = await callBytes(small.client, passThrough("team-a", 50));
    expect(desiredResource(ok, "r-3")).toMatchObject({ data: { i: "3" } });
  });

  it("reserves a walked request at 2x, not the 4x of one assembled whole: one that fits only at 2x is served", async () => {
    // The refusal says what the process holds idle; what is left for calls is the rest of the 300 MiB.
    const refused = await callBytes(small.client, passThrough("team-a", 6_000)).then(
      () => undefined,
      (err: { details?: string }) => err.details ?? "",
    );
    const idle = Number(/beside the (\d+) MiB the process holds idle/.exec(refused ?? "")?.[1]);
    expect(idle).toBeGreaterThan(0);
    const room = (300 - idle) * 1024 * 1024;
    // A request of a third of the room: 2x of it fits, 4x would not.
    const req = passThrough("team-a", Math.floor(room / 3 / 10_100));
    expect(req.length).toBeGreaterThan(STREAM_FROM_BYTES);
    expect(2 * req.length).toBeLessThan(room);
    expect(4 * req.length).toBeGreaterThan(room);
    const rsp = await callBytes(small.client, req);
    expect(desiredResource(rsp, "r-3")).toMatchObject({ data: { i: "3" } });
  });
});

describe("the namespace's call rate still applies to a large request", () => {
  const limited = serverUnderTest(
    ["--insecure", "--max-recv-message-size", "64", "--stream-requests-from", String(STREAM_FROM_MIB), "--tenant-rate", "1"],
    true,
  );

  it("refused once its first fields say whose it is: RESOURCE_EXHAUSTED naming the flag, health still SERVING", async () => {
    const req = passThrough("team-a", 900);
    // A burst of two seconds' worth: two calls start, the third is over the rate.
    const results = await Promise.allSettled([0, 1, 2].map(() => callBytes(limited.client, req)));
    const refused = results.filter((r) => r.status === "rejected");
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ reason: { code: 8, details: expect.stringContaining("(--tenant-rate)") } });
    expect(await health(limited.fn.port)).toBe("SERVING");
  });
});
