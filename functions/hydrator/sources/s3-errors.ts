// Maps what the AWS SDK throws to the engine's SourceError: retryable on
// throttling, 5xx and network failures (with Retry-After), never retryable on
// auth or missing objects, and always naming the bucket/key and the cause
// without any credential.
import { parseRetryAfter } from "./retry-after.ts";
import { SourceError } from "./types.ts";

/** The parts of an SDK service exception we read; structural so tests can build one. */
interface ServiceErrorShape {
  name: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
  code?: string;
}

// Failures without an HTTP answer are network trouble and worth retrying,
// except a TLS certificate the client refuses: asking again will not change it.
// ERR_ADDRESS_REFUSED: --refuse-addresses (address-guard.ts); the same name resolves to the same refused address.
const PERMANENT_NETWORK_RE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|ERR_INVALID_URL|ERR_ADDRESS_REFUSED/;

// S3 error codes that are transient whatever status they came with.
const RETRYABLE_CODES = new Set(["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling"]);

function asServiceError(err: unknown): ServiceErrorShape | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as Partial<ServiceErrorShape>;
  if (typeof e.name !== "string" || typeof e.message !== "string") return undefined;
  return e as ServiceErrorShape;
}

/** Removes any credential value the environment holds from a message, in case a server echoes one. */
export function scrubSecrets(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  return out;
}

function hint(code: string, status: number | undefined): string {
  switch (code) {
    case "InvalidAccessKeyId":
      return " (the access key in AWS_ACCESS_KEY_ID is not known to this endpoint)";
    case "SignatureDoesNotMatch":
      return " (AWS_SECRET_ACCESS_KEY does not match the access key, or the region is wrong)";
    case "AccessDenied":
    case "Forbidden":
      return " (check the credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and the bucket policy)";
    case "NoSuchBucket":
      return " (the bucket does not exist at this endpoint; check --endpoint and --s3-path-style)";
    case "PreconditionFailed":
      return " (the object changed since it was listed; run again to resolve the new version)";
    default:
      return status === 301 ? " (the bucket lives in another region; set --s3-region)" : "";
  }
}

/**
 * A SourceError for a failed S3 call on `what` (e.g. `s3://bucket/key`).
 * Abort errors pass through unchanged so the engine sees its own cancellation.
 */
export function toSourceError(err: unknown, what: string, secrets: readonly string[] = []): Error {
  if (err instanceof SourceError) return err;
  const e = asServiceError(err);
  if (e === undefined) {
    return new SourceError(`${what}: ${String(err)}`, { retryable: false, cause: err });
  }
  if (e.name === "AbortError") return err as Error;
  const status = e.$metadata?.httpStatusCode;
  const nodeCode = e.code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (status === undefined || e.name === "TimeoutError") {
    // No HTTP response: the connection failed or stalled.
    const retryable = !PERMANENT_NETWORK_RE.test(nodeCode ?? "");
    return new SourceError(scrubSecrets(`${what}: ${nodeCode ?? e.name}: ${e.message}`, secrets), {
      retryable,
      cause: err,
    });
  }
  const retryAfter = parseRetryAfter(e.$response?.headers?.["retry-after"]);
  const retryable = status === 429 || status >= 500 || RETRYABLE_CODES.has(e.name);
  // HEAD responses carry no body, so the SDK names the error after the status ("NotFound", "403").
  const code = /^\d+$/.test(e.name) ? `HTTP ${e.name}` : e.name;
  const detail = e.message && e.message !== "UnknownError" && e.message !== e.name ? `: ${e.message}` : "";
  return new SourceError(scrubSecrets(`${what}: ${code} (${status})${detail}${hint(e.name, status)}`, secrets), {
    status,
    retryable,
    cause: err,
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}
