// The gRPC server as Crossplane meets it: started as a real process, spoken to
// by a real gRPC client over loopback.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT, freePort, spawnServing, startFunction, type FunctionProcess } from "../support/function-server.ts";
import { makeTestPki, type TestPki } from "../support/certs.ts";
import { newClient, runFunction } from "../support/client.ts";

interface HealthClient extends grpc.Client {
  Check(req: { service: string }, cb: (err: grpc.ServiceError | null, rsp?: { status: string }) => void): void;
}
interface HealthPackage {
  grpc: { health: { v1: { Health: new (address: string, creds: grpc.ChannelCredentials) => HealthClient } } };
}

const SCRIPTED = fileURLToPath(new URL("./fixtures/scripted-function.ts", import.meta.url));

function request(input?: Record<string, unknown>) {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input ?? {})) fields[k] = typeof v === "number" ? { numberValue: v } : { stringValue: String(v) };
  return {
    meta: { tag: "tag-123" },
    observed: { composite: { resource: { fields: { kind: { stringValue: "XThing" } } } } },
    desired: { resources: { earlier: { resource: { fields: { kind: { stringValue: "FromEarlierStep" } } } } } },
    ...(input ? { input: { fields } } : {}),
  } as Parameters<typeof runFunction>[1];
}

async function startScripted(): Promise<FunctionProcess> {
  const port = await freePort();
  return spawnServing(port, [SCRIPTED, "--insecure", "--address", `127.0.0.1:${port}`]);
}

/** With TLS the function needs its hydrator image by digest, as the released image sets it (functions/version.ts). */
const PINNED_IMAGE = `ghcr.io/function-model-cache/function-model-cache@sha256:${"a".repeat(64)}`;

