// Server credentials: mutual TLS from the directory Crossplane mounts
// (tls.crt, tls.key, ca.crt), or plaintext when asked for explicitly.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";

export type LoadedCredentials = { ok: true; credentials: grpc.ServerCredentials; mode: "mtls" | "insecure" } | { ok: false; error: string };

export async function loadServerCredentials(tlsCertsDir: string | undefined, insecure: boolean): Promise<LoadedCredentials> {
  if (tlsCertsDir === undefined) {
    return insecure
      ? { ok: true, credentials: grpc.ServerCredentials.createInsecure(), mode: "insecure" }
      : { ok: false, error: "no TLS certificates and --insecure not set" };
  }
  const read = async (name: string) => readFile(join(tlsCertsDir, name));
  try {
    const [cert, key, ca] = await Promise.all([read("tls.crt"), read("tls.key"), read("ca.crt")]);
    // checkClientCertificate=true: a client must present a certificate signed
    // by ca.crt. Node's TLS floor is 1.2, so older protocols are refused.
    return {
      ok: true,
      credentials: grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true),
      mode: "mtls",
    };
  } catch (err) {
    return { ok: false, error: `reading TLS certificates from ${tlsCertsDir}: ${(err as Error).message}` };
  }
}
