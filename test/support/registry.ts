// Starts a real OCI registry (CNCF Distribution, from scripts/ensure-registry.sh)
// on a free loopback port over a temp directory, optionally behind htpasswd
// basic auth or JWT token auth, and pushes artifacts into it with the real
// oras CLI (scripts/ensure-oras.sh). A tool that cannot be installed makes the
// calling test fail with the script's reason.
import { execFile, spawnSync } from "node:child_process";
import { createHash, createSign, randomUUID, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./function-server.ts";
import { ensureTool, spawnUntilReady, stopChild } from "./s3-server.ts";

export const REGISTRY_USER = "fmc-test";
export const REGISTRY_PASSWORD = "fmc-test-password";
// bcrypt (cost 10) of REGISTRY_PASSWORD: the registry's htpasswd only accepts bcrypt,
// and no bcrypt tool is on a clean machine.
const HTPASSWD = `${REGISTRY_USER}:$2a$10$3WQihaclu4VlgRdFQrOQYumSIRSRxI.6mjZNSoJsic7UpLyWxHLU.\n`;

export type RegistryAuth = "none" | "htpasswd" | "token";

export interface Registry {
  /** host:port, as written in references. */
  host: string;
  auth: RegistryAuth;
  /** The filesystem storage root (docker/registry/v2/...), for tampering tests. */
  dataDir: string;
  /** A docker config JSON holding valid credentials (auth "none": an empty one). */
  authFile: string;
  /** The registry's access log so far: one line per request ("GET /v2/<repo>/blobs/<digest> ..."). */
  requests(): string[];
  /** How many token requests the token service answered (auth "token"). */
  tokenRequests(): number;
  output(): string;
  /** Runs the real oras CLI against this registry, in `cwd`; rejects with its output on failure. */
  oras(args: string[], cwd: string): Promise<string>;
  stop(): Promise<void>;
}

/** A docker config JSON with basic credentials for `host`. */
export function dockerConfig(host: string, user: string, password: string): string {
  return JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString("base64") } } });
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/**
 * A minimal token service in the shape of Docker's: basic credentials in,
 * an RS256 JWT out, whose x5c chain the registry checks against its root
 * bundle. This is the one stand-in here: registries delegate token issuing
 * to a separate service (Docker Hub's, Harbor's, ...), and none ships in Debian.
 */
async function startTokenService(
  dir: string,
  service: string,
  issuer: string,
): Promise<{
  realm: string;
  certFile: string;
  count: () => number;
  server: Server;
}> {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  const gen = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=fmc-token"],
    { encoding: "utf8" },
  );
  if (gen.status !== 0) throw new Error(`openssl could not make the token signing certificate:\n${gen.stderr}`);
  const key = await readFile(keyFile, "utf8");
  const certDer = new X509Certificate(await readFile(certFile)).raw;
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    const url = new URL(req.url ?? "/", "http://localhost");
    const expected = `Basic ${Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString("base64")}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const access = url.searchParams.getAll("scope").flatMap((scope) => {
      const [type, name, actions] = scope.split(":");
      return type && name && actions ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", x5c: [certDer.toString("base64")] };
    const claims = { iss: issuer, sub: REGISTRY_USER, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign("RSA-SHA256").update(signingInput).sign(key);
    const token = `${signingInput}.${b64url(signature)}`;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { realm: `http://127.0.0.1:${port}/token`, certFile, count: () => count, server };
}

export async function startRegistry(auth: RegistryAuth = "none"): Promise<Registry> {
  const bin = ensureTool("ensure-registry.sh");
  const orasBin = ensureTool("ensure-oras.sh");
  const dir = await mkdtemp(join(tmpdir(), "fmc-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  let token: Awaited<ReturnType<typeof startTokenService>> | undefined;
  let authYaml = "";
  if (auth === "htpasswd") {
    await writeFile(join(dir, "htpasswd"), HTPASSWD);
    authYaml = `auth:\n  htpasswd:\n    realm: fmc-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (auth === "token") {
    token = await startTokenService(dir, "fmc-test-registry", "fmc-test-issuer");
    authYaml = `auth:\n  token:\n    realm: ${token.realm}\n    service: fmc-test-registry\n    issuer: fmc-test-issuer\n    rootcertbundle: ${token.certFile}\n`;
  }
  const config = `version: 0.1
log:
  level: warn
  accesslog: {disabled: false}
storage:
  filesystem: {rootdirectory: ${join(dir, "data")}}
  delete: {enabled: true}
http:
  addr: ${host}
  secret: ${createHash("sha256").update(dir).digest("hex")}
${authYaml}`;
  await writeFile(join(dir, "config.yml"), config);
  const authFile = join(dir, "auth.json");
  await writeFile(authFile, auth === "none" ? "{}" : dockerConfig(host, REGISTRY_USER, REGISTRY_PASSWORD));
  const server = await spawnUntilReady("registry", bin, ["serve", join(dir, "config.yml")], {}, async () => {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.status === 200 || res.status === 401;
  }).catch(async (err: unknown) => {
    token?.server.close();
    throw err;
  });
  // The access log goes to stdout; keep its request lines (bounded) for tests that count requests.
  const requests: string[] = [];
  let partial = "";
  server.child.stdout?.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) if (/"(GET|HEAD|PUT|POST|PATCH) \/v2\//.test(l) && requests.length < 100_000) requests.push(l);
  });
  return {
    host,
    auth,
    requests: () => [...requests],
    dataDir: join(dir, "data"),
    authFile,
    tokenRequests: () => token?.count() ?? 0,
    output: server.output,
    // Asynchronous: the token service answering oras runs in this process.
    oras: (args, cwd) =>
      new Promise<string>((resolve, reject) => {
        execFile(
          orasBin,
          [...args, "--plain-http", "--registry-config", authFile],
          { cwd, timeout: 120_000, env: { ...process.env, HOME: dir } },
          (err, stdout, stderr) => {
            if (err) reject(new Error(`oras ${args.join(" ")} failed (${err.message}):\n${stdout}\n${stderr}`));
            else resolve(stdout);
          },
        );
      }),
    stop: async () => {
      await stopChild(server);
      if (token) await new Promise<void>((resolve) => token?.server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
