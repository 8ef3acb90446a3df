// Every error path a person meets with the hydrator by hand, through the real
// CLI against real nginx (plain HTTP and HTTPS with a private CA and a
// self-signed certificate): the words (with the fix), the exit code, whether
// it was retried, and that nothing was published or left behind.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HydrationReport } from "../../functions/api/hydration-report.ts";
import { makeTestPki } from "../support/certs.ts";
import { freePort } from "../support/function-server.ts";
import { runCli, runCliRaw } from "../support/hydrator.ts";
import { startNginx, type Nginx } from "../support/nginx.ts";

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const weights = randomBytes(256 * 1024 + 3);

let work: string;
let privateCa: Nginx; // a server certificate signed by a CA this machine does not trust
let selfSigned: Nginx; // a self-signed server certificate
let caFile: string;
let closedPort: number;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "fmc-cli-errors-"));
  const www = join(work, "www");
  mkdirSync(join(www, "model"), { recursive: true });
  writeFileSync(join(www, "model", "weights.bin"), weights);
  writeFileSync(join(www, "model", "config.json"), "{}\n");
  const pki = makeTestPki();
  caFile = join(work, "ca.pem");
  writeFileSync(caFile, pki.ca);
  // autoindex: a directory answers with an HTML listing, as many mirrors do.
  privateCa = await startNginx(www, {
    tls: { certFile: join(pki.serverDir, "tls.crt"), keyFile: join(pki.serverDir, "tls.key") },
    serverConfig: "location /model/ { autoindex on; }",
  });
  execFileSync(
    "openssl",
    [
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
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(work, "self.key"),
      "-out",
      join(work, "self.crt"),
    ],
    { stdio: "pipe" },
  );
  selfSigned = await startNginx(www, { tls: { certFile: join(work, "self.crt"), keyFile: join(work, "self.key") } });
  closedPort = await freePort();
});

