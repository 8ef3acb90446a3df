// Issue 9, item 6: hostile requests against the real server over gRPC. Each
// case was reproduced on the server before its fix (the comment says what it
// did then); each now gets a bounded Fatal result naming the field and the
// limit, and the server keeps answering.
import type * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { REQUEST_LIMITS, RESPONSE_DEPTH } from "../../functions/protocol/limits.ts";
import { callBytes, callRaw, deepList, desiredResource, field, modelCacheXr, requestBytes, serverUnderTest, structBytes, structWith } from "./server-wire.ts";

/** A plain call that must still be answered after each hostile one. */
async function stillServing(client: grpc.Client): Promise<void> {
  const rsp = await callRaw(client, requestBytes({ tag: "plain", xr: structBytes({ apiVersion: "x/v1", kind: "Other" }) }));
  expect(rsp.meta?.tag).toBe("plain");
  expect(rsp.results[0]?.reason).toBe("UnsupportedComposite");
}

// A server per case: one case's crash cannot fail the next. 8 MiB: the 150,000 matchExpressions are 5 MiB on the wire.
const server = serverUnderTest(["--insecure", "--max-recv-message-size", "8"], true);

describe("hostile requests", () => {
  it("a list nested 2,400 deep in context is refused, naming the path; the process stays up (it died of a stack overflow)", async () => {
    const req = requestBytes({ tag: "deep", xr: modelCacheXr({}), context: structWith("k", deepList(2400)) });
    expect(req.length).toBeLessThan(16 * 1024);
    const rsp = await callRaw(server.client, req);
    expect(rsp.meta?.tag).toBe("deep");
    expect(rsp.results).toHaveLength(1);
    expect(rsp.results[0]).toMatchObject({ severity: "SEVERITY_FATAL", reason: "RequestRefused" });
    expect(rsp.results[0]?.message).toMatch(new RegExp(`context\\.k\\[0\\].*: nested deeper than ${REQUEST_LIMITS.depth} levels`));
    expect(server.fn.child.exitCode).toBeNull();
    await server.fn.waitForOutput('"msg":"request refused"');
    await stillServing(server.client);
  });

  it("a desired resource nested 60 lists deep passes through intact (it got gRPC INTERNAL 'Error serializing response', unlogged)", async () => {
    const req = requestBytes({ tag: "d60", xr: structBytes({ apiVersion: "x/v1", kind: "Other" }), desired: { earlier: structWith("l", deepList(60)) } });
    const rsp = await callBytes(server.client, req);
    let v = desiredResource(rsp, "earlier")?.["l"];
    let depth = 0;
    while (Array.isArray(v)) {
      v = v[0];
      depth++;
    }
    expect({ depth, leaf: v }).toEqual({ depth: 60, leaf: "leaf" });
  });

  it(`a desired resource nested past the limit is refused with a Fatal naming it, not a gRPC error`, async () => {
    const req = requestBytes({
      tag: "d101",
      xr: structBytes({ apiVersion: "x/v1", kind: "Other" }),
      desired: { earlier: structWith("l", deepList(REQUEST_LIMITS.depth + 1)) },
    });
    const rsp = await callRaw(server.client, req);
    expect(rsp.results[0]).toMatchObject({ severity: "SEVERITY_FATAL", reason: "RequestRefused" });
    expect(rsp.results[0]?.message).toContain('desired.resources["earlier"].l[0]');
    expect(RESPONSE_DEPTH).toBeGreaterThan(REQUEST_LIMITS.depth);
  });

  it("150,000 bad matchExpressions get a Fatal of a few KB that says how many issues it left out (it was 33 MB)", async () => {
    const matchExpressions = Array.from({ length: 150_000 }, () => ({ key: "", operator: "Nope" }));
    const rsp = await callRaw(server.client, requestBytes({ tag: "many", xr: modelCacheXr({ clusterSelector: { matchExpressions } }) }), 60_000);
    const fatal = rsp.results.find((r) => r.severity === "SEVERITY_FATAL");
    expect(fatal?.message.length).toBeLessThan(16 * 1024);
    expect(fatal?.message).toMatch(/matchExpressions\[0\]/);
    expect(fatal?.message).toMatch(/and [\d,]+ more issues left out/);
    await stillServing(server.client);
  });

  it("250,000 keys in one object are refused at the limit, before the rest is read (3.7 MB blocked the event loop for 33 s)", async () => {
    const keys: Record<string, string> = {};
    for (let i = 0; i < 250_000; i++) keys[`k${i}`] = "v";
    const req = requestBytes({ tag: "keys", xr: modelCacheXr({}), context: structBytes(keys) });
    expect(req.length).toBeGreaterThan(3_500_000);
    const rsp = await callRaw(server.client, req, 60_000);
    expect(rsp.results[0]).toMatchObject({ severity: "SEVERITY_FATAL", reason: "RequestRefused" });
    expect(rsp.results[0]?.message).toMatch(
      new RegExp(`^function-model-cache refused the request: context: more than ${REQUEST_LIMITS.fields} keys in one object$`),
    );
    await stillServing(server.client);
  });

  const refusals = [
    {
      reason: "a string over the limit",
      req: () => requestBytes({ context: structBytes({ s: "x".repeat(REQUEST_LIMITS.stringBytes + 1) }) }),
      error: /context\.s: a string of \d+ bytes is over the limit/,
    },
    {
      reason: "a key over the limit",
      req: () => requestBytes({ context: structBytes({ ["k".repeat(REQUEST_LIMITS.keyBytes + 1)]: 1 }) }),
      error: /a string of 16385 bytes is over the limit of 16384/,
    },
    {
      reason: "a tag over the limit (every log line repeats it)",
      req: () => requestBytes({ tag: "t".repeat(REQUEST_LIMITS.tagBytes + 1) }),
      error: /^function-model-cache refused the request: meta: a string of 1025 bytes/,
    },
    {
      reason: "a list over the limit",
      req: () =>
        requestBytes({
          context: structWith("l", field(6, Buffer.concat(Array.from({ length: REQUEST_LIMITS.items + 1 }, () => field(1, Buffer.from([0x08, 0])))))),
        }),
      error: new RegExp(`context\\.l: more than ${REQUEST_LIMITS.items} items in one list`),
    },
  ];
  it.each(refusals)("refuses $reason with a Fatal naming it", async ({ req, error }) => {
    const rsp = await callRaw(server.client, req(), 60_000);
    expect(rsp.results[0]).toMatchObject({ severity: "SEVERITY_FATAL", reason: "RequestRefused" });
    expect(rsp.results[0]?.message).toMatch(error);
  });

  it("bytes that are not a request get a Fatal saying so, and the server stays up", async () => {
    const rsp = await callRaw(server.client, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(rsp.results[0]).toMatchObject({ severity: "SEVERITY_FATAL", reason: "InternalError" });
    expect(rsp.results[0]?.message).toMatch(/could not read the request: malformed RunFunctionRequest/);
    await stillServing(server.client);
  });
});
