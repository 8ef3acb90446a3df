// Maps what @azure/storage-blob throws (RestError) to the engine's
// SourceError: retryable on throttling, 5xx and network failures (with
// Retry-After), never on auth, missing blobs or a changed ETag, and always
// naming the blob and the cause in words, without any credential (the SAS
// token rides in every URL the SDK builds; scrub() drops URL queries and every
// remembered secret).
import { networkFailure } from "../network-errors.ts";
import { scrub } from "../scrub.ts";
import { parseRetryAfter } from "./retry-after.ts";
import { SourceError } from "./types.ts";

/** The parts of an SDK RestError we read; structural so tests can build one. */
interface RestErrorShape {
  name: string;
  message: string;
  code?: string;
  statusCode?: number;
  response?: { headers?: { get(name: string): string | undefined } };
}

// Storage error codes that are transient whatever status they came with.
const RETRYABLE_CODES = new Set(["ServerBusy", "OperationTimedOut", "InternalError"]);

function hint(code: string | undefined, status: number): string {
  switch (code) {
    case "AuthenticationFailed":
      return " (the account key in AZURE_STORAGE_KEY, or the SAS token in AZURE_STORAGE_SAS_TOKEN, is wrong or expired, or is for another account)";
    case "AuthorizationFailure":
      // Azure's word for a request its network rules refuse; Azurite's for a wrong key or a weak SAS token as well.
      return " (the credential was refused: a wrong or expired account key or SAS token, a SAS token without read and list permissions (sp=rl), or the account's network rules)";
    case "AuthorizationPermissionMismatch":
    case "AuthorizationResourceTypeMismatch":
    case "AuthorizationServiceMismatch":
      return " (the credential may not do this: a SAS token needs read and list permissions (sp=rl) on the container)";
    case "NoAuthenticationInformation":
      return " (the container is private: give a SAS token or the account key)";
    case "ContainerNotFound":
      return " (the container does not exist in this account: check the URI and --endpoint)";
    case "ResourceNotFound":
      return " (the container does not exist, or it is private and no credential was given)";
    case "BlobNotFound":
      return " (the blob was deleted since it was listed: run again to resolve the prefix anew)";
    case "ConditionNotMet":
      return " (the blob changed since it was listed: its ETag no longer matches; run again to resolve the new version)";
    case "InvalidRange":
      return " (the blob is shorter than listed: it changed since it was listed)";
    default:
      return status === 416 ? " (the blob is shorter than listed: it changed since it was listed)" : "";
  }
}

/**
 * A SourceError for a failed call on `what` (e.g. `azure://account/container/blob`); `endpoint` names the host when
 * the connection itself failed. Abort errors pass through unchanged so the engine sees its own cancellation.
 */
export function azureSourceError(err: unknown, what: string, endpoint: string): Error {
  if (err instanceof SourceError) return err;
  if (typeof err !== "object" || err === null) return new SourceError(scrub(`${what}: ${String(err)}`), { retryable: false, cause: err });
  const e = err as Partial<RestErrorShape>;
  if (e.name === "AbortError") return err as Error;
  const status = e.statusCode;
  if (status === undefined) {
    // No HTTP response: the connection failed (a refused address, TLS trust, DNS, a reset); in words, retried unless permanent.
    const f = networkFailure(err, endpoint);
    if (f !== undefined) return new SourceError(scrub(`${what}: ${f.text}`), { retryable: f.retryable, cause: err });
    return new SourceError(scrub(`${what}: ${e.code ?? e.name ?? "error"}: ${firstLine(e.message)}`), { retryable: true, cause: err });
  }
  const retryAfter = parseRetryAfter(e.response?.headers?.get("retry-after") ?? null);
  const retryable = status === 408 || status === 429 || status >= 500 || (e.code !== undefined && RETRYABLE_CODES.has(e.code));
  // A HEAD (get properties) has no body: the SDK names the error after the status alone.
  const code = e.code !== undefined && e.code !== "" ? e.code : `HTTP ${status}`;
  const message = firstLine(e.message);
  const detail = message !== "" && message !== code && !/^Unexpected status code: \d+$/.test(message) ? `: ${message}` : "";
  return new SourceError(scrub(`${what}: ${code} (${status})${detail}${hint(e.code, status)}`), {
    status,
    retryable,
    cause: err,
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  });
}

/** The service's message without its RequestId/Time lines (they differ on every call and say nothing to a person). */
function firstLine(message: string | undefined): string {
  return (message ?? "").split("\n")[0]?.trim() ?? "";
}