afterAll(async () => {
  await privateCa?.stop();
  await selfSigned?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** A destination path that does not exist yet. */
const fresh = (): string => join(work, `dest${++n}`);
/** Every path under `dir`, sorted (what a failed run must leave as it found). */
const tree = (dir: string): string[] => (existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).sort() : ["<absent>"]);

interface Case {
  name: string;
  /** Arguments after `hydrate` (or a whole `verify ...` command); `dest` is where the run writes. */
  args: (dest: string) => string[];
  env?: () => Record<string, string>;
  /** Files the destination holds before the run (absent when undefined). */
  before?: Record<string, string>;
  code: number;
  /** stderr, whole, or a pattern. */
  stderr: () => string | RegExp;
  /** How many retry notices the run printed (--progress json puts them on stdout). */
  retries: number;
  /** nginx requests for the file, when it matters (downloaded once, or never). */
  gets?: { server: () => Nginx; uri: string; count: number };
  /** A permanent failure (exit 3) of the destination, not of the source: the report says whose. */
  ofDestination?: true;
}

const PREFIX = "function-model-cache hydrate: ";
const cases: Case[] = [
  {
    name: "nothing listens on the port: in words, retried at the listing (--attempts 2: once), exit 1",
    args: (d) => ["--source", `http://127.0.0.1:${closedPort}/m.bin`, "--dest", d, "--attempts", "2", "--refuse-addresses", ""],
    code: 1,
    stderr: () =>
      new RegExp(
        `^${PREFIX}http://127\\.0\\.0\\.1:\\d+/m\\.bin: connection refused by 127\\.0\\.0\\.1:\\d+ \\(ECONNREFUSED\\): nothing is listening there; check the port in the URL and that the server is running\\n$`,
      ),
    retries: 1,
  },
  {
    name: "a host name that does not resolve: in words (check the name), retried, exit 1",
    args: (d) => ["--source", "http://no-such-host.invalid/m.bin", "--dest", d, "--attempts", "2"],
    code: 1,
    stderr: () =>
      /^function-model-cache hydrate: http:\/\/no-such-host\.invalid\/m\.bin: the host name no-such-host\.invalid (does not resolve \(ENOTFOUND\); check it for a typo|could not be resolved now \(EAI_AGAIN)/,
    retries: 1,
  },
  {
    name: "a certificate from a CA this machine does not trust: permanent (never retried), says --ca-file, exit 3",
    args: (d) => ["--source", `${privateCa.httpsUrl}/model/weights.bin`, "--dest", d, "--refuse-addresses", ""],
    code: 3,
    stderr: () =>
      /presents a TLS certificate signed by a CA this machine does not trust \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); trust the CA that signed it with --ca-file <ca\.pem> \(or the environment: NODE_EXTRA_CA_CERTS=<ca\.pem>/,
    retries: 0,
  },
  {
    name: "a self-signed certificate: permanent, same fix, exit 3",
    args: (d) => ["--source", `${selfSigned.httpsUrl}/model/weights.bin`, "--dest", d, "--refuse-addresses", ""],
    code: 3,
    stderr: () => /presents a self-signed TLS certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); trust the CA that signed it with --ca-file/,
    retries: 0,
  },
  {
    name: "an address class the platform refuses stays permanent (ERR_ADDRESS_REFUSED), exit 3",
    args: (d) => ["--source", "http://169.254.169.254/latest/meta-data/iam", "--dest", d],
    code: 3,
    stderr: () =>
      `${PREFIX}http://169.254.169.254/latest/meta-data/iam: the hydrator does not connect to 169.254.169.254: a link-local address (LinkLocal), which the platform refuses (--refuse-addresses)\n`,
    retries: 0,
  },
  {
    name: "a directory URL (ends in /): a usage error naming --files, one line and a pointer to --help, exit 2",
    args: (d) => ["--source", `${privateCa.url}/model/`, "--dest", d],
    code: 2,
    stderr: () =>
      new RegExp(
        `^${PREFIX}--source http://127\\.0\\.0\\.1:\\d+/model/ names a directory \\(it ends in "/"\\), not a file: .* pass it with --files, .*\\nRun "function-model-cache hydrate --help" for the flags\\.\\n$`,
      ),
    retries: 0,
  },
  {
    name: "a directory URL without the slash (nginx redirects to .../model/): refused at listing with the same fix, exit 3",
    args: (d) => ["--source", `${privateCa.url}/model`, "--dest", d, "--refuse-addresses", ""],
    code: 3,
    stderr: () => /the server redirects to a directory; http:\/\/127\.0\.0\.1:\d+\/model\/ names a directory .* pass it with --files/,
    retries: 0,
  },
  {
    name: "a wrong --sha256: the user's own pin, said once, downloaded once, exit 3",
    args: (d) => ["--source", `${privateCa.url}/model/weights.bin`, "--sha256", "0".repeat(64), "--dest", d, "--refuse-addresses", ""],
    code: 3,
    stderr: () =>
      `${PREFIX}${privateCa.url}/model/weights.bin: the file's sha256 is ${sha(weights)}, not ${"0".repeat(64)} as pinned with --sha256: the pin is wrong or the server holds other bytes\n`,
    retries: 0,
    gets: { server: () => privateCa, uri: "/model/weights.bin", count: 1 },
  },
  {
    name: "a non-empty --dest that is not a published artifact: refused before any download, exit 3",
    args: (d) => ["--source", `${privateCa.url}/model/weights.bin`, "--sha256", sha(weights), "--dest", d, "--refuse-addresses", ""],
    before: { "README.txt": "my notes\n" },
    code: 3,
    stderr: () =>
      /already holds files that are not part of this artifact \(README\.txt\); nothing was fetched or published: hydrate into an empty or new directory, or move those files away/,
    retries: 0,
    gets: { server: () => privateCa, uri: "/model/weights.bin", count: 0 },
    ofDestination: true,
  },
  {
    name: "a --ca-file that holds no certificate: a usage error, exit 2",
    args: (d) => ["--source", `${privateCa.httpsUrl}/model/weights.bin`, "--dest", d, "--ca-file", join(work, "www", "model", "config.json")],
    code: 2,
    stderr: () => /--ca-file .*config\.json: no PEM certificate in it/,
    retries: 0,
  },
  {
    name: "an unknown flag: one line and a pointer to --help, not a page of usage, exit 2",
    args: (d) => ["--source", `${privateCa.url}/model/weights.bin`, "--dest", d, "--sha", "x"],
    code: 2,
    stderr: () => /^function-model-cache hydrate: Unknown option '--sha'[^\n]*\nRun "function-model-cache hydrate --help" for the flags\.\n$/,
    retries: 0,
  },
];

describe("hydrate's error paths", () => {
  it.each(cases)("$name", async (c) => {
    const dest = fresh();
    if (c.before) {
      mkdirSync(dest);
      for (const [p, content] of Object.entries(c.before)) writeFileSync(join(dest, p), content);
    }
    const before = tree(dest);
    const logFrom = c.gets ? (await c.gets.server().requests()).length : 0;
    const r = await runCliRaw(["hydrate", ...c.args(dest), "--progress", "json", "--output", "json"], c.env?.() ?? {});
    expect(r.code, r.stderr).toBe(c.code);
    const want = c.stderr();
    if (typeof want === "string") expect(r.stderr).toBe(want);
    else expect(r.stderr).toMatch(want);
    const lines = r.stdout
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      lines.filter((l) => l["event"] === "retry"),
      "retry notices",
    ).toHaveLength(c.retries);
    if (c.code !== 2) {
      // The report says the same, Failed, and says nothing was published.
      const report = HydrationReport.parse(lines.at(-1));
      expect(report.phase).toBe("Failed");
      expect(report.manifestDigest).toBeUndefined();
      // Whether retrying can help, and whose a permanent failure is: what the function's retry policy reads.
      expect(report.permanent, "the report's permanent").toBe(c.code === 1 ? undefined : c.ofDestination ? "Destination" : "Source");
    } else expect(r.stdout, "a usage error prints no report").toBe("");
    expect(tree(dest), "nothing published, nothing left behind").toEqual(before);
    if (c.gets) {
      const gets = (await c.gets.server().requests()).slice(logFrom).filter((l) => l.startsWith(`GET ${c.gets?.uri} `));
      expect(gets, "GETs of the file").toHaveLength(c.gets.count);
    }
  });
});

