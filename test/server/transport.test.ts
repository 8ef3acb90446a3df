// How the real server takes a request's bytes (issue 14, the transport): each
// connection gets a 1 MiB HTTP/2 receive window instead of 64 KiB (calls.ts),
// and a request of many windows and frames is assembled once, intact
// (assemble.ts), moved to a worker and answered.
import * as http2 from "node:http2";
import { describe, expect, it } from "vitest";
import { RUN_FUNCTION_PATH } from "../../functions/protocol/load.ts";
import { RECEIVE_WINDOW_BYTES } from "../../functions/server/calls.ts";
import { callBytes, desiredResource, requestBytes, serverUnderTest, structBytes } from "../security/server-wire.ts";

const s = serverUnderTest(["--insecure", "--max-recv-message-size", "16"]);

/** One RunFunction call over a plain node:http2 session; resolves with the grpc-status once the stream ends. */
function call(session: http2.ClientHttp2Session, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": RUN_FUNCTION_PATH, "content-type": "application/grpc", te: "trailers" });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(body.length, 1);
    stream.end(Buffer.concat([prefix, body]));
    stream.resume();
    stream.on("trailers", (t) => resolve(String(t["grpc-status"])));
    stream.on("error", reject);
  });
}

const xr = structBytes({ apiVersion: "example.org/v1", kind: "SomethingElse", metadata: { name: "x", namespace: "team-a" } });

describe("the transport", () => {
  it("gives a connection a receive window of RECEIVE_WINDOW_BYTES, not HTTP/2's 64 KiB", async () => {
    const session = http2.connect(`http://127.0.0.1:${s.fn.port}`);
    try {
      expect(await call(session, requestBytes({ xr }))).toBe("0");
      // The stream's window (SETTINGS_INITIAL_WINDOW_SIZE) and the connection's (WINDOW_UPDATE), as the client sees them.
      expect(session.remoteSettings.initialWindowSize).toBe(RECEIVE_WINDOW_BYTES);
      expect(session.state.remoteWindowSize).toBeGreaterThan(65_535);
    } finally {
      session.close();
    }
  });

  it("a request of many windows and frames arrives whole: every desired resource comes back as sent", async () => {
    // 600 resources of ~10 KB: 6 MB, over five windows, hundreds of 16 KiB frames.
    const desired: Record<string, Buffer> = {};
    for (let i = 0; i < 600; i++)
      desired[`r-${i}`] = structBytes({ apiVersion: "v1", kind: "ConfigMap", data: { i: String(i), pad: `${i}:`.padEnd(10_000, "x") } });
    const req = requestBytes({ xr, desired });
    expect(req.length).toBeGreaterThan(5 * RECEIVE_WINDOW_BYTES);
    const rsp = await callBytes(s.client, req);
    for (const i of [0, 1, 299, 599])
      expect(desiredResource(rsp, `r-${i}`)).toEqual({ apiVersion: "v1", kind: "ConfigMap", data: { i: String(i), pad: `${i}:`.padEnd(10_000, "x") } });
  });
});
