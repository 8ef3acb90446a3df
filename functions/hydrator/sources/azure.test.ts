// The azure:// source's pure parts: the URI, the credential from the
// environment, the resolved identity, Content-MD5 as a check, and the errors
// in words. Listing and reads against Azurite: test/hydrator/azure.test.ts.
import { describe, expect, it } from "vitest";
import { azureSourceError } from "./azure-errors.ts";
import { azureIdentityDigest, createAzureSource, credentialFromEnv, md5Check, parseAzureUri, parseVersionsPin, versionsAt } from "./azure.ts";
import { SourceError } from "./types.ts";

describe("parseAzureUri", () => {
  it.each([
    ["azure://acct/models/qwen/", { account: "acct", container: "models", prefix: "qwen/" }, "a prefix"],
    ["azure://acct/models", { account: "acct", container: "models", prefix: "" }, "a whole container"],
    ["azure://acct/my-models/a b/ü.bin", { account: "acct", container: "my-models", prefix: "a b/ü.bin" }, "one blob, any characters"],
  ])("%s", (uri, want, _reason) => {
    expect(parseAzureUri(uri)).toEqual({ ok: true, value: want });
  });

  it.each([
    ["s3://acct/models", "not an azure:// URI", "another scheme"],
    ["azure://acct", "not an azure:// URI", "no container"],
    ["azure://Acct/models", 'invalid storage account name "Acct"', "uppercase account"],
    ["azure://ab/models", 'invalid storage account name "ab"', "too short an account"],
    ["azure://acct/Models", 'invalid container name "Models"', "uppercase container"],
    ["azure://acct/a--b", 'invalid container name "a--b"', "two hyphens in a row"],
    ["azure://acct/models/x?sv=1&sig=abc", "not an azure:// URI", "a query (a SAS token goes in the Secret)"],
  ])("refuses %s", (uri, want, _reason) => {
    const r = parseAzureUri(uri);
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toContain(want);
  });
});

describe("credentialFromEnv", () => {
  const key = Buffer.alloc(64, 7).toString("base64");
  it.each([
    [{}, { ok: true, value: { kind: "anonymous" } }, "nothing set: anonymous (a public container)"],
    [{ AZURE_STORAGE_KEY: key }, { ok: true, value: { kind: "key", key } }, "an account key"],
    [
      { AZURE_STORAGE_SAS_TOKEN: "?sv=2024&sp=rl&sig=abc%3D" },
      { ok: true, value: { kind: "sas", query: "sv=2024&sp=rl&sig=abc%3D" } },
      "a SAS token, leading ? dropped",
    ],
    [
      { AZURE_STORAGE_KEY: key, AZURE_STORAGE_SAS_TOKEN: "sig=x" },
      { ok: true, value: { kind: "sas", query: "sig=x" } },
      "both: the SAS token, the narrower credential",
    ],
    [
      { AZURE_STORAGE_KEY: "not base64!" },
      { ok: false, error: expect.stringContaining("AZURE_STORAGE_KEY is not an account key") },
      "a key that is not base64",
    ],
    [
      { AZURE_STORAGE_SAS_TOKEN: "sv=2024&sp=rl" },
      { ok: false, error: "AZURE_STORAGE_SAS_TOKEN is not a SAS token (it has no sig= parameter)" },
      "a token without a signature",
    ],
    [
      { AZURE_STORAGE_CREDENTIALS_SECRET: "creds" },
      { ok: false, error: "the Secret creds holds neither AZURE_STORAGE_KEY nor AZURE_STORAGE_SAS_TOKEN" },
      "a Secret named but empty: not silently anonymous",
    ],
  ])("%j: %j (%s)", (env, want, _reason) => {
    expect(credentialFromEnv(env)).toEqual(want);
  });
});

describe("createAzureSource", () => {
  it.each([
    ["ftp://host/acct", '--endpoint: "ftp://host/acct" is not http(s)', "not http(s)"],
    ["https://acct.blob.core.windows.net/?sv=1&sig=x", "--endpoint: the blob service URL carries no credentials, query or fragment", "a SAS in the endpoint"],
    ["http://169.254.169.254/acct", "the hydrator does not connect to 169.254.169.254", "a refused address written as an IP"],
  ])("refuses the endpoint %s", (endpoint, want, _reason) => {
    const r = createAzureSource({ uri: "azure://acct/models/x", endpoint, env: {}, refusedAddresses: ["LinkLocal", "Metadata"] });
    expect(r.ok ? "" : r.error).toContain(want);
  });
});

describe("azureIdentityDigest", () => {
  const a = { name: "a", size: 1, etag: "0x1" };
  const b = { name: "b", size: 2, etag: "0x2", versionId: "2026-01-01T00:00:00.0000000Z" };
  it("is the same for the same blobs in any order, and changes with an ETag, a version or a size", () => {
    expect(azureIdentityDigest([a, b])).toBe(azureIdentityDigest([b, a]));
    expect(azureIdentityDigest([a, b])).not.toBe(azureIdentityDigest([{ ...a, etag: "0x3" }, b]));
    expect(azureIdentityDigest([a, b])).not.toBe(azureIdentityDigest([a, { ...b, versionId: "2026-01-02T00:00:00.0000000Z" }]));
    expect(azureIdentityDigest([a, b])).not.toBe(azureIdentityDigest([{ ...a, size: 3 }, b]));
  });
  it("pins a versioned blob by its version, whatever its ETag", () => {
    expect(azureIdentityDigest([b])).toBe(azureIdentityDigest([{ ...b, etag: "0x9" }]));
  });
});

