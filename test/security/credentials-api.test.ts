// Issue 9, item 7 (the function's side): credentials by reference only. A URL
// with userinfo is refused, naming the field and the Secret reference to use
// instead; a presigned URL (its signature is the credential, and the only way
// some users can share) is accepted but never shown: not in status.source,
// the ArtifactPinned condition, an event, the replica's message, or the Job's
// arguments (it reaches the Job in the files ConfigMap). HTTP credentials
// from a Secret reach the Job by secretKeyRef, and only to hosts the platform
// allows. Driven through the real function over gRPC.
import { describe, expect, it } from "vitest";
import { fleet, modelCache, request as fleetRequest } from "../support/fleet-builders.ts";
import { baseXr, request as replicaRequest, tenancyInput } from "../support/replica-builders.ts";
import type { JsonObject } from "../../functions/sdk/types.ts";
import { runFunction } from "../support/client.ts";
import { call, fatals, fromWire, manifestOf, onCluster, realFunction, toWire, type Answer } from "./tenancy-support.ts";

const fn = realFunction();

const SHA = "b".repeat(64);
const SIGNATURE = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const SESSION = "FwoGZXIvYXdzEPresignedSessionToken";
const PRESIGNED = `https://models.s3.amazonaws.com/qwen3/model.gguf?X-Amz-Credential=AKIAPRESIGNED%2F20240101&X-Amz-Security-Token=${SESSION}&X-Amz-Signature=${SIGNATURE}`;
const SECRETS = [SIGNATURE, SESSION, "AKIAPRESIGNED", "X-Amz-Signature"];

const httpSpec = (http: JsonObject): JsonObject => ({
  artifact: { kind: "Weights", source: { http } },
  clusterSelector: { matchLabels: { region: "us-east1" } },
});

function job(a: Answer): JsonObject | undefined {
  return Object.values(a.desired)
    .map(manifestOf)
    .find((m) => m?.["kind"] === "Job");
}
function container(a: Answer): JsonObject | undefined {
  const pod = ((job(a)?.["spec"] as JsonObject | undefined)?.["template"] as JsonObject | undefined)?.["spec"] as JsonObject | undefined;
  return (pod?.["containers"] as JsonObject[] | undefined)?.[0];
}

describe("a URL carrying userinfo is refused, pointing to the Secret reference", () => {
  it.each([
    [
      "spec.artifact.source.http.url",
      httpSpec({ url: "https://robot:hunter2-password@models.example.com/m.gguf", sha256: SHA }),
      "spec.artifact.source.http.authSecretRef",
    ],
    [
      "spec.artifact.source.http.files[0].url",
      httpSpec({ files: [{ url: "https://hf_tok3n@models.example.com/m.gguf", path: "m.gguf", sha256: SHA }] }),
      "spec.artifact.source.http.authSecretRef",
    ],
    [
      "spec.artifact.source.huggingFace.endpoint",
      { artifact: { kind: "Weights", source: { huggingFace: { repo: "Qwen/Qwen3-8B", endpoint: "https://user:hunter2-password@mirror.example.com" } } } },
      "spec.artifact.source.huggingFace.tokenSecretRef",
    ],
  ])("%s", async (field, spec, secretField) => {
    const a = await call(fn.client(), fleetRequest(modelCache(spec), { clusters: fleet() }));
    const [f] = fatals(a);
    expect(f?.message).toContain(`${field}: must not carry credentials (user:password@): put them in a Secret and name it in ${secretField}`);
    // The refusal itself does not repeat the secret.
    expect(f?.message).not.toMatch(/hunter2|hf_tok3n/);
    expect(Object.keys(a.desired)).toEqual([]);
  });
});

describe("a presigned URL is accepted and never shown", () => {
  it("the ModelCache's status, conditions and events carry the URL without its query", async () => {
    const rsp = await runFunction(fn.client(), toWire(fleetRequest(modelCache(httpSpec({ url: PRESIGNED, sha256: SHA })), { clusters: fleet() })), 30_000);
    const a = fromWire(rsp);
    expect(fatals(a)).toEqual([]);
    expect(a.status["source"]).toBe("https://models.s3.amazonaws.com/qwen3/model.gguf");
    const pinned = rsp.conditions.find((c) => c.type === "ArtifactPinned");
    expect(pinned?.message).toContain("https://models.s3.amazonaws.com/qwen3/model.gguf pinned to");
    expect(a.results.find((r) => r.reason === "ArtifactPinned")?.message).toContain("https://models.s3.amazonaws.com/qwen3/model.gguf pinned to");
    // Everything the response shows a user: the composite's status, conditions, events (results).
    const shown = JSON.stringify({ status: a.status, conditions: rsp.conditions, results: a.results });
    for (const s of SECRETS) expect(shown, `status, a condition or an event carries ${s}`).not.toContain(s);
  });

  it("the Job gets it from the files ConfigMap, not its arguments; the replica's message does not show it", async () => {
    const a = await onCluster(fn.client(), "team-a", httpSpec({ url: PRESIGNED, sha256: SHA }));
    const c = container(a);
    const args = (c?.["args"] ?? []) as string[];
    expect(args).toContain("--files");
    for (const s of SECRETS) expect(JSON.stringify(c), `the Job's container carries ${s}`).not.toContain(s);
    for (const s of SECRETS) expect(JSON.stringify(a.status), `the replica's status carries ${s}`).not.toContain(s);
    // Where it does go: the ConfigMap mounted into the Job, as the URL given.
    const files = Object.values(a.desired)
      .map(manifestOf)
      .find((m) => m?.["kind"] === "ConfigMap" && JSON.stringify(m).includes("files.json"));
    expect(JSON.parse(String((files?.["data"] as JsonObject)["files.json"]))).toEqual([{ url: PRESIGNED, sha256: SHA }]);
  });
});

