// Issue 9, items 7 and 8 (network): no credential leaves the hydrator in any
// text it writes, and a redirect it will never follow fails at once. Real
// nginx plays the hostile server: its error page echoes the Authorization
// header and the query string it received (as some proxies and debug pages
// do), and one location redirects to file:///etc/passwd. The real CLI runs as
// a Job does (only the given environment), and the report on stdout, the
// termination log and stderr are searched for every secret.
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliIsolated } from "../support/hydrator.ts";
import { startNginx, type Nginx } from "../support/nginx.ts";

let work: string;
let root: string;
let nginx: Nginx;
const BODY = "weights\n";
const SHA = createHash("sha256").update(BODY).digest("hex");

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fmc-sec-cred-"));
  root = join(work, "www");
  await import("node:fs/promises").then((fs) => fs.mkdir(root));
  await writeFile(join(root, "x.bin"), BODY);
  nginx = await startNginx(root, {
    serverConfig: `
    # HEAD succeeds (the listing), GET fails with a page echoing what the client sent.
    location /echo/ {
      alias ${root}/;
      if ($request_method = GET) { return 401 "denied: authorization=[$http_authorization] uri=[$request_uri]"; }
    }
    location /api/ { return 401 "denied: authorization=[$http_authorization]"; }
    location = /to-file/x.bin { return 302 file:///etc/passwd; }
    location = /to-ftp/x.bin { return 307 ftp://127.0.0.1/x.bin; }`,
  });
}, 120_000);
afterAll(async () => {
  await nginx?.stop();
  await rm(work, { recursive: true, force: true });
});

let n = 0;
interface Outputs {
  code: number | null;
  /** stdout and stderr together, as `kubectl logs` shows them. */
  out: string;
  terminationLog: string;
}

async function hydrate(args: string[], env: Record<string, string>): Promise<Outputs> {
  const log = join(work, `termination-${++n}`);
  const run = await runCliIsolated(["hydrate", ...args, "--dest", join(work, `dest-${n}`), "--progress", "json", "--termination-log", log], env);
  return { code: run.code, out: run.out, terminationLog: await readFile(log, "utf8").catch(() => "") };
}

describe("every text that leaves the hydrator is scrubbed of the credentials it holds", () => {
  const presigned =
    "X-Amz-Credential=AKIAPRESIGNED%2F20240101&X-Amz-Security-Token=FwoGZXIvYXdzEPresignedSessionToken&X-Amz-Signature=9f8e7d6c5b4a39281706f5e4d3c2b1a0";
  const cases: { name: string; args: () => string[]; env: Record<string, string>; secrets: string[] }[] = [
    {
      name: "a bearer token from the cache's Secret (MODELCACHE_HTTP_TOKEN), echoed in a 401 page",
      args: () => ["--source", `${nginx.url}/echo/x.bin`, "--sha256", SHA],
      env: { MODELCACHE_HTTP_TOKEN: "s3cr3t-bearer-token-value" },
      secrets: ["s3cr3t-bearer-token-value"],
    },
    {
      name: "basic credentials from a kubernetes.io/basic-auth Secret, echoed base64-encoded",
      args: () => ["--source", `${nginx.url}/echo/x.bin`, "--sha256", SHA],
      env: { MODELCACHE_HTTP_USERNAME: "robot", MODELCACHE_HTTP_PASSWORD: "basic-auth-password" },
      secrets: ["basic-auth-password", Buffer.from("robot:basic-auth-password").toString("base64")],
    },
    {
      name: "userinfo in a URL on a laptop (user:password@), echoed as the Basic header it became",
      args: () => ["--source", `${nginx.url.replace("http://", "http://alice:userinfo-password@")}/echo/x.bin`, "--sha256", SHA],
      env: {},
      secrets: ["userinfo-password", Buffer.from("alice:userinfo-password").toString("base64")],
    },
    {
      name: "a presigned URL's query, echoed in the page",
      args: () => ["--source", `${nginx.url}/echo/x.bin?${presigned}`, "--sha256", SHA],
      env: {},
      secrets: ["AKIAPRESIGNED", "FwoGZXIvYXdzEPresignedSessionToken", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"],
    },
    {
      name: "a Hugging Face token, echoed by the hub endpoint's 401 page",
      args: () => ["--source", "hf://org/model@main", "--endpoint", nginx.url],
      env: { HF_TOKEN: "hf_EchoedTokenValue0123456789abcdef" },
      secrets: ["hf_EchoedTokenValue0123456789abcdef"],
    },
    {
      name: "an Azure SAS token (AZURE_STORAGE_SAS_TOKEN), echoed from the query of the listing request",
      args: () => ["--source", "azure://acct/models/x", "--endpoint", `${nginx.url}/echo`],
      env: { AZURE_STORAGE_SAS_TOKEN: "sv=2024-11-04&sp=rl&sr=c&se=2030-01-01&sig=AzureSasSignatureValue0123456789%3D" },
      secrets: ["AzureSasSignatureValue0123456789", "sv=2024-11-04&sp=rl&sr=c&se=2030-01-01&sig="],
    },
    {
      name: "an Azure account key (AZURE_STORAGE_KEY): never sent, and the Shared Key signature it makes is masked where echoed",
      args: () => ["--source", "azure://acct/models/x", "--endpoint", `${nginx.url}/echo`],
      env: { AZURE_STORAGE_KEY: Buffer.alloc(64, 42).toString("base64") },
      secrets: [Buffer.alloc(64, 42).toString("base64"), "SharedKey acct:"],
    },
  ];

  it.each(cases)("$name", async ({ args, env, secrets }) => {
    const r = await hydrate(args(), env);
    expect(r.code, r.out).toBe(3);
    // The failure is still explained: the status, and that the server refused.
    const report = JSON.parse(r.terminationLog) as { phase: string; message: string };
    expect(report.phase).toBe("Failed");
    expect(report.message).toContain("HTTP 401");
    // The credential was sent and echoed (so the test can fail), and what stands in its place is the mask.
    expect(report.message).toContain("***");
    for (const s of secrets) {
      expect(r.out, `stdout/stderr carry ${s}`).not.toContain(s);
      expect(r.terminationLog, `the termination log carries ${s}`).not.toContain(s);
    }
  });
});

describe("a redirect the hydrator will never follow fails permanently, at once", () => {
  it.each([
    ["/to-file/x.bin", "file:///etc/passwd", "a redirect to file:// (a local file read, were it followed)"],
    ["/to-ftp/x.bin", "ftp://127.0.0.1/x.bin", "a redirect to another scheme"],
  ])("%s -> %s: %s", async (path, target) => {
    const r = await hydrate(["--source", `${nginx.url}${path}`, "--sha256", SHA], {});
    // Before: "fetch failed" was taken for a network error and retried 8 times with backoff, then exit 1.
    expect(r.code, r.out).toBe(3);
    expect(r.out).not.toContain('"event":"retry"');
    expect(JSON.parse(r.terminationLog)).toMatchObject({ phase: "Failed", message: expect.stringContaining(`redirects to ${target}`) as unknown });
  });
});
