// Test PKI made with the real openssl CLI: a CA with a server and a client
// certificate, and a second CA whose client certificate must be refused.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPki {
  /** Holds tls.crt, tls.key and ca.crt as Crossplane mounts them. */
  serverDir: string;
  ca: Buffer;
  client: { cert: Buffer; key: Buffer };
  foreignClient: { cert: Buffer; key: Buffer };
  /**
   * Shaped as Crossplane issues its client certificate: the CA's own subject,
   * no key identifiers. OpenSSL's verifier takes it for self-signed.
   */
  crossplaneClient: { cert: Buffer; key: Buffer };
  /** Signed by the CA, but only for servers. */
  serverOnlyClient: { cert: Buffer; key: Buffer };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
  );
}

function makeLeaf(dir: string, ca: string, name: string, ext: string, subject = `/CN=${name}`): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject, "-keyout", `${name}.key`, "-out", `${name}.csr`);
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.crt`,
  );
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "fmc-pki-"));
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  makeLeaf(dir, "ca", "server", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  makeLeaf(dir, "ca", "client", "extendedKeyUsage=clientAuth\n");
  makeLeaf(dir, "other-ca", "intruder", "extendedKeyUsage=clientAuth\n");
  makeLeaf(
    dir,
    "ca",
    "crossplane",
    "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=none\nauthorityKeyIdentifier=none\nbasicConstraints=critical,CA:FALSE\n",
    "/CN=ca",
  );
  makeLeaf(dir, "ca", "server-only", "extendedKeyUsage=serverAuth\n");
  const serverDir = mkdtempSync(join(tmpdir(), "fmc-tls-"));
  writeFileSync(join(serverDir, "tls.crt"), readFileSync(join(dir, "server.crt")));
  writeFileSync(join(serverDir, "tls.key"), readFileSync(join(dir, "server.key")));
  writeFileSync(join(serverDir, "ca.crt"), readFileSync(join(dir, "ca.crt")));
  const read = (f: string) => readFileSync(join(dir, f));
  return {
    serverDir,
    ca: read("ca.crt"),
    client: { cert: read("client.crt"), key: read("client.key") },
    foreignClient: { cert: read("intruder.crt"), key: read("intruder.key") },
    crossplaneClient: { cert: read("crossplane.crt"), key: read("crossplane.key") },
    serverOnlyClient: { cert: read("server-only.crt"), key: read("server-only.key") },
  };
}
