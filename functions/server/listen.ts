// Where the server listens. Plaintext binds through grpc-js. Mutual TLS is
// terminated here, by a Node TLS server that asks every client for a
// certificate and checks it itself (client-cert.ts says why OpenSSL's own
// check refuses Crossplane's certificate); a connection that passes is handed
// to grpc-js (its connection injector), one that does not is closed before a
// byte of HTTP/2 is read, and the reason is logged.
import { createServer, type TLSSocket } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { verifyClientCertificate } from "./client-cert.ts";
import type { LoadedCredentials } from "./credentials.ts";

export interface Listening {
  port: number;
  /** Stop accepting connections (calls in flight go on; the grpc-js server drains them). */
  close(): void;
}

type Ready = Exclude<LoadedCredentials, { ok: false }>;

/** host:port, [v6]:port. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`--address ${address}: must be host:port`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port: Number(m[3]) };
}

export async function listen(server: grpc.Server, address: string, creds: Ready, onRefused: (reason: string, peer: string) => void): Promise<Listening> {
  if (creds.mode === "insecure") {
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    return { port, close: () => {} };
  }
  const { host, port } = splitAddress(address);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const tls = createServer({
    cert: creds.tls.cert,
    key: creds.tls.key,
    ca: creds.tls.ca,
    requestCert: true,
    // Judged by verifyClientCertificate below, never skipped.
    rejectUnauthorized: false,
    ALPNProtocols: ["h2"],
    minVersion: "TLSv1.2",
  });
  tls.on("secureConnection", (socket: TLSSocket) => {
    const peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    const verdict = verifyClientCertificate(socket.getPeerCertificate(false).raw, creds.tls.cas);
    if (!verdict.ok) {
      onRefused(verdict.reason, peer);
      socket.destroy();
      return;
    }
    socket.on("error", () => socket.destroy());
    injector.injectConnection(socket);
  });
  tls.on("tlsClientError", (err, socket) => onRefused(`TLS handshake failed: ${err.message}`, `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`));
  const bound = await new Promise<number>((resolve, reject) => {
    tls.once("error", reject);
    tls.listen(port, host, () => {
      const a = tls.address();
      resolve(typeof a === "object" && a !== null ? a.port : port);
    });
  });
  return { port: bound, close: () => tls.close() };
}
