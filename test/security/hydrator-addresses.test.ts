// The hydrator's side of tenancy.sources.refusedAddresses: it never connects
// to a refused address, whatever led there. The function refuses specs that
// name such hosts; a name that resolves to one, or a redirect from an allowed
// server, only the hydrator can catch. Real nginx redirects to the cloud
// metadata address; `localhost` (with Loopback refused) stands for a name
// that resolves to a refused address; the real CLI runs as a Job does. Each
// refusal is permanent (exit 3, or 2 for an S3 or Azure endpoint written as an address)
// and says which address and why.
import { createHash, generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliIsolated } from "../support/hydrator.ts";
import { startNginx, type Nginx } from "../support/nginx.ts";

let work: string;
let nginx: Nginx;
const BODY = "weights\n";
const SHA = createHash("sha256").update(BODY).digest("hex");

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "fmc-sec-addr-"));
  const root = join(work, "www");
  await mkdir(root);
  await writeFile(join(root, "x.bin"), BODY);
  // A key whose token_uri is GCP's metadata server (by address; names are refused by the function, lookups here): the hydrator must not connect there, whatever the key says.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const key = {
    type: "service_account",
    client_email: "x@p.iam.gserviceaccount.com",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    token_uri: "http://169.254.169.254/computeMetadata/v1/token",
  };
  await writeFile(join(work, "metadata-key.json"), JSON.stringify(key));
  nginx = await startNginx(root, {
    serverConfig: "location = /to-metadata/x.bin { return 302 http://169.254.169.254/latest/meta-data/iam/security-credentials/node; }",
  });
}, 120_000);
afterAll(async () => {
  await nginx?.stop();
  await rm(work, { recursive: true, force: true });
});

let n = 0;
async function hydrate(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; dest: string }> {
  const dest = join(work, `dest-${++n}`);
  const run = await runCliIsolated(["hydrate", ...args, "--dest", dest, "--progress", "json", "--termination-log", join(work, `log-${n}`)], env);
  return { ...run, dest };
}

describe("the hydrator never connects to a refused address", () => {
  const cases: { reason: string; args: () => string[]; env?: () => Record<string, string>; code: number; says: RegExp }[] = [
    {
      reason: "a URL at the metadata address, refused by default",
      // A file URL: one ending in "/" is refused earlier, as a directory (--files).
      args: () => ["--source", "http://169.254.169.254/latest/meta-data/iam", "--sha256", SHA],
      code: 3,
      says: /does not connect to 169\.254\.169\.254: a link-local address \(LinkLocal\), which the platform refuses \(--refuse-addresses\)/,
    },
    {
      reason: "an allowed server redirecting to the metadata address",
      args: () => ["--source", `${nginx.url}/to-metadata/x.bin`, "--sha256", SHA],
      code: 3,
      says: /does not connect to 169\.254\.169\.254: a link-local address \(LinkLocal\)/,
    },
    {
      reason: "a name that resolves to a refused address (localhost, with Loopback refused)",
      args: () => ["--source", `${nginx.url.replace("127.0.0.1", "localhost")}/x.bin`, "--sha256", SHA, "--refuse-addresses", "Loopback"],
      code: 3,
      says: /does not connect to localhost \((127\.0\.0\.1|::1)\): a loopback address \(Loopback\)/,
    },
    {
      reason: "an S3 endpoint whose name resolves to a refused address (the AWS SDK's connections)",
      args: () => ["--source", "s3://models/x", "--endpoint", "http://localhost:9", "--refuse-addresses", "Loopback"],
      code: 3,
      says: /does not connect to localhost \((127\.0\.0\.1|::1)\): a loopback address \(Loopback\)/,
    },
    {
      reason: "an S3 endpoint written as a refused address",
      args: () => ["--source", "s3://models/x", "--endpoint", "http://[fd00:ec2::254]", "--refuse-addresses", "Metadata"],
      code: 2,
      says: /--endpoint: the hydrator does not connect to fd00:ec2::254: a cloud metadata service \(Metadata\)/,
    },
    {
      reason: "a GCS endpoint whose name resolves to a refused address (the JSON API over the guarded fetch)",
      args: () => ["--source", "gs://models/x", "--endpoint", "http://localhost:27199", "--refuse-addresses", "Loopback"],
      code: 3,
      says: /does not connect to localhost \((127\.0\.0\.1|::1)\): a loopback address \(Loopback\)/,
    },
    {
      reason: "a GCS endpoint written as a refused address",
      args: () => ["--source", "gs://models/x", "--endpoint", "http://169.254.169.254", "--refuse-addresses", "LinkLocal,Metadata"],
      code: 2,
      says: /--endpoint: the hydrator does not connect to 169\.254\.169\.254: a link-local address \(LinkLocal\)/,
    },
    {
      reason: "a service-account key whose token endpoint is the metadata server (the token exchange is guarded too)",
      args: () => ["--source", "gs://models/x", "--endpoint", `${nginx.url}`],
      env: () => ({ GOOGLE_APPLICATION_CREDENTIALS: join(work, "metadata-key.json") }),
      code: 3,
      says: /the token endpoint http:\/\/169\.254\.169\.254 \(service account x@p\.iam\.gserviceaccount\.com\): the hydrator does not connect to 169\.254\.169\.254: a link-local address \(LinkLocal\)/,
    },
    {
      reason: "an Azure endpoint whose name resolves to a refused address (the Azure SDK's connections)",
      args: () => ["--source", "azure://acct/models/x", "--endpoint", "http://localhost:9/acct", "--refuse-addresses", "Loopback"],
      code: 3,
      says: /does not connect to localhost \((127\.0\.0\.1|::1)\): a loopback address \(Loopback\)/,
    },
    {
      reason: "an Azure endpoint written as a refused address",
      args: () => ["--source", "azure://acct/models/x", "--endpoint", "http://[fd00:ec2::254]/acct", "--refuse-addresses", "Metadata"],
      code: 2,
      says: /--endpoint: the hydrator does not connect to fd00:ec2::254: a cloud metadata service \(Metadata\)/,
    },
  ];
  it.each(cases)("$reason", async ({ args, env, code, says }) => {
    const run = await hydrate(args(), env?.() ?? {});
    expect(run.out).toMatch(says);
    expect(run.code, run.out).toBe(code);
    // Refused at once, never retried: no retry notice.
    expect(run.out).not.toMatch(/"event":"retry"/);
    expect(existsSync(join(run.dest, "x.bin"))).toBe(false);
  });

  it("the same server on loopback is fetched when Loopback is not refused (the default)", async () => {
    const run = await hydrate(["--source", `${nginx.url.replace("127.0.0.1", "localhost")}/x.bin`, "--sha256", SHA]);
    expect(run.code, run.out).toBe(0);
  });

  it("an unknown class is a usage error naming the flag", async () => {
    const run = await hydrate(["--source", `${nginx.url}/x.bin`, "--sha256", SHA, "--refuse-addresses", "Internal"]);
    expect(run.code).toBe(2);
    expect(run.out).toMatch(/--refuse-addresses: "Internal" is not an address class \(LinkLocal, Metadata, Loopback, Private\)/);
  });
});
