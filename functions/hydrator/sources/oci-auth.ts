// Registry credentials and the distribution auth handshake.
//
// Credentials come from a docker config JSON (the format of `docker login`,
// `oras login`, `podman login` and of Kubernetes `.dockerconfigjson` pull
// secrets): $REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json. A 401 carries `WWW-Authenticate`: `Basic` means send
// the credentials; `Bearer realm=...,service=...,scope=...` means fetch a
// token from the realm (with the credentials as basic auth, or anonymously)
// and send that.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import type { Checked } from "../../common/checked.ts";

export interface RegistryCredentials {
  username: string;
  password: string;
  /** Where they came from, for messages (a path, never the secret). */
  from: string;
}

const AuthEntry = z.looseObject({
  auth: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  identitytoken: z.string().optional(),
});

const DockerConfig = z.looseObject({
  auths: z.record(z.string(), AuthEntry).optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});
type DockerConfig = z.infer<typeof DockerConfig>;

/** The docker config file to read, in the order podman/oras/docker agree on. */
export function authFilePath(env: Record<string, string | undefined>): string {
  if (env["REGISTRY_AUTH_FILE"]) return env["REGISTRY_AUTH_FILE"];
  if (env["DOCKER_CONFIG"]) return join(env["DOCKER_CONFIG"], "config.json");
  return join(env["HOME"] ?? homedir(), ".docker", "config.json");
}

// Docker Hub is known by several names in config files.
const DOCKER_HUB = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** A config key ("https://host:port/v1/", "host") as a bare lowercase host[:port]. */
function normalizeKey(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
}

function sameRegistry(a: string, b: string): boolean {
  return a === b || (DOCKER_HUB.has(a) && DOCKER_HUB.has(b));
}

/** Credentials for `host` from an already parsed config; undefined when it has none; an error for unusable entries. */
export function credentialsFor(config: DockerConfig, host: string, from: string): Checked<RegistryCredentials | undefined> {
  const want = host.toLowerCase();
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (!sameRegistry(normalizeKey(key), want)) continue;
    if (entry.username !== undefined && entry.password !== undefined) {
      return { ok: true, value: { username: entry.username, password: entry.password, from } };
    }
    if (entry.auth !== undefined && entry.auth !== "") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) return { ok: false, error: `${from}: the "auth" entry for ${key} is not base64 of user:password` };
      return { ok: true, value: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), from } };
    }
    if (entry.identitytoken !== undefined) {
      return { ok: false, error: `${from}: the entry for ${key} holds an identity token, which is not supported` };
    }
  }
  const helper = Object.entries(config.credHelpers ?? {}).find(([k]) => sameRegistry(normalizeKey(k), want));
  if (helper !== undefined || (config.credsStore !== undefined && config.credsStore !== "")) {
    return {
      ok: false,
      error: `${from}: credentials for ${host} are kept by a credential helper, which is not supported; use an "auths" entry (e.g. a .dockerconfigjson pull secret)`,
    };
  }
  return { ok: true, value: undefined };
}

/** Parses a docker config JSON text. */
export function parseDockerConfig(text: string, from: string): Checked<DockerConfig> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${from}: not JSON (${(err as Error).message})` };
  }
  const parsed = DockerConfig.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${from}: not a docker config (${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""})` };
  }
  return { ok: true, value: parsed.data };
}

/**
 * Loads the credentials for `host`. A missing default file means anonymous
 * access; a file named by $REGISTRY_AUTH_FILE or $DOCKER_CONFIG must exist.
 */
export async function loadCredentials(host: string, env: Record<string, string | undefined>): Promise<Checked<RegistryCredentials | undefined>> {
  const path = authFilePath(env);
  const explicit = Boolean(env["REGISTRY_AUTH_FILE"] || env["DOCKER_CONFIG"]);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, value: undefined };
    return { ok: false, error: `cannot read registry credentials from ${path}: ${(err as Error).message}` };
  }
  const config = parseDockerConfig(text, path);
  if (!config.ok) return config;
  return credentialsFor(config.value, host, path);
}

export interface Challenge {
  scheme: string; // lowercased: "basic" | "bearer" | ...
  params: Record<string, string>;
}

/** Parses one `WWW-Authenticate` challenge: `Bearer realm="...",service="...",scope="..."`. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null) return undefined;
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (m === null || m[1] === undefined) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (const p of (m[2] ?? "").matchAll(re)) {
    if (p[1] === undefined) continue;
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: m[1].toLowerCase(), params };
}

export function basicAuthorization(creds: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, "utf8").toString("base64")}`;
}

const TokenResponse = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
});

/** Reads a token service's JSON answer: `token`, or the OAuth2 `access_token`. */
export function parseTokenResponse(json: unknown): Checked<string> {
  const parsed = TokenResponse.safeParse(json);
  if (!parsed.success) return { ok: false, error: "the token service answered with an unexpected JSON shape" };
  const token = parsed.data.token ?? parsed.data.access_token;
  if (token === undefined || token === "") return { ok: false, error: "the token service answered without a token" };
  return { ok: true, value: token };
}