describe("md5Check", () => {
  it.each([
    [undefined, [], "no Content-MD5"],
    [new Uint8Array(16).fill(1), [{ algorithm: "md5", base64: "AQEBAQEBAQEBAQEBAQEBAQ==" }], "a whole MD5"],
    [new Uint8Array(4), [], "not 16 bytes: not an MD5"],
  ])("%s -> %j (%s)", (md5, want, _reason) => {
    expect(md5Check(md5)).toEqual(want);
  });
});

describe("azureSourceError", () => {
  const rest = (statusCode: number | undefined, code: string, message: string, headers: Record<string, string> = {}) => ({
    name: "RestError",
    statusCode,
    code,
    message,
    response: { headers: { get: (h: string) => headers[h] } },
  });
  it.each([
    [
      rest(412, "ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met.\nRequestId:x\nTime:y"),
      412,
      false,
      /ConditionNotMet \(412\): The condition.*is not met\. \(the blob changed since it was listed/,
    ],
    [rest(503, "ServerBusy", "Ingress is over the account limit.", { "retry-after": "7" }), 503, true, /ServerBusy \(503\)/],
    [rest(500, "InternalError", "oops"), 500, true, /InternalError \(500\)/],
    [rest(403, "AuthenticationFailed", "Server failed to authenticate the request."), 403, false, /AZURE_STORAGE_KEY/],
    [rest(404, "ContainerNotFound", "The specified container does not exist."), 404, false, /check the URI and --endpoint/],
    [rest(404, "", "Unexpected status code: 404"), 404, false, /^azure:\/\/a\/c\/x: HTTP 404 \(404\)$/],
  ])("%#: %j gives status %s, retryable %s", (err, status, retryable, message) => {
    const e = azureSourceError(err, "azure://a/c/x", "https://a.blob.core.windows.net") as SourceError;
    expect(e).toBeInstanceOf(SourceError);
    expect(e.status).toBe(status);
    expect(e.retryable).toBe(retryable);
    expect(e.message).toMatch(message);
    expect(e.message).not.toMatch(/RequestId|Time:/);
  });

  it("carries Retry-After", () => {
    expect((azureSourceError(rest(503, "ServerBusy", "busy", { "retry-after": "7" }), "w", "https://a") as SourceError).retryAfterSeconds).toBe(7);
  });

  it("reads a connection that never got an answer as a network failure; a refused address is permanent", () => {
    const refused = Object.assign(new Error("the hydrator does not connect to 169.254.169.254: link-local"), {
      name: "RestError",
      code: "ERR_ADDRESS_REFUSED",
    });
    const r = azureSourceError(refused, "azure://a/c/", "https://a.blob.core.windows.net") as SourceError;
    expect(r.retryable).toBe(false);
    expect(r.message).toBe("azure://a/c/: the hydrator does not connect to 169.254.169.254: link-local");
    const reset = Object.assign(new Error("socket hang up"), { name: "RestError", code: "ECONNRESET" });
    expect((azureSourceError(reset, "azure://a/c/", "https://a.blob.core.windows.net") as SourceError).retryable).toBe(true);
  });

  it("passes the engine's own cancellation through", () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
    expect(azureSourceError(abort, "w", "https://a")).toBe(abort);
  });
});

describe("the versions pin", () => {
  const D = `sha256:${"a".repeat(64)}`;
  it("parses the resolved revision of a versioned prefix, and refuses anything else, naming the flag", () => {
    expect(parseVersionsPin(`versions:2026-01-02T03:04:05.0000006Z:${D}`)).toEqual({ ok: true, value: { newest: "2026-01-02T03:04:05.0000006Z", digest: D } });
    for (const bad of [`etags:${D}`, `versions:${D}`, `versions:2026-01-02:${D}`, `versions:2026-01-02T03:04:05.0000006Z:sha256:xyz`]) {
      expect(parseVersionsPin(bad)).toEqual({ ok: false, error: `--azure-versions must be versions:<version id>:sha256:<64 hex digits>, not "${bad}"` });
    }
  });

  it.each([
    {
      reason: "the newest version no newer than the pin, per blob",
      newest: "2026-01-02T00:00:00.0000000Z",
      want: ["a@2026-01-01T00:00:00.0000000Z", "b@2026-01-02T00:00:00.0000000Z"],
    },
    { reason: "a blob made after the pin is not in the set", newest: "2026-01-01T12:00:00.0000000Z", want: ["a@2026-01-01T00:00:00.0000000Z"] },
    {
      reason: "a later pin sees the overwrite",
      newest: "2026-01-03T00:00:00.0000000Z",
      want: ["a@2026-01-03T00:00:00.0000000Z", "b@2026-01-02T00:00:00.0000000Z"],
    },
  ])("versionsAt: $reason", ({ newest, want }) => {
    const all = [
      { name: "a", versionId: "2026-01-01T00:00:00.0000000Z" },
      { name: "b", versionId: "2026-01-02T00:00:00.0000000Z" },
      { name: "a", versionId: "2026-01-03T00:00:00.0000000Z" },
      { name: "c" },
    ];
    expect(
      versionsAt(all, newest)
        .map((v) => `${v.name}@${v.versionId}`)
        .sort(),
    ).toEqual(want);
  });

  it("refuses a pin that is not one, naming the flag", () => {
    const r = createAzureSource({ uri: "azure://acct/models/x", env: {}, pinnedVersions: "etags:sha256:00" });
    expect(r.ok ? "" : r.error).toContain("--azure-versions must be versions:<version id>");
  });
});
