// Credentials of the gs:// source: a service-account JSON key (the file
// GOOGLE_APPLICATION_CREDENTIALS names; in a Job, the cache's Secret mounted
// read-only) exchanged for a short-lived access token with a signed JWT
// (OAuth 2.0 JWT bearer grant, RFC 7523), read-only scope. node:crypto signs
// it and the hydrator's guarded fetch sends it, so the key never leaves the
// process and the token request obeys --refuse-addresses like every other.
// Without a key, requests go unauthenticated (a public bucket, an emulator).
// The key's private key, the assertion and every token are remembered so no
// message can carry them (../scrub.ts).
import { createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Checked } from "../../common/checked.ts";
import { networkFailure } from "../network-errors.ts";
import { rememberSecret } from "../scrub.ts";
import { retryableStatus } from "./http-client.ts";
import { parseRetryAfter } from "./retry-after.ts";
import { SourceError } from "./types.ts";

/** Objects and their metadata, read only: the least the hydrator needs. */
export const GCS_READ_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only";
export const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
/** A token is renewed this long before it expires, so a read never starts with one about to lapse. */
const RENEW_MS = 5 * 60_000;

const ServiceAccountKey = z.object({
  type: z.literal("service_account"),
  client_email: z.string().min(1),
  private_key: z.string().includes("PRIVATE KEY"),
  private_key_id: z.string().optional(),
  token_uri: z.url({ protocol: /^https?$/ }).optional(),
});
type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;

/** What adds the Authorization header to a request (nothing for an anonymous client). */
export interface GcsAuth {
  headers(signal: AbortSignal): Promise<Record<string, string>>;
  /** For messages: whose credentials these are (the service account's email), or "anonymous". */
  readonly principal: string;
}

const ANONYMOUS: GcsAuth = { headers: async () => ({}), principal: "anonymous" };

/**
 * The key GOOGLE_APPLICATION_CREDENTIALS names, read when the first request needs it (a key that cannot be used is
 * a permanent failure of the source, exit 3, as a refused one is: the Secret's content, not the command line, is
 * wrong); anonymous when the variable is unset or empty.
 */
export function gcsAuthFromEnv(env: Record<string, string | undefined>): GcsAuth {
  const path = env["GOOGLE_APPLICATION_CREDENTIALS"];
  return path === undefined || path === "" ? ANONYMOUS : new ServiceAccountAuth(path);
}

/** The service-account key in the file at `path`, checked, or why it cannot be used. */
export function readServiceAccountKey(path: string): Checked<ServiceAccountKey> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, error: `GOOGLE_APPLICATION_CREDENTIALS ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: `GOOGLE_APPLICATION_CREDENTIALS ${path}: not JSON (expected a service-account key file)` };
  }
  const key = ServiceAccountKey.safeParse(json);
  if (!key.success) {
    const type = (json as { type?: unknown } | null)?.type;
    const what = typeof type === "string" && type !== "service_account" ? `a "${type}" credential` : "not a complete service-account key";
    return {
      ok: false,
      error: `GOOGLE_APPLICATION_CREDENTIALS ${path}: ${what}; the gs:// source takes a service-account JSON key (type, client_email, private_key)`,
    };
  }
  rememberSecret(key.data.private_key);
  // The key's body without its PEM armour, as it may appear in an echo.
  for (const line of key.data.private_key.split("\n")) if (line.length >= 32 && !line.startsWith("-----")) rememberSecret(line);
  return { ok: true, value: key.data };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

class ServiceAccountAuth implements GcsAuth {
  readonly #path: string;
  #loaded: Checked<ServiceAccountKey> | undefined;
  #token: { value: string; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  get principal(): string {
    return this.#loaded?.ok === true ? this.#loaded.value.client_email : `the key in ${this.#path}`;
  }

  /** The key, read once. */
  get #key(): ServiceAccountKey {
    this.#loaded ??= readServiceAccountKey(this.#path);
    if (!this.#loaded.ok) throw new SourceError(this.#loaded.error, { retryable: false });
    return this.#loaded.value;
  }

  get #tokenUri(): string {
    return this.#key.token_uri ?? DEFAULT_TOKEN_URI;
  }

  async headers(signal: AbortSignal): Promise<Record<string, string>> {
    const t = this.#token;
    if (t !== undefined && t.expiresAt - Date.now() > RENEW_MS) return { authorization: `Bearer ${t.value}` };
    // Parallel reads share one exchange; a failed one is not kept, so the next read asks again.
    this.#pending ??= this.#exchange(signal).finally(() => (this.#pending = undefined));
    return { authorization: `Bearer ${await this.#pending}` };
  }

  #assertion(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "RS256", typ: "JWT", ...(this.#key.private_key_id ? { kid: this.#key.private_key_id } : {}) };
    const claims = { iss: this.#key.client_email, scope: GCS_READ_SCOPE, aud: this.#tokenUri, iat: now, exp: now + 3600 };
    const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    let signature: string;
    try {
      signature = createSign("RSA-SHA256").update(unsigned).sign(this.#key.private_key, "base64url");
    } catch (err) {
      throw new SourceError(`the service-account key of ${this.principal} cannot sign (its private_key is not a usable RSA key)`, {
        retryable: false,
        cause: err,
      });
    }
    const assertion = `${unsigned}.${signature}`;
    rememberSecret(assertion);
    return assertion;
  }

  async #exchange(signal: AbortSignal): Promise<string> {
    const assertion = this.#assertion();
    const what = `the token endpoint ${new URL(this.#tokenUri).origin} (service account ${this.principal})`;
    const body = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion });
    let res: Response;
    try {
      res = await fetch(this.#tokenUri, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body,
        redirect: "error",
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new SourceError(`${what}: aborted`, { retryable: true, cause: err });
      const f = networkFailure(err, this.#tokenUri);
      throw new SourceError(`${what}: ${f?.text ?? (err as Error).message}`, { retryable: f?.retryable ?? true, cause: err });
    }
    const text = await res.text().catch(() => "");
    let json: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // Described below by its status.
    }
    if (res.status !== 200 || typeof json.access_token !== "string" || json.access_token === "") {
      const reason = [json.error, json.error_description].filter((v) => typeof v === "string").join(": ");
      const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
      throw new SourceError(
        `${what} refused the key: HTTP ${res.status}${reason ? ` ${reason}` : ""}${res.status === 200 ? " (no access_token in the answer)" : ""}`,
        { status: res.status, retryable: retryableStatus(res.status), ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}) },
      );
    }
    rememberSecret(json.access_token);
    const seconds = typeof json.expires_in === "number" && json.expires_in > 0 ? json.expires_in : 3600;
    this.#token = { value: json.access_token, expiresAt: Date.now() + seconds * 1000 };
    return json.access_token;
  }
}