describe("HTTP credentials come from a Secret by reference, to allowed hosts only", () => {
  const withAuth = (scheme: "Bearer" | "Basic"): JsonObject => ({
    url: "https://models.example.com/m.gguf",
    sha256: SHA,
    authSecretRef: { name: "http-creds", scheme },
  });
  const allowHttp = tenancyInput({ credentialDestinations: { http: ["https://models.example.com"] } });

  it.each([
    ["Bearer", [{ name: "MODELCACHE_HTTP_TOKEN", valueFrom: { secretKeyRef: { name: "http-creds", key: "token" } } }]],
    [
      "Basic",
      [
        { name: "MODELCACHE_HTTP_USERNAME", valueFrom: { secretKeyRef: { name: "http-creds", key: "username" } } },
        { name: "MODELCACHE_HTTP_PASSWORD", valueFrom: { secretKeyRef: { name: "http-creds", key: "password" } } },
      ],
    ],
  ] as const)("%s: the Secret's keys reach the Job by secretKeyRef", async (scheme, env) => {
    const xr = baseXr({ artifact: { kind: "Weights", layout: "Flat", source: { http: withAuth(scheme) } } });
    const a = await call(fn.client(), replicaRequest(xr, {}, {}, {}, allowHttp));
    const got = ((container(a)?.["env"] ?? []) as JsonObject[]).filter((e) => String(e["name"]).startsWith("MODELCACHE_HTTP_"));
    expect(got).toEqual(env);
  });

  it("a host the platform did not list is refused, naming the URL's field and the rule", async () => {
    const a = await call(
      fn.client(),
      fleetRequest(modelCache(httpSpec({ ...withAuth("Bearer"), url: "https://attacker.example.net/m.gguf" })), { clusters: fleet() }),
    );
    const [f] = fatals(a);
    expect(f?.message).toContain("spec.artifact.source.http.url");
    expect(f?.message).toContain("tenancy.credentialDestinations.http");
    expect(f?.message).toContain("https://attacker.example.net");
  });
});

describe("Azure credentials come from a Secret by reference, to the account's blob host or an allowed endpoint only", () => {
  const azureSpec = (azure: JsonObject): JsonObject => ({
    artifact: { kind: "Weights", source: { azure } },
    clusterSelector: { matchLabels: { region: "us-east1" } },
  });

  it("a SAS token or account key reaches the Job by secretKeyRef, never as a value or an argument", async () => {
    const xr = baseXr({
      artifact: { kind: "Weights", layout: "Flat", source: { azure: { uri: "azure://acct/models/qwen/", credentialsSecretRef: { name: "azure-creds" } } } },
    });
    const a = await call(fn.client(), replicaRequest(xr));
    const c = container(a);
    const env = ((c?.["env"] ?? []) as JsonObject[]).filter((e) => String(e["name"]).startsWith("AZURE_STORAGE_"));
    expect(env).toEqual([
      { name: "AZURE_STORAGE_SAS_TOKEN", valueFrom: { secretKeyRef: { name: "azure-creds", key: "AZURE_STORAGE_SAS_TOKEN", optional: true } } },
      { name: "AZURE_STORAGE_KEY", valueFrom: { secretKeyRef: { name: "azure-creds", key: "AZURE_STORAGE_KEY", optional: true } } },
      { name: "AZURE_STORAGE_CREDENTIALS_SECRET", value: "azure-creds" },
    ]);
    expect(c?.["args"]).toEqual(expect.arrayContaining(["--source", "azure://acct/models/qwen/"]));
  });

  it("an endpoint the platform did not list is refused, naming the endpoint's field and the rule", async () => {
    const a = await call(
      fn.client(),
      fleetRequest(
        modelCache(azureSpec({ uri: "azure://acct/models/x", endpoint: "https://attacker.example.net/acct", credentialsSecretRef: { name: "c" } })),
        {
          clusters: fleet(),
        },
      ),
    );
    const [f] = fatals(a);
    expect(f?.message).toContain("spec.artifact.source.azure.endpoint");
    expect(f?.message).toContain("tenancy.credentialDestinations.azure");
    expect(f?.message).toContain("https://attacker.example.net");
    expect(Object.keys(a.desired)).toEqual([]);
  });

  it("the account's public-cloud blob host is allowed by default; a private endpoint once the platform lists it", async () => {
    const byDefault = await call(
      fn.client(),
      fleetRequest(modelCache(azureSpec({ uri: "azure://acct/models/x", credentialsSecretRef: { name: "c" } })), { clusters: fleet() }),
    );
    expect(fatals(byDefault)).toEqual([]);
    const priv = azureSpec({ uri: "azure://acct/models/x", endpoint: "https://acct.privatelink.blob.core.windows.net", credentialsSecretRef: { name: "c" } });
    expect(fatals(await call(fn.client(), fleetRequest(modelCache(priv), { clusters: fleet() })))).not.toEqual([]);
    const input = tenancyInput({ credentialDestinations: { azure: ["https://*.privatelink.blob.core.windows.net"] } });
    expect(fatals(await call(fn.client(), fleetRequest(modelCache(priv), { clusters: fleet(), input })))).toEqual([]);
  });
});
