// Server credentials: mutual TLS from the directory Crossplane mounts
// (tls.crt, tls.key, ca.crt), or plaintext when asked for explicitly.
import type { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseBundle } from "./client-cert.ts";

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  /** ca.crt parsed: the CAs a client certificate must be signed by. */
  cas: X509Certificate[];
}

export type LoadedCredentials = { ok: true; mode: "insecure" } | { ok: true; mode: "mtls"; tls: TlsMaterial } | { ok: false; error: string };

export async function loadServerCredentials(tlsCertsDir: string | undefined, insecure: boolean): Promise<LoadedCredentials> {
  if (tlsCertsDir === undefined) {
    return insecure ? { ok: true, mode: "insecure" } : { ok: false, error: "no TLS certificates and --insecure not set" };
  }
  const read = async (name: string) => readFile(join(tlsCertsDir, name));
  try {
    const [cert, key, ca] = await Promise.all([read("tls.crt"), read("tls.key"), read("ca.crt")]);
    const cas = parseBundle(ca);
    if (cas.length === 0) return { ok: false, error: `${join(tlsCertsDir, "ca.crt")} holds no PEM certificate` };
    return { ok: true, mode: "mtls", tls: { cert, key, ca, cas } };
  } catch (err) {
    return { ok: false, error: `reading TLS certificates from ${tlsCertsDir}: ${(err as Error).message}` };
  }
}
