import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { authFilePath, credentialsFor, loadCredentials, parseChallenge, parseDockerConfig, parseTokenResponse } from "./oci-auth.ts";

const auth = (u: string, p: string): string => Buffer.from(`${u}:${p}`).toString("base64");

describe("parseChallenge", () => {
  it("reads a Bearer challenge with quoted parameters", () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"')).toEqual({
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull" },
    });
  });
  it("reads Basic, unquoted values and escapes", () => {
    expect(parseChallenge('Basic realm="a \\"quoted\\" realm"')).toEqual({ scheme: "basic", params: { realm: 'a "quoted" realm' } });
    expect(parseChallenge("Bearer realm=https://x/t, service=s")?.params).toEqual({ realm: "https://x/t", service: "s" });
    expect(parseChallenge(null)).toBeUndefined();
  });
});

describe("docker config credentials", () => {
  const cfg = (json: unknown) => {
    const parsed = parseDockerConfig(JSON.stringify(json), "cfg.json");
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.value;
  };

  it.each(["reg.example:5000", "https://reg.example:5000", "http://reg.example:5000/v2/", "REG.example:5000"])("matches the key %s to the host", (key) => {
    expect(credentialsFor(cfg({ auths: { [key]: { auth: auth("u", "p:w") } } }), "reg.example:5000", "cfg.json")).toEqual({
      ok: true,
      value: { username: "u", password: "p:w", from: "cfg.json" },
    });
  });

  it("treats Docker Hub's names as one registry and prefers explicit username/password", () => {
    const c = cfg({ auths: { "https://index.docker.io/v1/": { username: "u", password: "p" } } });
    expect(credentialsFor(c, "docker.io", "f")).toEqual({ ok: true, value: { username: "u", password: "p", from: "f" } });
  });

  it("has nothing for other hosts, and says so for helpers and identity tokens", () => {
    expect(credentialsFor(cfg({ auths: { "a.example": { auth: auth("u", "p") } } }), "b.example", "f")).toEqual({
      ok: true,
      value: undefined,
    });
    const helper = credentialsFor(cfg({ credHelpers: { "b.example": "ecr-login" } }), "b.example", "f");
    expect(helper.ok ? "" : helper.error).toContain("credential helper");
    const idt = credentialsFor(cfg({ auths: { "b.example": { identitytoken: "t" } } }), "b.example", "f");
    expect(idt.ok ? "" : idt.error).toContain("identity token");
    const bad = credentialsFor(cfg({ auths: { "b.example": { auth: "bm9jb2xvbg==" } } }), "b.example", "f");
    expect(bad.ok ? "" : bad.error).toContain("not base64 of user:password");
  });

  it("refuses what is not a docker config", () => {
    expect(parseDockerConfig("{", "f").ok).toBe(false);
    const wrong = parseDockerConfig('{"auths": []}', "f");
    expect(wrong.ok ? "" : wrong.error).toMatch(/^f: not a docker config \(auths:/);
  });

  it("looks in REGISTRY_AUTH_FILE, then DOCKER_CONFIG, then ~/.docker", () => {
    expect(authFilePath({ REGISTRY_AUTH_FILE: "/a.json", DOCKER_CONFIG: "/d" })).toBe("/a.json");
    expect(authFilePath({ DOCKER_CONFIG: "/d" })).toBe("/d/config.json");
    expect(authFilePath({ HOME: "/home/u" })).toBe("/home/u/.docker/config.json");
  });

  it("is anonymous without a default file, but an explicitly named file must exist", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fmc-auth-"));
    expect(await loadCredentials("r.example", { HOME: dir })).toEqual({ ok: true, value: undefined });
    const missing = await loadCredentials("r.example", { REGISTRY_AUTH_FILE: join(dir, "nope.json") });
    expect(missing.ok ? "" : missing.error).toContain("cannot read registry credentials from");
    await writeFile(join(dir, "a.json"), JSON.stringify({ auths: { "r.example": { auth: auth("u", "p") } } }));
    const found = await loadCredentials("r.example", { REGISTRY_AUTH_FILE: join(dir, "a.json") });
    expect(found.ok && found.value?.username).toBe("u");
  });
});

describe("parseTokenResponse", () => {
  it("takes token or access_token", () => {
    expect(parseTokenResponse({ token: "t" })).toEqual({ ok: true, value: "t" });
    expect(parseTokenResponse({ access_token: "a" })).toEqual({ ok: true, value: "a" });
    expect(parseTokenResponse({}).ok).toBe(false);
    expect(parseTokenResponse("x").ok).toBe(false);
  });
});
