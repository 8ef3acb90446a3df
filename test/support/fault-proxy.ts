// A small HTTP proxy in front of a real server (nginx) that injects the
// faults nginx cannot produce on demand: a connection cut after N body bytes
// and a status (429, 503) with Retry-After. Everything else is forwarded as
// is (method, path, Range, If-Match; status and headers back), so the bytes
// still come from nginx and nginx's access log still shows every request
// that reached it. Faults apply to GETs of one path and are consumed as they
// fire; every request is logged with its time.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ProxyFault = { kind: "cut"; afterBytes: number } | { kind: "status"; status: number; retryAfter?: string; delayMs?: number };

export interface ProxiedRequest {
  method: string;
  path: string;
  range?: string;
  at: number;
  /** What the proxy did: forwarded, or the fault it injected. */
  outcome: "forwarded" | "cut" | "status";
}

export interface FaultProxy {
  url: string;
  /** Queue a fault for the next GET of `path` (faults queue in order). */
  fault(path: string, f: ProxyFault): void;
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const up = new URL(upstream);
  const faults = new Map<string, ProxyFault[]>();
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? "/";
    const fault = req.method === "GET" ? faults.get(path)?.shift() : undefined;
    const log: ProxiedRequest = {
      method: req.method ?? "GET",
      path,
      // Azure's clients send the range as x-ms-range.
      ...(req.headers.range ? { range: req.headers.range } : typeof req.headers["x-ms-range"] === "string" ? { range: req.headers["x-ms-range"] } : {}),
      at: Date.now(),
      outcome: "forwarded",
    };
    requests.push(log);
    if (fault?.kind === "status") {
      log.outcome = "status";
      // A delay lets a test have other requests in flight when the fault lands.
      setTimeout(() => {
        res.writeHead(fault.status, { "content-type": "text/plain", ...(fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : {}) });
        res.end(`injected ${fault.status}\n`);
      }, fault.delayMs ?? 0);
      return;
    }
    const headers = { ...req.headers, host: up.host };
    const upReq = request({ host: up.hostname, port: up.port, method: req.method, path, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (fault?.kind !== "cut") {
        upRes.pipe(res);
        return;
      }
      let sent = 0;
      upRes.on("data", (b: Buffer) => {
        if (sent >= fault.afterBytes) return;
        const part = b.subarray(0, fault.afterBytes - sent);
        sent += part.length;
        if (sent < fault.afterBytes) return void res.write(part);
        // Flush the last part, then drop the connection mid-body, as a reset middlebox or a dying pod would.
        log.outcome = "cut";
        res.write(part, () => {
          res.socket?.destroy();
          upRes.destroy();
        });
      });
    });
    upReq.on("error", () => res.destroy());
    // A client that hangs up ends the upstream request too, as a real proxy does, so nginx logs it as cut short.
    res.on("close", () => {
      if (!res.writableFinished) upReq.destroy();
    });
    req.pipe(upReq);
  };

  const server = createServer(handle);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    fault(path, f) {
      faults.set(path, [...(faults.get(path) ?? []), f]);
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