describe("trusting a private CA", () => {
  it("--ca-file makes the same HTTPS source work", async () => {
    const d = fresh();
    const r = await runCli([
      "hydrate",
      "--source",
      `${privateCa.httpsUrl}/model/weights.bin`,
      "--sha256",
      sha(weights),
      "--dest",
      d,
      "--ca-file",
      caFile,
      "--refuse-addresses",
      "",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(d, "weights.bin")).equals(weights)).toBe(true);
  });

  it("so does the standard NODE_EXTRA_CA_CERTS", async () => {
    const d = fresh();
    const r = await runCli(["hydrate", "--source", `${privateCa.httpsUrl}/model/weights.bin`, "--dest", d, "--refuse-addresses", ""], {
      NODE_EXTRA_CA_CERTS: caFile,
    });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("hydrate and verify agree", () => {
  it("a directory hydrate refused is one verify fails too, and a published one both accept; a no-op re-run reports no throughput", async () => {
    const d = fresh();
    const args = ["--source", `${privateCa.url}/model/weights.bin`, "--sha256", sha(weights), "--dest", d, "--refuse-addresses", "", "--progress", "none"];
    const first = await runCli(["hydrate", ...args]);
    expect(first.code, first.stderr).toBe(0);
    const again = await runCli(["hydrate", ...args]);
    expect(again.code).toBe(0);
    expect(again.report.message).toBe("already published and verified: nothing fetched");
    expect(again.report.bytesPerSecond, "re-hashing what is there is not throughput").toBe(0);
    expect((await runCli(["verify", d, "--progress", "none"])).code).toBe(0);

    writeFileSync(join(d, "README.txt"), "dropped in later\n");
    const v = await runCliRaw(["verify", d, "--progress", "none", "--output", "json"]);
    expect(v.code).toBe(3);
    expect(v.stderr).toBe(`function-model-cache verify: ${d} does not verify: README.txt: not part of the artifact\n`);
    const h = await runCliRaw(["hydrate", ...args, "--output", "json"]);
    expect(h.code, "hydrate no longer 'repairs' and republishes around a foreign file").toBe(3);
    expect(h.stderr).toContain("already holds files that are not part of this artifact (README.txt)");
  });

  it("verify of a directory that does not exist says so", async () => {
    const d = join(work, "no-such-dir");
    const r = await runCliRaw(["verify", d, "--output", "json"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`function-model-cache verify: ${d} does not exist\n`);
    expect(HydrationReport.parse(JSON.parse(r.stdout)).message).toBe(`${d} does not exist`);
  });
});

describe("the result for a person, and for a machine", () => {
  it("--output human (the default on a terminal): what, from where, how much, how fast, the digest, where, the verify command; the command works as printed", async () => {
    const d = fresh();
    const r = await runCliRaw([
      "hydrate",
      "--source",
      `${privateCa.url}/model/weights.bin`,
      "--sha256",
      sha(weights),
      "--dest",
      d,
      "--refuse-addresses",
      "",
      "--progress",
      "none",
      "--output",
      "human",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(`Published: 1 file, 256.0 KiB in ${d}`);
    expect(lines[1]).toMatch(new RegExp(`^  from      ${privateCa.url}/model/weights\\.bin \\(sha256:[0-9a-f]{64}\\)$`));
    expect(lines[2]).toMatch(/^ {2}fetched {3}256\.0 KiB in [\d.]+ (ms|s) \([\d.]+ (B|KiB|MiB|GiB)\/s\)$/);
    expect(lines[3]).toMatch(/^ {2}digest {4}sha256:[0-9a-f]{64}$/);
    const verify =
      lines
        .find((l) => l.startsWith("  function-model-cache verify "))
        ?.trim()
        .split(" ") ?? [];
    expect(verify.slice(0, 3)).toEqual(["function-model-cache", "verify", d]);
    const v = await runCliRaw([...verify.slice(1), "--progress", "none", "--output", "human"]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^Verified: 1 file, 256\\.0 KiB in ${d}, every byte\\n`));

    const again = await runCliRaw([
      "hydrate",
      "--source",
      `${privateCa.url}/model/weights.bin`,
      "--sha256",
      sha(weights),
      "--dest",
      d,
      "--refuse-addresses",
      "",
      "--progress",
      "none",
      "--output",
      "human",
    ]);
    expect(again.stdout).toContain("  fetched   nothing: the directory already holds this artifact, verified again locally\n");
  });

  it("into a pipe (no --output): the JSON report as the last line, as the Job and scripts read it", async () => {
    const r = await runCli(["hydrate", "--source", `${privateCa.url}/model/config.json`, "--dest", fresh(), "--refuse-addresses", "", "--progress", "none"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.phase).toBe("Ready");
  });
});