describe("mutual TLS", () => {
  let pki: TestPki;
  let fn: FunctionProcess;
  beforeAll(async () => {
    pki = makeTestPki();
    fn = await startFunction(["--tls-certs-dir", pki.serverDir, "--hydrator-image", PINNED_IMAGE]);
  });
  afterAll(async () => {
    await fn?.stop();
  });

  it("serves a client whose certificate the CA signed", async () => {
    const client = newClient(fn.port, grpc.credentials.createSsl(pki.ca, pki.client.key, pki.client.cert));
    const rsp = await runFunction(client, request());
    expect(rsp.meta?.tag).toBe("tag-123");
    client.close();
  });

  it("serves Crossplane's own client certificate: the CA's subject, no key identifiers (OpenSSL's verifier calls it self-signed)", async () => {
    const client = newClient(fn.port, grpc.credentials.createSsl(pki.ca, pki.crossplaneClient.key, pki.crossplaneClient.cert));
    const rsp = await runFunction(client, request());
    expect(rsp.meta?.tag).toBe("tag-123");
    client.close();
  });

  const refused = [
    { reason: "a client that presents no certificate", creds: () => grpc.credentials.createSsl(pki.ca), why: "no client certificate" },
    {
      reason: "a client whose certificate another CA signed",
      creds: () => grpc.credentials.createSsl(pki.ca, pki.foreignClient.key, pki.foreignClient.cert),
      why: "is not signed by a CA in ca.crt",
    },
    {
      reason: "a client whose certificate is for servers only",
      creds: () => grpc.credentials.createSsl(pki.ca, pki.serverOnlyClient.key, pki.serverOnlyClient.cert),
      why: "is not for client authentication",
    },
  ];
  it.each(refused)("refuses $reason at the connection, and logs why", async ({ creds, why }) => {
    const client = newClient(fn.port, creds());
    await expect(runFunction(client, request(), 5_000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    client.close();
    // The line is written as the connection is closed; the client may see the close first.
    await fn.waitForOutput(why);
  });

  it("takes the certificates directory from TLS_SERVER_CERTS_DIR", async () => {
    const viaEnv = await startFunction([], { TLS_SERVER_CERTS_DIR: pki.serverDir, FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE: PINNED_IMAGE });
    const client = newClient(viaEnv.port, grpc.credentials.createSsl(pki.ca, pki.client.key, pki.client.cert));
    await expect(runFunction(client, request())).resolves.toMatchObject({ meta: { tag: "tag-123" } });
    client.close();
    await viaEnv.stop();
  });
});

describe("start-up", () => {
  it("refuses to start with neither certificates nor --insecure, and says why", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--address", "127.0.0.1:0"], {
      cwd: ROOT,
      env: { ...process.env, TLS_SERVER_CERTS_DIR: "" },
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(2);
    expect(err).toContain("refusing to start without credentials");
    expect(err).toContain("--tls-certs-dir");
  });

  it("answers the standard gRPC health check", async () => {
    const fn = await startFunction(["--insecure"]);
    const healthProto = fileURLToPath(new URL("../../node_modules/grpc-health-check/proto/health/v1/health.proto", import.meta.url));
    const loaded = grpc.loadPackageDefinition(loadSync(healthProto, { enums: String })) as unknown as HealthPackage;
    const health = new loaded.grpc.health.v1.Health(`127.0.0.1:${fn.port}`, grpc.credentials.createInsecure());
    const status = await new Promise<string | undefined>((resolve, reject) =>
      health.Check({ service: "apiextensions.fn.proto.v1.FunctionRunnerService" }, (e, r) => (e ? reject(e) : resolve(r?.status))),
    );
    expect(status).toBe("SERVING");
    health.close();
    await fn.stop();
  });
});

describe("message size", () => {
  // A request just over Crossplane's default 4 MiB limit.
  const big = () => request({ blob: "x".repeat(5 * 1024 * 1024) });

  it("refuses a request over 4 MiB by default", async () => {
    const fn = await startFunction(["--insecure"]);
    const client = newClient(fn.port);
    await expect(runFunction(client, big())).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    client.close();
    await fn.stop();
  });

  it("serves a request over 4 MiB when --max-recv-message-size allows it", async () => {
    const fn = await startFunction(["--insecure", "--max-recv-message-size", "8"]);
    const client = newClient(fn.port);
    const rsp = await runFunction(client, big());
    expect(rsp.meta?.tag).toBe("tag-123");
    client.close();
    await fn.stop();
  });
});

describe("calls", () => {
  it("echoes the tag, sets a TTL and passes earlier steps' desired resources through", async () => {
    const fn = await startFunction(["--insecure"]);
    const client = newClient(fn.port);
    const rsp = await runFunction(client, request());
    expect(rsp.meta?.tag).toBe("tag-123");
    expect(Number(rsp.meta?.ttl?.seconds)).toBeGreaterThan(0);
    expect(rsp.desired?.resources["earlier"]?.resource?.fields["kind"]?.stringValue).toBe("FromEarlierStep");
    client.close();
    await fn.stop();
  });

  it("turns an exception in the composition logic into a Fatal result, not a gRPC error", async () => {
    const fn = await startScripted();
    const client = newClient(fn.port);
    const rsp = await runFunction(client, request({ throw: "the composition blew up" }));
    expect(rsp.results).toHaveLength(1);
    expect(rsp.results[0]).toMatchObject({ severity: "SEVERITY_FATAL", reason: "InternalError" });
    expect(rsp.results[0]?.message).toContain("the composition blew up");
    // Nothing composed is dropped: the desired state still passes through.
    expect(rsp.desired?.resources["earlier"]).toBeDefined();
    // The process is still serving.
    await expect(runFunction(client, request())).resolves.toMatchObject({ results: [] });
    client.close();
    await fn.stop();
  });

  it("on SIGTERM lets a slow in-flight call finish, then exits 0", async () => {
    const fn = await startScripted();
    const client = newClient(fn.port);
    const slow = runFunction(client, request({ delayMs: 2000 }));
    await new Promise((r) => setTimeout(r, 300));
    fn.child.kill("SIGTERM");
    const rsp = await slow;
    expect(rsp.meta?.tag).toBe("tag-123");
    expect(rsp.results).toEqual([]);
    expect(await fn.exited).toBe(0);
    expect(fn.output()).toContain("draining in-flight calls");
    client.close();
  });
});
